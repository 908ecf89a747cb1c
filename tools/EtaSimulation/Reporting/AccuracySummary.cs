namespace Gateway.EtaSimulation.Reporting;

/// <summary>Mean, 10th and 50th percentile of per-sample accuracies, and the mean signed error (predicted - actual) relative to actual.</summary>
internal sealed record AccuracySummary(int Count, double Mean, double P10, double P50, double Bias)
{
    public static AccuracySummary Of(IReadOnlyList<double> accuracies, IReadOnlyList<double>? relativeErrors = null)
    {
        if (accuracies.Count == 0)
            return new AccuracySummary(0, double.NaN, double.NaN, double.NaN, double.NaN);
        var sorted = accuracies.Order().ToArray();
        return new AccuracySummary(sorted.Length, sorted.Average(), Percentile(sorted, 0.10), Percentile(sorted, 0.50),
            relativeErrors is { Count: > 0 } ? relativeErrors.Average() : double.NaN);
    }

    public static AccuracySummary Ours(IReadOnlyList<EtaSample> samples) =>
        Of(samples.Select(s => s.Accuracy).ToArray(), samples.Select(s => (s.Predicted - s.Actual) / s.Actual).ToArray());

    public static AccuracySummary Original(IReadOnlyList<EtaSample> samples) =>
        Of(samples.Select(s => s.OriginalAccuracy).ToArray(), samples.Select(s => (s.OriginalPredicted - s.Actual) / s.Actual).ToArray());

    /// <summary>Nearest-rank percentile of an ascending array.</summary>
    public static double Percentile(double[] sorted, double p) =>
        sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
}
