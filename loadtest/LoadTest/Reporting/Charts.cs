using HdrHistogram;
using LoadTest.Engine;
using LoadTest.Scenarios;
using ScottPlot;

namespace LoadTest.Reporting;

/// <summary>PNG charts of a report, drawn with ScottPlot.</summary>
internal static class Charts
{
    private const int Width = 1200;
    private const int Height = 500;

    // Highest "nines" shown on the percentile axis: 99.9999%.
    private const int MaxNines = 6;

    public static void Throughput(string path, IReadOnlyList<ReportRun> runs)
    {
        // A run's last interval can be a few milliseconds long; as a rate it would be noise.
        var points = TimelinePoints(runs).Where(p => p.Point.IntervalSeconds >= 0.5).ToArray();
        var plot = NewPlot("Throughput over time", "elapsed (s)", "requests per second");
        Line(plot, points.Select(p => p.X).ToArray(), points.Select(p => p.Point.Throughput).ToArray(), "achieved (completed/s)");
        var targeted = points.Where(p => p.Point.TargetRate is not null).ToArray();
        if (targeted.Length > 0)
        {
            Line(plot, targeted.Select(p => p.X).ToArray(), targeted.Select(p => p.Point.TargetRate!.Value).ToArray(), "target (scheduled/s)")
                .LinePattern = LinePattern.Dashed;
        }

        Line(plot, points.Select(p => p.X).ToArray(), points.Select(p => p.Point.Errors / Math.Max(p.Point.IntervalSeconds, 1e-9)).ToArray(), "errors/s");
        Save(plot, path);
    }

    public static void LatencyOverTime(string path, IReadOnlyList<ReportRun> runs)
    {
        var points = TimelinePoints(runs).Where(p => p.Point.Completed > 0).ToArray();
        var plot = NewPlot("Latency over time (per second, completed requests)", "elapsed (s)", "latency (ms)");
        var xs = points.Select(p => p.X).ToArray();
        Line(plot, xs, points.Select(p => p.Point.Latency.P50Ms).ToArray(), "p50");
        Line(plot, xs, points.Select(p => p.Point.Latency.P99Ms).ToArray(), "p99");
        Line(plot, xs, points.Select(p => p.Point.Latency.MaxMs).ToArray(), "max");
        Save(plot, path);
    }

