using Gateway.Admission.Eta;
using Gateway.Admission.Queue;

namespace Gateway.Tests.Eta;

[Trait("Category", "Fast")]
public sealed class EtaEstimatorTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 30, 0, TimeSpan.Zero);
    private const double Rate = 10;

    [Fact]
    public void Estimate_ColdStartWithoutHistory_UsesTheConfiguredRateNotPositionTimesTwo()
    {
        var eta = EtaEstimator.Estimate(position: 500, tokensAvailable: 0, Rate, snapshot: null, Now);

        Assert.Equal(50, eta.Seconds); // the original would have said 1000
        Assert.InRange(eta.Confidence, 0.5, 0.95);
    }

    [Fact]
    public void Estimate_CountsTheFractionalTokensAlreadyInTheBucket()
    {
        var eta = EtaEstimator.Estimate(position: 10, tokensAvailable: 0.7, 1.0, Snapshot(), Now);

        Assert.Equal(9, eta.Seconds); // 9.3 tokens still to come at 1/s
    }

    [Fact]
    public void Estimate_RefillRateChanged_UsesTheNewRateAtOnce()
    {
        var before = EtaEstimator.Estimate(300, 0, Rate, Snapshot(), Now);
        var after = EtaEstimator.Estimate(300, 0, 5.0, Snapshot(), Now);

        Assert.Equal(30, before.Seconds);
        Assert.Equal(60, after.Seconds);
    }

    [Fact]
    public void Estimate_PeopleAheadVanishing_ShortensTheWaitByTheMeasuredHazard()
    {
        // 1000 people waiting for the last 5 minutes, 6 of them vanishing every 10 s: hazard 0.0006 per person-second.
        var snapshot = Snapshot(length: 1000, vanishedPerBucket: 6);

        var eta = EtaEstimator.Estimate(position: 1000, tokensAvailable: 0, Rate, snapshot, Now);

        var hazard = 6 / (1000 * 10.0);
        Assert.Equal((long)Math.Round(Math.Log(1 + (hazard * 1000 / 10)) / hazard), eta.Seconds); // 97 s, not 100
        Assert.True(eta.Seconds < 100);
    }

    [Fact]
    public void Estimate_NobodyVanishing_IsPositionOverRate()
    {
        var eta = EtaEstimator.Estimate(position: 1000, tokensAvailable: 0, Rate, Snapshot(length: 1000, vanishedPerBucket: 0), Now);

        Assert.Equal(100, eta.Seconds);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void Estimate_NotWaiting_IsZeroWithFullConfidence(long position)
    {
        Assert.Equal(new EtaEstimate(0, 1.0), EtaEstimator.Estimate(position, 3, Rate, null, Now));
    }

    [Fact]
    public void Estimate_NextInLine_IsAtLeastOneSecond()
    {
        Assert.Equal(1, EtaEstimator.Estimate(1, 0.99, Rate, Snapshot(), Now).Seconds);
    }

    [Fact]
    public void Confidence_MoreHistory_MoreConfidence()
    {
        var none = EtaEstimator.Estimate(600, 0, Rate, null, Now).Confidence;
        var young = EtaEstimator.Estimate(600, 0, Rate, Snapshot(minutes: 1, admittedPerBucket: 1), Now).Confidence;
        var seasoned = EtaEstimator.Estimate(600, 0, Rate, Snapshot(minutes: 15), Now).Confidence;

        Assert.True(none < young && young < seasoned, $"{none} < {young} < {seasoned}");
        Assert.InRange(seasoned, 0.9, 0.99);
    }

    [Fact]
    public void Confidence_FurtherForecast_LessConfidence()
    {
        var near = EtaEstimator.Estimate(300, 0, Rate, Snapshot(minutes: 2), Now).Confidence;
        var far = EtaEstimator.Estimate(30_000, 0, Rate, Snapshot(minutes: 2), Now).Confidence;

        Assert.True(far < near, $"{far} < {near}");
    }

    [Fact]
    public void Confidence_ShortWaitInWholeSeconds_SaysRoundingIsAFractionOfIt()
    {
        // 1.45 s is answered as "1 second": a third off, and confidence says so.
        var eta = EtaEstimator.Estimate(position: 15, tokensAvailable: 0.5, Rate, Snapshot(minutes: 15), Now);

        Assert.Equal(1, eta.Seconds);
        Assert.InRange(eta.Confidence, 0.6, 0.75);
    }

    [Fact]
    public void Confidence_IsAlwaysInTheUnitInterval()
    {
        foreach (var position in new long[] { 1, 2, 10, 1_000, 1_000_000 })
        {
            foreach (var snapshot in new[] { null, Snapshot(), Snapshot(length: 10, vanishedPerBucket: 9) })
                Assert.InRange(EtaEstimator.Estimate(position, 0.3, Rate, snapshot, Now).Confidence, 0, 1);
        }
    }

    [Fact]
    public void MaxActive_WithSlotsForEveryoneAhead_DoesNotChangeTheEstimate()
    {
        var cap = new ActiveCap(Max: 1_000, InUse: 100, TimeSpan.FromMinutes(10));

        Assert.Equal(EtaEstimator.Estimate(500, 0, Rate, Snapshot(), Now), EtaEstimator.Estimate(500, 0, Rate, Snapshot(), Now, cap));
    }

    [Fact]
    public void MaxActive_NotYetReached_PastTheFreeSlots_GoesAtTheSlowestPaceAdmissionsCanEnd()
    {
        // The tokens for 500 take 50 s; 100 slots are free, and the 400 more come at 1,000 per 600 s at least (240 s).
        var cap = new ActiveCap(Max: 1_000, InUse: 900, TimeSpan.FromMinutes(10));

        var eta = EtaEstimator.Estimate(500, 0, Rate, Snapshot(), Now, cap);

        Assert.Equal(240, eta.Seconds);
        Assert.True(eta.Confidence <= 0.5, $"a bound, not a measurement: confidence {eta.Confidence}");
    }

    [Fact]
    public void MaxActive_Reached_GoesAtThePaceOfTheLastMinutesPromotions()
    {
        // The cap holds promotions back; the last minute promoted 20 per 10 s = 2/s (the bucket would give 10/s).
        var cap = new ActiveCap(Max: 1_000, InUse: 1_000, TimeSpan.FromMinutes(10));

        var eta = EtaEstimator.Estimate(500, 0, Rate, Snapshot(admittedPerBucket: 20), Now, cap);

        Assert.Equal(250, eta.Seconds);
        // Tokens already in the bucket do not help: it is slots that are short.
        Assert.Equal(250, EtaEstimator.Estimate(500, 100, Rate, Snapshot(admittedPerBucket: 20), Now, cap).Seconds);
        Assert.InRange(eta.Confidence, 0.6, 0.9);
        // Never slower than admissions ending at their TTL, never faster than the bucket.
        Assert.Equal(300, EtaEstimator.Estimate(500, 0, Rate, Snapshot(admittedPerBucket: 0), Now, cap).Seconds);
        Assert.Equal(50, EtaEstimator.Estimate(500, 0, Rate, Snapshot(admittedPerBucket: 500), Now, cap).Seconds);
    }

    /// <summary>A room that has been busy for <paramref name="minutes"/>: per 10-second bucket, admissions, vanished users and a queue-length sample.</summary>
    private static RoomSnapshot Snapshot(int minutes = 5, long admittedPerBucket = 100, long length = 1000, long vanishedPerBucket = 0)
    {
        var buckets = Enumerable.Range(0, minutes * 6)
            .Select(i => Now.AddSeconds(-10 * (i + 1)).ToUnixTimeMilliseconds())
            .Order()
            .ToArray();
        return new RoomSnapshot
        {
            Waiting = length,
            PromotedTotal = admittedPerBucket * buckets.Length,
            History = [.. buckets.Select(b => (b, admittedPerBucket))],
            TakenAt = Now,
            HasHistory = true,
            Vanished = [.. buckets.Select(b => (b, vanishedPerBucket))],
            QueueLengths = [.. buckets.Select(b => (b, length))],
        };
    }
}
