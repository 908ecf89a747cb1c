namespace Gateway.EtaSimulation.Reporting;

/// <summary>
/// One ETA a user was given, next to the wait that followed: <see cref="Actual"/> seconds from when it was
/// given until the user's turn (the store's ready time). The original model's answer to the same question
/// is kept alongside for comparison.
/// </summary>
internal readonly record struct EtaSample(double Predicted, double Confidence, double Actual, double OriginalPredicted, double OriginalConfidence)
{
    /// <summary>The per-user accuracy: max(0, 1 - |predicted - actual| / actual).</summary>
    public double Accuracy => Score(Predicted, Actual);

    public double OriginalAccuracy => Score(OriginalPredicted, Actual);

    public static double Score(double predicted, double actual) => Math.Max(0, 1 - Math.Abs(predicted - actual) / actual);
}
