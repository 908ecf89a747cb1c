using Gateway.Admission.Eta;
using Gateway.Admission.Rooms;

namespace Gateway.Admission.Queue;

/// <summary>
/// When a client should poll next (<c>poll_after_ms</c>), chosen by the server: a third of the expected
/// wait, so the poll rate follows how soon anything can change for the person (far back: rarely; near the
/// front: every half second), never above a third of <c>AbandonAfter</c> (two polls may be lost before the
/// place is), with ±10% jitter so a crowd never polls in waves. docs/BENCHMARKS.md has the total poll rate
/// this gives for 300,000 people and how soon a page notices its turn.
/// </summary>
internal static class PollCadence
{
    /// <summary>The shortest interval: near the front, a turn is noticed within about half a second.</summary>
    public const int NearFrontMs = 500;

    /// <summary>The longest interval before the opening (pre-queued places do not expire).</summary>
    private const int PrequeueMaxMs = (int)ScriptLayout.PrequeuePollMaxMs;

    /// <summary>The longest interval: a third of AbandonAfter.</summary>
    public static int Cap(Room room) => (int)Math.Clamp(room.Options.AbandonAfter.TotalMilliseconds / 3, NearFrontMs, 3_600_000);

    public static int Waiting(Room room, EtaEstimate eta) => Jitter(Math.Clamp(eta.Seconds * 1000 / 3, NearFrontMs, Cap(room)));

    /// <summary>
    /// The first people past a room's free <c>MaxActive</c> slots. Their turn comes when someone else's admission ends:
    /// at a moment nobody can foresee (a leave, a revoke), not on the bucket's schedule, so an ETA-based interval
    /// would notice it up to a third of <c>AbandonAfter</c> late while the slot sits reserved and unused.
    /// </summary>
    public const int SlotWaitersNearFront = 10;

    /// <summary>Waiting behind a <c>MaxActive</c> cap: the first <see cref="SlotWaitersNearFront"/> poll as the front does.</summary>
    public static int WaitingForSlot(Room room, EtaEstimate eta, long slotsAhead) =>
        slotsAhead < SlotWaitersNearFront ? Jitter(NearFrontMs) : Waiting(room, eta);

    /// <summary>
    /// The first poll after a join: anywhere from a tenth of the usual interval to all of it. People who join in
    /// the same few seconds of a flash crowd would otherwise come back together, cap after cap (±10% barely
    /// spreads a wave of 300,000 over 4 s); spread once, the jitter keeps them apart. Costs at most one extra poll.
    /// </summary>
    public static int FirstAfterJoin(int usualMs) => Math.Max(NearFrontMs, (int)(usualMs * (0.1 + (Random.Shared.NextDouble() * 0.9))));

    /// <summary>
    /// The store is unreachable (the graceful status): within Retry-After, spread like the first poll after a join.
    /// With Retry-After itself, everyone who polled during a blip came back in the same second, and the people near
    /// the front, promoted meanwhile, entered together: after a 1 s Redis restart in loadtest/soak.sh (a room letting
    /// in 25/s) 110 entered within one second and the backends turned 198 gated calls away; spread, at most 39 a
    /// second and none. Costs about 1.8 times the polls for as long as an outage lasts (answered without the store).
    /// </summary>
    public static int Degraded(Room room, TimeSpan retryAfter) => FirstAfterJoin((int)Math.Min(retryAfter.TotalMilliseconds, Cap(room)));

    /// <summary>Paused: places are held by polling; nothing moves, so the cap's half is plenty.</summary>
    public static int Paused(Room room) => Jitter(Math.Max(NearFrontMs, Cap(room) / 2));

    /// <summary>Admitted or closed: nothing more will happen that the page must see quickly.</summary>
    public static int Settled(Room room) => Jitter(Cap(room));

    /// <summary>
    /// Before the opening: keep the countdown honest at most every minute, and spread the first poll after
    /// the opening uniformly over half of AbandonAfter (at most 30 s), so 300,000 pre-queued pages do not
    /// all arrive in the opening second. Once open, a place not yet reached by the shuffle polls again soon.
    /// </summary>
    public static int Prequeue(Room room, TimeSpan opensIn)
    {
        if (opensIn <= TimeSpan.Zero)
            return Jitter(1000);
        var until = (long)opensIn.TotalMilliseconds;
        if (until > PrequeueMaxMs)
            return (int)Math.Min(PrequeueMaxMs, until - PrequeueMaxMs / 2);
        var spread = Math.Min(30_000, room.Options.AbandonAfter.TotalMilliseconds / 2);
        return (int)(until + (Random.Shared.NextDouble() * spread));
    }

    private static int Jitter(long ms) => (int)(ms * (0.9 + (Random.Shared.NextDouble() * 0.2)));
}
