using System.Globalization;
using Gateway.Admission.Queue;
using StackExchange.Redis;

namespace Gateway.Admission.Rooms;

/// <summary>
/// A configured room as the queue and the gate use it: immutable, rebuilt whole when configuration
/// reloads. The scripts' common arguments are precomputed because every queue call sends them.
/// </summary>
internal sealed class Room
{
    public Room(string id, RoomOptions options, bool rankByTree, TimeSpan tickInterval)
    {
        Id = id;
        Options = options;
        // Spent challenges are kept until a minute after they expire (a replay is refused that long), so an idle room's
        // keys outlive the longest ChallengeTtl as well.
        var longest = Max(Max(options.AdmissionTtl, options.AbandonAfter), TimeSpan.FromMilliseconds(ScriptLayout.HistoryKeepMs));
        if (options.ProofOfWork.Enabled)
            longest = Max(longest, options.ProofOfWork.ChallengeTtl + ProofOfWork.Challenges.ClockSkewAllowance);
        KeyTtl = longest + TimeSpan.FromMinutes(10);
        Keys = RoomKeys.For(id);
        CookieName = "wr_adm_" + id;
        // A store nobody could reach for this long was down: the gap does not count toward AbandonAfter. Well under
        // AbandonAfter (a quarter), so a short room's people are not dropped by an outage too short to count; never
        // under five ticks, so the ticks' own spacing (a busy instance, a GC pause) is not taken for one.
        OutageGap = Min(Max(TimeSpan.FromSeconds(5), tickInterval * 20), Max(options.AbandonAfter / 4, tickInterval * 5));
        ScriptArguments =
        [
            options.Capacity,
            options.RefillPerSecond.ToString("R", CultureInfo.InvariantCulture),
            (long)options.AbandonAfter.TotalMilliseconds,
            (long)KeyTtl.TotalMilliseconds,
            (long)options.AdmissionTtl.TotalMilliseconds,
            rankByTree ? "tree" : "zrank",
            options.MaxActive ?? 0,
            options.PrequeueFrom?.ToUnixTimeMilliseconds() ?? 0,
            options.OpensAt?.ToUnixTimeMilliseconds() ?? 0,
            options.JoinsCloseAt?.ToUnixTimeMilliseconds() ?? 0,
            options.ShuffleAtOpen ? 1 : 0,
            (long)OutageGap.TotalMilliseconds,
            "",
        ];
    }

    public string Id { get; }

    public RoomOptions Options { get; }

    /// <summary>How long the room's keys outlive its last activity (at least the 15-minute ETA window).</summary>
    public TimeSpan KeyTtl { get; }

    public RoomKeys Keys { get; }

    /// <summary>The admission cookie for this room; one per room so admissions to several rooms coexist.</summary>
    public string CookieName { get; }

    /// <summary>How long the store must have gone without a tick for the time to count as an outage.</summary>
    public TimeSpan OutageGap { get; }

    /// <summary>The arguments every script of this room starts with, in <see cref="ScriptLayout.Common"/> order.</summary>
    public RedisValue[] ScriptArguments { get; }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
