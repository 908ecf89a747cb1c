using Gateway.Admission.Queue;

namespace Gateway.Admission.Eta;

/// <summary>
/// Estimates how long a waiting user will wait until their turn (the moment the bucket hands them a token).
/// <para>
/// The original divided the position by an admission rate blended from the last 1, 5 and 15 minutes
/// (weights 0.5 / 0.3 / 0.2) and fell back to position x 2 with no data. The gateway knows more than its
/// history: the bucket refills at the configured rate whenever anyone waits, and each reply carries the
/// fractional tokens already in it, so the time to the user's token is exact for a line where nobody
/// leaves. What the configuration cannot know is who ahead will give up: that comes from the room's
/// history in Redis (shared by every instance), weighted over the same 1 / 5 / 15 minute windows.
/// </para>
/// <para>
/// Model: <c>need = position - tokens</c> tokens must still arrive at rate <c>r</c>, while each of the
/// people ahead vanishes (dropped or left) at hazard <c>h</c> per second, measured as vanished users per
/// waiting-user-second. The line ahead shrinks as <c>dn/dt = -(r + h n)</c>, so the wait is
/// <c>ln(1 + h need / r) / h</c>, which is <c>need / r</c> when nobody leaves. See docs/ETA.md for the
/// measured accuracy and how confidence is calibrated.
/// </para>
/// </summary>
internal static class EtaEstimator
{
    /// <summary>The original's windows and weights, used here for the abandonment hazard.</summary>
    private static readonly (TimeSpan Window, double Weight)[] Windows =
    [
        (TimeSpan.FromMinutes(1), 0.5),
        (TimeSpan.FromMinutes(5), 0.3),
        (TimeSpan.FromMinutes(15), 0.2),
    ];

    private const double BucketSeconds = ScriptLayout.HistoryBucketMs / 1000.0;

    /// <summary>The estimate for a user at <paramref name="position"/> (1 = next).</summary>
    /// <param name="position">Place in line, 1 = next; 0 or less = not waiting.</param>
    /// <param name="tokensAvailable">The bucket's (fractional) tokens, read atomically with the position.</param>
    /// <param name="refillPerSecond">The room's effective refill rate: what the bucket delivers.</param>
    /// <param name="snapshot">The room's history from the last maintenance tick, or null before the first one.</param>
    /// <param name="now">The store's time of the reply.</param>
    /// <param name="cap">The room's <c>MaxActive</c>, when it has one: past the slots still free, admissions go at the pace
    /// admissions end, not the bucket's.</param>
    public static EtaEstimate Estimate(long position, double tokensAvailable, double refillPerSecond, RoomSnapshot? snapshot, DateTimeOffset now, ActiveCap? cap = null)
    {
        if (position <= 0)
            return new EtaEstimate(0, 1.0);

        var need = Math.Max(0, position - tokensAvailable);
        var flow = snapshot is null ? Flow.Unknown : MeasureFlow(snapshot, now);
        var steady = need / refillPerSecond;
        var seconds = Wait(need, refillPerSecond, flow);
        var capUncertainty = 0.0;
        // With a cap, a promotion needs a free slot as well as a token: everyone ahead and this person take one each, and
        // past the slots free now they come at the pace admissions end. The later of the two is the wait.
        if (cap is { Max: > 0 } active && position > active.Free)
        {
            var (turnover, measured) = Turnover(active, refillPerSecond, snapshot, now);
            var slots = position - active.Free;
            if (Wait(slots, turnover, flow) > seconds)
            {
                steady = slots / turnover;
                seconds = Wait(slots, turnover, flow);
                capUncertainty = measured ? 0.15 : 0.5;
            }
        }
        var given = Math.Max(1, (long)Math.Round(seconds));
        return new EtaEstimate(given, Confidence(given, seconds, steady, flow, capUncertainty));
    }

    /// <summary>The time for <paramref name="count"/> more to go at <paramref name="perSecond"/> while people ahead vanish at the flow's hazard.</summary>
    private static double Wait(double count, double perSecond, Flow flow) =>
        flow.Hazard > 0 ? Math.Log(1 + (flow.Hazard * count / perSecond)) / flow.Hazard : count / perSecond;

    /// <summary>
    /// How fast a room at its <c>MaxActive</c> admits: as fast as admissions end, never faster than the bucket. While the
    /// cap holds promotions back (no slot free now), the promotions of the last minute are that pace, measured. Before
    /// it does, nothing has measured it yet, and the one sure figure is the slowest: every admission ends within
    /// <c>AdmissionTtl</c>, so <c>MaxActive / AdmissionTtl</c> slots free per second at least.
    /// </summary>
    internal static (double PerSecond, bool Measured) Turnover(ActiveCap cap, double refillPerSecond, RoomSnapshot? snapshot, DateTimeOffset now)
    {
        var floor = Math.Min(refillPerSecond, cap.Max / Math.Max(1, cap.AdmissionTtl.TotalSeconds));
        if (cap.Free > 0 || snapshot is not { HasHistory: true })
            return (floor, false);
        var window = Windows[0].Window;
        var promoted = Sum(snapshot.History, now.ToUnixTimeMilliseconds() - (long)window.TotalMilliseconds);
        return promoted > 0 ? (Math.Clamp(promoted / window.TotalSeconds, floor, refillPerSecond), true) : (floor, false);
    }

