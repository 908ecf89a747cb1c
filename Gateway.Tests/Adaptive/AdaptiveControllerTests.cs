using Gateway.Admission.Adaptive;
using Gateway.Admission.Queue;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Adaptive;

/// <summary>
/// The instance side of adaptive admission: from one instance's counters of a room's clusters to the verdict it
/// sends the store. Pure maths under a fake clock; adapt.lua's arbitration is tested in <see cref="AdaptScriptTests"/>.
/// </summary>
[Trait("Category", "Fast")]
public sealed class AdaptiveControllerTests
{
    private static readonly AdaptiveOptions Options = new()
    {
        Enabled = true,
        Floor = 2,
        IncreaseStep = 5,
        DecreaseFactor = 0.8,
        TargetLatency = TimeSpan.FromMilliseconds(200),
        ErrorRatio = 0.02,
        ControlPeriod = TimeSpan.FromSeconds(4),
    };

    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly AdaptiveController _controller = new();
    private readonly Cluster _inventory = new("inventory");

    [Fact]
    public void Window_WithMostAttemptsOverloaded_ReportsTheShareThatGotThrough()
    {
        Start();
        _inventory.Respond(20, 200).Respond(80, 503);

        var report = AfterHalfPeriod();

        Assert.Equal(AdaptVerdict.Decrease, report!.Verdict);
        Assert.Equal(0.2, report.Factor, precision: 9); // 80% turned away: the room admits five times too fast
        Assert.Contains("inventory", report.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void Window_WithMildOverload_ReportsTheShareThatGotThrough_NotAFixedCut()
    {
        Start();
        _inventory.Respond(95, 200).Respond(3, 500).Fail(2);

        var report = AfterHalfPeriod();

        Assert.Equal(AdaptVerdict.Decrease, report!.Verdict);
        Assert.Equal(0.95, report.Factor, precision: 9); // not a fixed cut: 5% turned away, the backends took 95%
    }

    [Fact]
    public void OneStray500_IsNotAVerdict_TheRoomMayGrow()
    {
        Start();
        _inventory.Respond(20, 200).Respond(1, 500);

        Assert.Equal(AdaptVerdict.Increase, AfterHalfPeriod()!.Verdict);
    }

    [Fact]
    public void AWindowNearTheErrorRatio_Holds_TheRoomIsAtItsBackendsLimit()
    {
        Start();
        _inventory.Respond(197, 200).Respond(3, 503); // 1.5%: above half of the 2% ratio, not above it

        var report = AfterHalfPeriod();

        Assert.Equal(AdaptVerdict.Hold, report!.Verdict);
        Assert.Contains("near the limit", report.Evidence, StringComparison.Ordinal);

        _inventory.Respond(299, 200).Respond(1, 503); // one stray: the room may grow
        Assert.Equal(AdaptVerdict.Increase, AfterHalfPeriod()!.Verdict);
    }

    [Fact]
    public void RateLimitedResponses_CountAsOverload()
    {
        Start();
        _inventory.Respond(50, 200).Respond(50, 429);

        var report = AfterHalfPeriod();

        Assert.Equal(AdaptVerdict.Decrease, report!.Verdict);
        Assert.Equal(0.5, report.Factor, precision: 9);
    }

    [Fact]
    public void Percentile90AboveTheTargetLatency_Decreases_BelowIt_Increases()
    {
        Start();
        _inventory.Respond(85, 200, TimeSpan.FromMilliseconds(20)).Respond(15, 200, TimeSpan.FromMilliseconds(900));
        var slow = AfterHalfPeriod();
        Assert.Equal(AdaptVerdict.Decrease, slow!.Verdict);
        Assert.Equal(1, slow.Factor, precision: 9); // slowness says nothing of the overload's size: the margin alone

        _inventory.Respond(95, 200, TimeSpan.FromMilliseconds(20)).Respond(5, 200, TimeSpan.FromMilliseconds(900));
        Assert.Equal(AdaptVerdict.Increase, AfterHalfPeriod()!.Verdict);
    }

    [Fact]
    public void TheWorstCluster_SetsTheFactor()
    {
        var payment = new Cluster("payment");
        Start(_inventory, payment);
        _inventory.Respond(90, 200).Respond(10, 503);
        payment.Respond(40, 200).Respond(60, 503);

        var report = AfterHalfPeriod(_inventory, payment);

        Assert.Equal(0.4, report!.Factor, precision: 9);
        Assert.Contains("payment", report.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void NoVerdict_BeforeHalfAPeriodOfTraffic()
    {
        Start();
        _inventory.Respond(80, 503);
        _clock.Advance(Options.ControlPeriod / 2 - TimeSpan.FromMilliseconds(1));

        Assert.Null(_controller.Next(_clock.GetUtcNow(), [_inventory.Read()], Options));
    }

    [Fact]
    public void AnOpenBreaker_PausesAtOnce_AndAgainEverySecondWhileItLasts()
    {
        Start();
        _inventory.Breaker = BreakerState.Open;

        Assert.Equal(AdaptVerdict.Pause, Next()!.Verdict);
        _clock.Advance(TimeSpan.FromMilliseconds(250));
        Assert.Null(Next());
        _clock.Advance(AdaptiveController.PauseEvery);
        Assert.Equal(AdaptVerdict.Pause, Next()!.Verdict);
    }

    [Fact]
    public void AHalfOpenBreaker_Holds_ItSaysNothingGoodYet()
    {
        Start();
        _inventory.Respond(50, 200);
        _inventory.Breaker = BreakerState.HalfOpen;

        Assert.Equal(AdaptVerdict.Hold, AfterHalfPeriod()!.Verdict);
    }

    [Fact]
    public void AfterTheRateChanged_TheNextHalfPeriodIsNotJudged()
    {
        Start();
        _controller.Applied(_clock.GetUtcNow(), new AdaptResult(AdaptAction.Increase, 60, 40, _clock.GetUtcNow()), Options);

        // Overload from people admitted at the old rate arrives while the change settles: it is not judged ...
        _inventory.Respond(10, 200).Respond(90, 503);
        _clock.Advance(Options.ControlPeriod / 2);
        Assert.Equal(AdaptVerdict.Hold, Next()!.Verdict);

        // ... the half period after it is.
        _inventory.Respond(100, 200);
        Assert.Equal(AdaptVerdict.Increase, AfterHalfPeriod()!.Verdict);
    }

    [Fact]
    public void AfterADecrease_AWholePeriodIsNotJudged_AfterAnIncrease_HalfOfOne()
    {
        Start();
        _controller.Applied(_clock.GetUtcNow(), new AdaptResult(AdaptAction.Decrease, 20, 40, _clock.GetUtcNow()), Options);

        // People admitted before the decrease still overload the backend for a while: a whole period is not judged.
        _inventory.Respond(10, 200).Respond(90, 503);
        _clock.Advance(Options.ControlPeriod / 2);
        Assert.Equal(AdaptVerdict.Hold, Next()!.Verdict);
        _inventory.Respond(10, 200).Respond(90, 503);
        _clock.Advance(Options.ControlPeriod / 2);
        Assert.Equal(AdaptVerdict.Hold, Next()!.Verdict);
        _inventory.Respond(100, 200);
        Assert.Equal(AdaptVerdict.Increase, AfterHalfPeriod()!.Verdict);

        _controller.Applied(_clock.GetUtcNow(), new AdaptResult(AdaptAction.Increase, 25, 20, _clock.GetUtcNow()), Options);
        _inventory.Respond(100, 503);
        _clock.Advance(Options.ControlPeriod / 2);
        Assert.Equal(AdaptVerdict.Hold, Next()!.Verdict);
        _inventory.Respond(100, 200);
        Assert.Equal(AdaptVerdict.Increase, AfterHalfPeriod()!.Verdict);
    }

    [Fact]
    public void NothingChanged_NoSettling_AVerdictEveryHalfPeriod()
    {
        Start();
        _controller.Applied(_clock.GetUtcNow(), new AdaptResult(AdaptAction.None, 40, 40, _clock.GetUtcNow()), Options);
        for (var i = 0; i < 3; i++)
        {
            _inventory.Respond(100, 200);
            var report = AfterHalfPeriod();
            Assert.Equal(AdaptVerdict.Increase, report!.Verdict);
            _controller.Applied(_clock.GetUtcNow(), new AdaptResult(AdaptAction.None, 40, 40, _clock.GetUtcNow()), Options);
        }
    }

    /// <summary>The first call takes the baseline (and learns the store's rate with a hold).</summary>
    private void Start(params Cluster[] clusters)
    {
        clusters = clusters.Length == 0 ? [_inventory] : clusters;
        var first = _controller.Next(_clock.GetUtcNow(), [.. clusters.Select(c => c.Read())], Options);
        Assert.Equal(AdaptVerdict.Hold, first!.Verdict);
        _controller.Applied(_clock.GetUtcNow(), new AdaptResult(AdaptAction.None, 40, null, _clock.GetUtcNow()), Options);
    }

    private AdaptReport? AfterHalfPeriod(params Cluster[] clusters)
    {
        _clock.Advance(Options.ControlPeriod / 2);
        return Next(clusters);
    }

    private AdaptReport? Next(params Cluster[] clusters)
    {
        clusters = clusters.Length == 0 ? [_inventory] : clusters;
        return _controller.Next(_clock.GetUtcNow(), [.. clusters.Select(c => c.Read())], Options);
    }

    /// <summary>A cluster's cumulative counters, as <see cref="BackendHealth"/> keeps them.</summary>
    private sealed class Cluster(string id)
    {
        private readonly long[] _latency = new long[LatencyBuckets.Count];
        private long _responses;
        private long _overloaded;
        private long _failed;

        public BreakerState Breaker { get; set; }

        public Cluster Respond(int count, int status, TimeSpan? latency = null)
        {
            _responses += count;
            if (status >= 500 || status == 429)
                _overloaded += count;
            _latency[LatencyBuckets.Index(latency ?? TimeSpan.FromMilliseconds(5))] += count;
            return this;
        }

        public Cluster Fail(int count)
        {
            _failed += count;
            return this;
        }

        public ClusterHealthSample Read() => new(id, _responses, _overloaded, _failed, [.. _latency], Breaker);
    }
}
