using Gateway.Admission.Queue;
using Gateway.Admission.Rooms;

namespace Gateway.Admission.Eta;

/// <summary>
/// Estimates how long a waiting user will wait. The original blended the admission rate of the last
/// 1, 5 and 15 minutes (weights 0.5 / 0.3 / 0.2) and fell back to position x 2 with no data. We know
/// more: the bucket refills at the configured rate whenever anyone is waiting, and the reply tells how
/// many whole tokens are free right now, so the forecast starts from the configured rate and uses the
/// history to correct it (for example when nobody polls and promotion lags).
/// </summary>
internal static class EtaEstimator
{
    private static readonly (TimeSpan Window, double Weight)[] Windows =
    [
        (TimeSpan.FromMinutes(1), 0.5),
        (TimeSpan.FromMinutes(5), 0.3),
        (TimeSpan.FromMinutes(15), 0.2),
    ];

    /// <summary>The estimate for a user at <paramref name="position"/> (1 = next).</summary>
    public static EtaEstimate Estimate(long position, double tokensAvailable, RoomOptions room, RoomSnapshot? snapshot, DateTimeOffset now)
    {
        if (position <= 0)
            return new EtaEstimate(0, 1.0);

        var rate = room.RefillPerSecond;
        var ahead = Math.Max(0, position - Math.Floor(tokensAvailable));
        var seconds = (long)Math.Ceiling(ahead / rate);
        return new EtaEstimate(seconds, Confidence(snapshot, now));
    }

    /// <summary>
    /// The original's tiers from how much admission history the windows hold: at least 30 admissions in
    /// 15 minutes = 1.0, 10 in 5 minutes = 0.8, 3 in 1 minute = 0.6. With no history we still know the
    /// configured rate, so the floor is 0.5 rather than the original's 0.2.
    /// </summary>
    internal static double Confidence(RoomSnapshot? snapshot, DateTimeOffset now)
    {
        if (snapshot is null)
            return 0.5;
        var in15 = Admissions(snapshot, now, Windows[2].Window);
        if (in15 >= 30)
            return 1.0;
        if (Admissions(snapshot, now, Windows[1].Window) >= 10)
            return 0.8;
        if (Admissions(snapshot, now, Windows[0].Window) >= 3)
            return 0.6;
        return 0.5;
    }

    /// <summary>The blended observed admission rate (per second), or null without history.</summary>
    internal static double? ObservedRate(RoomSnapshot snapshot, DateTimeOffset now)
    {
        if (snapshot.History.Count == 0)
            return null;
        var first = DateTimeOffset.FromUnixTimeMilliseconds(snapshot.History[0].BucketStartMs);
        double weighted = 0, weights = 0;
        foreach (var (window, weight) in Windows)
        {
            var span = Math.Min(window.TotalSeconds, (now - first).TotalSeconds);
            if (span < 10)
                continue;
            weighted += weight * Admissions(snapshot, now, window) / span;
            weights += weight;
        }
        return weights > 0 ? weighted / weights : null;
    }

    private static long Admissions(RoomSnapshot snapshot, DateTimeOffset now, TimeSpan window)
    {
        var since = (now - window).ToUnixTimeMilliseconds();
        long sum = 0;
        foreach (var (start, count) in snapshot.History)
        {
            if (start >= since)
                sum += count;
        }
        return sum;
    }
}
