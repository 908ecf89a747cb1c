namespace LoadTest.Reporting;

/// <summary>Writes a report directory: report.md, CSV data and PNG charts.</summary>
public static class ReportWriter
{
    /// <summary>Writes <paramref name="document"/> into <paramref name="directory"/> (created if needed) and returns the files written.</summary>
    public static IReadOnlyList<string> Write(string directory, ReportDocument document)
    {
        ArgumentNullException.ThrowIfNull(document);
        Directory.CreateDirectory(directory);
        var csvFiles = new List<string> { "timeline.csv", "minutes.csv", "percentiles.csv" };
        var charts = new List<string> { "throughput.png", "latency.png", "percentiles.png" };

        CsvReport.Timeline(Path.Combine(directory, "timeline.csv"), document.Measured);
        CsvReport.Windows(Path.Combine(directory, "minutes.csv"), document.Measured);
        var percentileRuns = document.Setup is { } setup ? document.Measured.Prepend(setup) : document.Measured;
        CsvReport.Percentiles(Path.Combine(directory, "percentiles.csv"), percentileRuns);
        Charts.Throughput(Path.Combine(directory, "throughput.png"), document.Measured);
        Charts.LatencyOverTime(Path.Combine(directory, "latency.png"), document.Measured);
        Charts.PercentileCurve(Path.Combine(directory, "percentiles.png"), PercentileSeries(document));

        if (document.Search is { } search)
        {
            CsvReport.FindMax(Path.Combine(directory, "findmax.csv"), search);
            Charts.FindMax(Path.Combine(directory, "findmax.png"), search);
            csvFiles.Add("findmax.csv");
            charts.Add("findmax.png");
        }

        if (document.FlashCrowd is { } crowd)
        {
            CsvReport.Users(Path.Combine(directory, "users.csv"), crowd);
            Charts.EtaAccuracy(Path.Combine(directory, "eta.png"), crowd);
            csvFiles.Add("users.csv");
            charts.Add("eta.png");
        }

        if (document.Pace is { } pace)
        {
            CsvReport.Pace(Path.Combine(directory, "pace.csv"), pace);
            Charts.Pace(Path.Combine(directory, "pace.png"), pace, document.Title);
            csvFiles.Add("pace.csv");
            charts.Insert(0, "pace.png");
        }

        File.WriteAllText(Path.Combine(directory, "report.md"), MarkdownReport.Render(document, charts, csvFiles));
        return [.. csvFiles.Concat(charts).Prepend("report.md").Select(file => Path.Combine(directory, file))];
    }

    // One curve per step of a single run; one per rate for find-max, where each step has one request type.
    private static IEnumerable<(string Label, HdrHistogram.HistogramBase Histogram)> PercentileSeries(ReportDocument document) =>
        document.Search is { } search
            ? search.Steps.Select(step => (MarkdownReport.StepLabel(step), step.Result.Latency))
            : document.Measured.SelectMany(run => run.Result.Steps.Select(step => (step.Name, step.Histogram)));
}
