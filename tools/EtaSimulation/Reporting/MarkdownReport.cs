using System.Globalization;
using System.Text;

namespace Gateway.EtaSimulation.Reporting;

/// <summary>Renders results as the Markdown tables docs/ETA.md carries.</summary>
internal static class MarkdownReport
{
    public static string Render(IReadOnlyList<ScenarioResult> results, string store, string command)
    {
        var md = new StringBuilder();
        md.AppendLine(Invariant($"Store: {store}. Reproduce with `{command}`."));
        md.AppendLine();
        md.AppendLine("| scenario | users | scored at join | at join: mean / p10 / p50 | bias | later ETAs | later: mean / p10 / p50 | original at join: mean / p10 / p50 | original later: mean | production metric mean |");
        md.AppendLine("|---|---:|---:|---|---:|---:|---|---|---:|---:|");
        foreach (var r in results)
        {
            md.AppendLine(Invariant($"| {r.Scenario.Name}{(r.Scenario.Steady ? " (steady)" : "")} | {r.Joined:N0} | {r.JoinAccuracy.Count:N0} | {Triple(r.JoinAccuracy)} | {Signed(r.JoinAccuracy.Bias)} | {r.LaterAccuracy.Count:N0} | {Triple(r.LaterAccuracy)} | {Triple(r.OriginalJoinAccuracy)} | {Pct(r.OriginalLaterAccuracy.Mean)} | {Pct(r.ProductionMetric.Count > 0 ? r.ProductionMetric.Average() : double.NaN)} |"));
        }
        md.AppendLine();
        md.AppendLine("Confidence against outcome (all ETAs of all scenarios, at join and later):");
        md.AppendLine();
        var all = results.SelectMany(r => r.AtJoin.Concat(r.Later)).ToArray();
        var ours = Calibration.Of(all, s => s.Confidence, s => s.Accuracy);
        var original = Calibration.Of(all, s => s.OriginalConfidence, s => s.OriginalAccuracy);
        md.AppendLine("| model | confidence band | ETAs | mean confidence | mean accuracy | p10 accuracy |");
        md.AppendLine("|---|---|---:|---:|---:|---:|");
        foreach (var (name, calibration) in new[] { ("ours", ours), ("original", original) })
        {
            foreach (var band in calibration.Bands)
                md.AppendLine(Invariant($"| {name} | {band.Low:0.00}-{band.High:0.00} | {band.Count:N0} | {band.MeanConfidence:0.00} | {Pct(band.MeanAccuracy)} | {Pct(band.P10Accuracy)} |"));
        }
        md.AppendLine();
        md.AppendLine(Invariant($"Rank correlation between confidence and accuracy: ours {ours.RankCorrelation:0.00}, original {original.RankCorrelation:0.00}. Calibration error (mean |confidence - accuracy| over bands, weighted by ETAs): ours {ours.CalibrationError:0.000}, original {original.CalibrationError:0.000}."));
        md.AppendLine();
        md.AppendLine("By length of the ETA given (ours, all scenarios):");
        md.AppendLine();
        md.AppendLine("| ETA given | ETAs | mean confidence | mean accuracy | p10 accuracy | mean abs. error |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|");
        double[] edges = [1, 3, 6, 11, 31, 61, 301, 901, double.PositiveInfinity];
        for (var i = 0; i + 1 < edges.Length; i++)
        {
            var (low, high) = (edges[i], edges[i + 1]);
            var inRange = all.Where(s => s.Predicted >= low && s.Predicted < high).ToArray();
            if (inRange.Length == 0)
                continue;
            var accuracies = inRange.Select(s => s.Accuracy).Order().ToArray();
            var label = double.IsPositiveInfinity(high) ? Invariant($"{low:0} s and more") : Invariant($"{low:0}-{high - 1:0} s");
            md.AppendLine(Invariant($"| {label} | {inRange.Length:N0} | {inRange.Average(s => s.Confidence):0.00} | {Pct(accuracies.Average())} | {Pct(AccuracySummary.Percentile(accuracies, 0.10))} | {inRange.Average(s => Math.Abs(s.Predicted - s.Actual)):0.0} s |"));
        }
        md.AppendLine();
        md.AppendLine("| scenario | reached their turn | abandoned | lost place | simulated | wall clock | store calls |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var r in results)
            md.AppendLine(Invariant($"| {r.Scenario.Name} | {r.ReachedTurn:N0} | {r.Abandoned:N0} | {r.LostPlace:N0} | {r.SimulatedTime:h\\:mm\\:ss} | {r.WallTime.TotalSeconds:0.0} s | {r.StoreCalls:N0} |"));
        return md.ToString();
    }

    private static string Triple(AccuracySummary s) => s.Count == 0 ? "-" : $"{Pct(s.Mean)} / {Pct(s.P10)} / {Pct(s.P50)}";

    private static string Signed(double value) =>
        Math.Round(value, 3) == 0 ? "0.0%" : (value > 0 ? "+" : "-") + Pct(Math.Abs(value));

    private static string Pct(double value) => double.IsNaN(value) ? "-" : value.ToString("0.0%", CultureInfo.InvariantCulture);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
