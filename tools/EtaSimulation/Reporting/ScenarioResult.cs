using Gateway.EtaSimulation.Scenarios;

namespace Gateway.EtaSimulation.Reporting;

/// <summary>
/// What one scenario run produced. <see cref="AtJoin"/> holds each admitted user's first ETA (the one the
/// production metric scores), <see cref="Later"/> every ETA given on a later status poll; both only where
/// the wait that followed was at least a second (shorter waits are straight from the bucket).
/// </summary>
internal sealed record ScenarioResult(
    Scenario Scenario,
    int Seed,
    int Joined,
    int ReachedTurn,
    int Abandoned,
    int LostPlace,
    IReadOnlyList<EtaSample> AtJoin,
    IReadOnlyList<EtaSample> Later,
    IReadOnlyList<double> ProductionMetric,
    TimeSpan SimulatedTime,
    TimeSpan WallTime,
    long StoreCalls)
{
    public AccuracySummary JoinAccuracy { get; } = AccuracySummary.Ours(AtJoin);

    public AccuracySummary LaterAccuracy { get; } = AccuracySummary.Ours(Later);

    public AccuracySummary OriginalJoinAccuracy { get; } = AccuracySummary.Original(AtJoin);

    public AccuracySummary OriginalLaterAccuracy { get; } = AccuracySummary.Original(Later);

    public Calibration Calibration { get; } = Calibration.Of([.. AtJoin, .. Later], s => s.Confidence, s => s.Accuracy);

    public Calibration OriginalCalibration { get; } = Calibration.Of([.. AtJoin, .. Later], s => s.OriginalConfidence, s => s.OriginalAccuracy);
}
