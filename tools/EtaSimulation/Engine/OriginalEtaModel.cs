using Gateway.Admission.Eta;
using Gateway.Admission.Queue;

namespace Gateway.EtaSimulation.Engine;

/// <summary>
/// The Go original's ETA, for comparison only: position / blended admission rate x 1.1, the rate blended
/// from the last 1, 5 and 15 minutes (weights 0.5 / 0.3 / 0.2), position x 2 with no admissions on record;
/// confidence 1.0 / 0.8 / 0.6 / 0.2 from how many admissions the windows hold. Read charitably: each
/// window's rate is taken over the part of it the history covers (at least 10 s), not its full length, so
/// a young event is not credited with 15 minutes of silence. It reads the same Redis history as ours.
/// </summary>
internal static class OriginalEtaModel
{
    private static readonly (TimeSpan Window, double Weight)[] Windows =
    [
        (TimeSpan.FromMinutes(1), 0.5),
        (TimeSpan.FromMinutes(5), 0.3),
        (TimeSpan.FromMinutes(15), 0.2),
    ];

    public static EtaEstimate Estimate(long position, RoomSnapshot? snapshot, DateTimeOffset now)
    {
        if (position <= 0)
            return new EtaEstimate(0, 1.0);
        double weighted = 0, weights = 0;
        if (snapshot is { History.Count: > 0 })
        {
            var covered = (now - DateTimeOffset.FromUnixTimeMilliseconds(snapshot.History[0].BucketStartMs)).TotalSeconds;
            foreach (var (window, weight) in Windows)
            {
                weighted += weight * Admissions(snapshot, now, window) / Math.Clamp(covered, 10, window.TotalSeconds);
                weights += weight;
            }
        }
        var rate = weights > 0 ? weighted / weights : 0;
        var seconds = rate > 0 ? position / rate * 1.1 : position * 2.0;
        return new EtaEstimate((long)Math.Round(seconds), Confidence(snapshot, now));
    }

    private static double Confidence(RoomSnapshot? snapshot, DateTimeOffset now)
    {
        if (Admissions(snapshot, now, Windows[2].Window) >= 30)
            return 1.0;
        if (Admissions(snapshot, now, Windows[1].Window) >= 10)
            return 0.8;
        if (Admissions(snapshot, now, Windows[0].Window) >= 3)
            return 0.6;
        return 0.2;
    }

    private static long Admissions(RoomSnapshot? snapshot, DateTimeOffset now, TimeSpan window)
    {
        if (snapshot is null)
            return 0;
        var since = (now - window).ToUnixTimeMilliseconds();
        return snapshot.History.Where(h => h.BucketStartMs >= since).Sum(h => h.Count);
    }
}
