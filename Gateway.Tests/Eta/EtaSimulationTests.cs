using Gateway.EtaSimulation.Engine;
using Gateway.EtaSimulation.Reporting;
using Gateway.EtaSimulation.Scenarios;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Eta;

/// <summary>
/// Runs every quick-size scenario once against a real redis-server (fake clock, production queue code; see
/// tools/EtaSimulation) and holds the ETA to floors the harness actually reaches. The full-size numbers are
/// in docs/ETA.md. Results are deterministic for a seed, so these floors do not flake.
/// </summary>
public sealed class EtaSimulationFixture : IAsyncLifetime
{
    private RedisServer? _redis;

    internal IReadOnlyDictionary<string, ScenarioResult> Results { get; private set; } = new Dictionary<string, ScenarioResult>();

    public async Task InitializeAsync()
    {
        _redis = await RedisServer.StartNewAsync();
        await using var store = await SimulationStore.StartAsync(_redis.ConnectionString);
        var results = new Dictionary<string, ScenarioResult>();
        foreach (var scenario in ScenarioCatalog.Quick)
            results[scenario.Name] = await Simulation.RunAsync(scenario, store, seed: 1);
        Results = results;
    }

    public async Task DisposeAsync()
    {
        if (_redis is not null)
            await _redis.DisposeAsync();
    }
}

public sealed class EtaSimulationTests(EtaSimulationFixture fixture) : IClassFixture<EtaSimulationFixture>
{
    public static TheoryData<string> Steady => [.. ScenarioCatalog.Quick.Where(s => s.Steady).Select(s => s.Name)];

    public static TheoryData<string> All => [.. ScenarioCatalog.Quick.Select(s => s.Name)];

    /// <summary>The p10 of the ETA at join each scenario reaches (quick size, seed 1), rounded down.</summary>
    public static TheoryData<string, double, double> Floors => new()
    {
        // scenario, mean at join, p10 at join
        { "flash-crowd", 0.99, 0.98 },
        { "steady-stream", 0.98, 0.97 },
        { "late-pollers", 0.98, 0.97 },
        { "rate-change", 0.94, 0.75 },
        // With people who give up, the line now moves faster than the refill alone: the token of someone let in
        // who never enters comes back to the bucket (CONTRACT v2), which an ETA given at join cannot foresee
        // before the room's history shows it (docs/ETA.md). Floors measured after that change.
        // 0.95 / 0.92 before a place that stops polling lived AbandonAfter to 1.25x from its last poll (it was 0.75x to
        // 1x, sooner than AbandonAfter): 94.5% / 90.2% after.
        { "abandon-20", 0.94, 0.90 },
        { "flash-abandon-20", 0.92, 0.89 },
    };

    [Theory]
    [MemberData(nameof(Steady))]
    public void SteadyScenario_MeanAccuracyAtJoinAndLater_IsAtLeast97Percent(string scenario)
    {
        var result = fixture.Results[scenario];
        Assert.True(result.JoinAccuracy.Count > 1000, $"only {result.JoinAccuracy.Count} users scored");
        Assert.InRange(result.JoinAccuracy.Mean, 0.97, 1.0);
        Assert.InRange(result.LaterAccuracy.Mean, 0.97, 1.0);
    }

    [Theory]
    [MemberData(nameof(All))]
    public void EveryScenario_MeanAccuracyAtJoinIsAtLeast90Percent_AndLaterAtLeast88Percent(string scenario)
    {
        var result = fixture.Results[scenario];
        Assert.InRange(result.JoinAccuracy.Mean, 0.90, 1.0);
        // Later ETAs have shorter horizons, so tokens given back (see Floors) weigh more in them.
        Assert.InRange(result.LaterAccuracy.Mean, 0.88, 1.0);
        Assert.True(result.LaterAccuracy.Count > 1000, $"only {result.LaterAccuracy.Count} later ETAs scored");
    }

    [Theory]
    [MemberData(nameof(Floors))]
    public void EveryScenario_AccuracyAtJoin_HoldsItsMeasuredFloor(string scenario, double mean, double p10)
    {
        var accuracy = fixture.Results[scenario].JoinAccuracy;
        Assert.True(accuracy.Mean >= mean, $"{scenario}: mean {accuracy.Mean:P1} < {mean:P0}");
        Assert.True(accuracy.P10 >= p10, $"{scenario}: p10 {accuracy.P10:P1} < {p10:P0}");
    }

    [Theory]
    [MemberData(nameof(All))]
    public void EveryScenario_BeatsTheOriginalModel(string scenario)
    {
        var result = fixture.Results[scenario];
        Assert.True(result.JoinAccuracy.Mean > result.OriginalJoinAccuracy.Mean + 0.05,
            $"ours {result.JoinAccuracy.Mean:P1} vs original {result.OriginalJoinAccuracy.Mean:P1}");
        Assert.True(result.LaterAccuracy.Mean > result.OriginalLaterAccuracy.Mean + 0.05,
            $"ours {result.LaterAccuracy.Mean:P1} vs original {result.OriginalLaterAccuracy.Mean:P1}");
    }

    [Theory]
    [MemberData(nameof(All))]
    public void ProductionMetric_ScoresExactlyTheFirstEtasTheHarnessScores(string scenario)
    {
        // waitingroom.eta.accuracy is recorded by QueueService at each first admission; the harness scores
        // the same users from the outside. Equal means say the production metric measures the real thing.
        var result = fixture.Results[scenario];
        Assert.Equal(result.AtJoin.Count, result.ProductionMetric.Count);
        Assert.Equal(result.JoinAccuracy.Mean, result.ProductionMetric.Average(), 6);
    }

    [Fact]
    public void Confidence_PredictsError_AcrossAllScenarios()
    {
        var samples = fixture.Results.Values.SelectMany(r => r.AtJoin.Concat(r.Later)).ToArray();
        var calibration = Calibration.Of(samples, s => s.Confidence, s => s.Accuracy);

        // Higher confidence, higher accuracy: the bands are ordered, and each is near what it claims.
        var bands = calibration.Bands.Where(b => b.Count >= 50).ToArray();
        Assert.True(bands.Length >= 4, "confidence should spread over several bands");
        for (var i = 1; i < bands.Length; i++)
            Assert.True(bands[i].MeanAccuracy > bands[i - 1].MeanAccuracy, $"band {bands[i].Low:0.00} is less accurate than band {bands[i - 1].Low:0.00}");
        Assert.InRange(calibration.CalibrationError, 0, 0.03);
        Assert.InRange(calibration.RankCorrelation, 0.3, 1);

        var original = Calibration.Of(samples, s => s.OriginalConfidence, s => s.OriginalAccuracy);
        Assert.True(calibration.CalibrationError < original.CalibrationError / 3);
    }

    [Fact]
    public void RateChange_LaterEtasStayAccurate_WhileEtasPromisedBeforeTheCutWereOptimistic()
    {
        // The configured rate is read on every answer, so the first poll after a reload already uses it;
        // what was promised before the cut could not know about it.
        var result = fixture.Results["rate-change"];
        Assert.InRange(result.LaterAccuracy.Mean, 0.98, 1.0);
        Assert.True(result.JoinAccuracy.Bias < -0.02, "ETAs promised before a rate cut were optimistic, as they must be");
    }

    [Fact]
    public void Abandonment_NobodyLosesTheirPlaceUnexpectedly()
    {
        foreach (var result in fixture.Results.Values)
        {
            Assert.Equal(0, result.LostPlace);
            Assert.Equal(result.Joined, result.ReachedTurn + result.Abandoned);
        }
    }
}