    /// <summary>HdrHistogram-style percentile curve: the x axis is in "nines" (90%, 99%, 99.9% ...).</summary>
    public static void PercentileCurve(string path, IEnumerable<(string Label, HistogramBase Histogram)> series)
    {
        var plot = NewPlot("Latency by percentile", "percentile", "latency (ms)");
        var widest = 1.0;
        foreach (var (label, histogram) in series.Where(s => s.Histogram.TotalCount > 0))
        {
            // Beyond 1 / count the percentiles are all the max: stop the curve there.
            var limit = Math.Min(MaxNines, Math.Log10(histogram.TotalCount));
            widest = Math.Max(widest, limit);
            var curve = histogram.Percentiles(5)
                .Select(value => (X: Math.Min(limit, Nines(value.PercentileLevelIteratedTo)), Y: value.ValueIteratedTo / 1000.0))
                .ToArray();
            Line(plot, curve.Select(c => c.X).ToArray(), curve.Select(c => c.Y).ToArray(), label);
        }

        var ticks = Enumerable.Range(0, MaxNines + 1).Select(nines => (double)nines).ToArray();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            ticks, ticks.Select(nines => nines == 0 ? "0%" : (100 - (100 / Math.Pow(10, nines))).ToString("0.#####", System.Globalization.CultureInfo.InvariantCulture) + "%").ToArray());
        plot.Axes.SetLimitsX(0, Math.Ceiling(widest));
        Save(plot, path);
    }

    public static void FindMax(string path, RateSearchResult search)
    {
        var plot = NewPlot("Find-max: latency by target rate", "target rate (per second)", "latency (ms)");
        var rates = search.Steps.Select(step => step.TargetRate).ToArray();
        Line(plot, rates, search.Steps.Select(step => step.Result.Overall.P50Ms).ToArray(), "p50");
        Line(plot, rates, search.Steps.Select(step => step.Result.Overall.P99Ms).ToArray(), "p99");
        var limit = plot.Add.HorizontalLine(search.Options.P99Limit.TotalMilliseconds);
        limit.LegendText = "p99 limit";
        limit.LinePattern = LinePattern.Dashed;
        if (search.KneeRate is { } knee)
        {
            var line = plot.Add.VerticalLine(knee);
            line.LegendText = "knee";
            line.LinePattern = LinePattern.Dotted;
        }

        Save(plot, path);
    }

    public static void EtaAccuracy(string path, FlashCrowdResult crowd)
    {
        var users = crowd.Users.Where(user => user.EtaAtJoinSec is not null && user.WaitSec is not null).ToArray();
        var plot = NewPlot("ETA shown at join vs real wait (one dot per admitted user)", "real wait (s)", "eta_sec at join (s)");
        var dots = plot.Add.Scatter(users.Select(user => user.WaitSec!.Value).ToArray(), users.Select(user => user.EtaAtJoinSec!.Value).ToArray());
        dots.LineWidth = 0;
        dots.MarkerSize = 4;
        dots.LegendText = "users";
        var longest = users.Length == 0 ? 1 : users.Max(user => Math.Max(user.WaitSec!.Value, user.EtaAtJoinSec!.Value));
        var perfect = Line(plot, [0, longest], [0, longest], "perfect estimate");
        perfect.LinePattern = LinePattern.Dashed;
        Save(plot, path);
    }

    /// <summary>The room's effective rate against what the backends take, with what they were sent and turned away, per second.</summary>
    public static void Pace(string path, PaceResult pace, string title)
    {
        var samples = pace.Samples;
        var backends = Math.Max(1, pace.Options.Backends.Count);
        var plot = NewPlot(title, "elapsed (s)", "per second (per backend for backend counts)");
        var xs = samples.Select(s => s.Seconds).ToArray();
        var capacity = Line(plot, xs, samples.Select(s => s.Capacity).ToArray(), "backend capacity");
        capacity.ConnectStyle = ConnectStyle.StepHorizontal;
        capacity.LinePattern = LinePattern.Dashed;
        capacity.LineWidth = 3;
        var top = samples.Select(s => s.Capacity).DefaultIfEmpty(1).Max() * 2.2;
        var rated = samples.Where(s => s.EffectiveRate is not null).ToArray();
        var highest = rated.Select(s => s.EffectiveRate!.Value).DefaultIfEmpty(0).Max();
        // A room left at 5x the backends' pace would flatten everything else: clip it, and say so.
        Line(plot, rated.Select(s => s.Seconds).ToArray(), rated.Select(s => Math.Min(s.EffectiveRate!.Value, top)).ToArray(),
            highest > top ? FormattableString.Invariant($"room's effective rate (clipped; up to {highest:0}/s)") : "room's effective rate");
        var pairs = samples.Zip(samples.Skip(1)).Where(p => p.Second.Seconds > p.First.Seconds).ToArray();
        double PerSecond(PaceSample a, PaceSample b, double value) => value / (b.Seconds - a.Seconds);
        var mids = pairs.Select(p => p.Second.Seconds).ToArray();
        Line(plot, mids, pairs.Select(p => PerSecond(p.First, p.Second, p.Second.Client.Admitted - p.First.Client.Admitted)).ToArray(), "admitted users/s");
        Line(plot, mids, pairs.Select(p => PerSecond(p.First, p.Second, p.Second.BackendServed - p.First.BackendServed) / backends).ToArray(), "backend served/s");
        Line(plot, mids, pairs.Select(p => PerSecond(p.First, p.Second, p.Second.BackendRejected - p.First.BackendRejected) / backends).ToArray(), "backend 503/s");
        Line(plot, mids, pairs.Select(p => PerSecond(p.First, p.Second, p.Second.Client.GatedGateway503 - p.First.Client.GatedGateway503) / backends).ToArray(), "gateway 503 (breaker)/s");
        plot.Axes.SetLimitsY(0, top * 1.02);
        Save(plot, path);
    }

    private static (double X, TimelinePoint Point)[] TimelinePoints(IReadOnlyList<ReportRun> runs) =>
        CsvReport.WithOffsets(runs)
            .SelectMany(item => item.Run.Result.Timeline.Select(point => (item.Offset + point.ElapsedSeconds, point)))
            .ToArray();

    private static double Nines(double percentile) => percentile >= 100 ? MaxNines : -Math.Log10(1 - (percentile / 100));

    private static Plot NewPlot(string title, string xLabel, string yLabel)
    {
        var plot = new Plot();
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        return plot;
    }

    private static ScottPlot.Plottables.Scatter Line(Plot plot, double[] xs, double[] ys, string label)
    {
        var line = plot.Add.Scatter(xs, ys);
        line.LegendText = label;
        line.MarkerSize = 0;
        line.LineWidth = 2;
        return line;
    }

    private static void Save(Plot plot, string path)
    {
        plot.ShowLegend(Alignment.UpperLeft);
        plot.SavePng(path, Width, Height);
    }
}