    /// <summary>
    /// The expected accuracy of the ETA <paramref name="given"/> for a modelled wait of <paramref name="seconds"/>:
    /// one minus the typical relative error from answering in whole seconds (which matters for short waits),
    /// from the abandonment correction (half of it is assumed uncertain), and from what the history has not
    /// shown yet (the original's tiers: the less admission history, the less we know about this room's flow;
    /// and a forecast reaching further than the history goes back is less certain). The constants are
    /// calibrated on the simulation (docs/ETA.md), where mean confidence tracks mean accuracy per band.
    /// </summary>
    internal static double Confidence(long given, double seconds, double steadySeconds, Flow flow, double capUncertainty = 0)
    {
        // Under a second the user is next and hears "1 second"; above, the rounding is known, plus ~50 ms of timing.
        var rounding = seconds < 1 ? 0.1 : (Math.Abs(given - seconds) + 0.05) / seconds;
        var abandonment = 0.5 * Math.Abs(steadySeconds - seconds) / Math.Max(seconds, 1);
        var history = flow.Tier switch
        {
            >= 1.0 => 0.01,
            >= 0.8 => 0.03,
            >= 0.6 => 0.05,
            _ => 0.08,
        };
        var horizon = 0.06 * seconds / (seconds + flow.ObservedSeconds + 60);
        var error = Math.Sqrt((rounding * rounding) + (abandonment * abandonment) + (history * history) + (horizon * horizon) + (capUncertainty * capUncertainty));
        return Math.Round(Math.Clamp(1 - error, 0.05, 0.99), 2);
    }

    /// <summary>What the room's history says about its flow: the abandonment hazard, the original's data tier, how far back it reaches.</summary>
    internal static Flow MeasureFlow(RoomSnapshot snapshot, DateTimeOffset now)
    {
        var nowMs = now.ToUnixTimeMilliseconds();
        double weighted = 0, weights = 0;
        foreach (var (window, weight) in Windows)
        {
            var since = nowMs - (long)window.TotalMilliseconds;
            var exposure = Exposure(snapshot, since, nowMs);
            if (exposure <= 0)
                continue;
            weighted += weight * Sum(snapshot.Vanished, since) / exposure;
            weights += weight;
        }
        var hazard = weights > 0 ? weighted / weights : 0;
        var observed = snapshot.QueueLengths.Count == 0 ? 0 : Math.Max(0, (nowMs - snapshot.QueueLengths[0].BucketStartMs) / 1000.0);
        return new Flow(hazard, Tier(snapshot, nowMs), observed);
    }

    /// <summary>
    /// The original's confidence tiers from how much admission history the windows hold: at least 30
    /// admissions in 15 minutes = 1.0, 10 in 5 minutes = 0.8, 3 in 1 minute = 0.6, else 0.2.
    /// </summary>
    private static double Tier(RoomSnapshot snapshot, long nowMs)
    {
        if (Sum(snapshot.History, nowMs - (long)Windows[2].Window.TotalMilliseconds) >= 30)
            return 1.0;
        if (Sum(snapshot.History, nowMs - (long)Windows[1].Window.TotalMilliseconds) >= 10)
            return 0.8;
        if (Sum(snapshot.History, nowMs - (long)Windows[0].Window.TotalMilliseconds) >= 3)
            return 0.6;
        return 0.2;
    }

    /// <summary>Waiting-user-seconds in [since, now]: each bucket's sampled queue length times the part of the bucket inside the window.</summary>
    private static double Exposure(RoomSnapshot snapshot, long sinceMs, long nowMs)
    {
        double total = 0;
        foreach (var (start, length) in snapshot.QueueLengths)
        {
            var from = Math.Max(start, sinceMs);
            var to = Math.Min(start + (long)(BucketSeconds * 1000), nowMs);
            if (to > from)
                total += length * (to - from) / 1000.0;
        }
        return total;
    }

    private static long Sum(IReadOnlyList<(long BucketStartMs, long Count)> series, long sinceMs)
    {
        long sum = 0;
        foreach (var (start, count) in series)
        {
            if (start >= sinceMs)
                sum += count;
        }
        return sum;
    }

    /// <summary>The room's measured flow.</summary>
    /// <param name="Hazard">Waiting users vanishing per waiting user per second.</param>
    /// <param name="Tier">The original's data-sufficiency confidence tier.</param>
    /// <param name="ObservedSeconds">How far back the room's history reaches.</param>
    internal readonly record struct Flow(double Hazard, double Tier, double ObservedSeconds)
    {
        public static Flow Unknown { get; } = new(0, 0.2, 0);
    }
}
