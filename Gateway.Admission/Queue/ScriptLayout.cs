using System.Globalization;
using System.Text;

namespace Gateway.Admission.Queue;

/// <summary>
/// What C# and the Lua scripts share, declared once: the room's keys and their order, every script's
/// arguments and their positions, the constants both sides use, and the layout of the replies. The Lua
/// header each script starts with is generated from this (<see cref="Header"/>), so the two cannot drift;
/// a test checks that the scripts use no name this layout does not declare.
/// </summary>
internal static class ScriptLayout
{
    /// <summary>Admission history is counted in buckets of this many milliseconds (the ETA's windows).</summary>
    public const long HistoryBucketMs = 10_000;

    /// <summary>History older than this is trimmed: the ETA's longest window (15 min) plus one bucket of slack.</summary>
    public const long HistoryKeepMs = 960_000;

    /// <summary>Join sequence numbers the Fenwick tree covers (2^24); later joiners fall back to ZRANK.</summary>
    public const long TreeSize = 16_777_216;

    /// <summary>Operator overrides outlive an idle room this long (refreshed while any instance ticks it).</summary>
    public const long ControlTtlMs = 30L * 24 * 3600 * 1000;

    /// <summary>The keys of a room, in KEYS order: <c>wr:{room}:&lt;suffix&gt;</c>, in Lua <c>K_&lt;SUFFIX&gt;</c>.</summary>
    public static readonly IReadOnlyList<(RoomKey Key, string Suffix, string Holds)> Keys =
    [
        (RoomKey.Queue, "q", "ZSET waiting place -> join sequence (FIFO order)"),
        (RoomKey.Places, "tok", "HASH place -> 'state|seq|joined|ready|user|who|client|aid'"),
        (RoomKey.Deadlines, "dl", "ZSET waiting/ready place -> deadline (room clock, ms)"),
        (RoomKey.Users, "users", "HASH unverified user_id -> place (refuses a second place)"),
        (RoomKey.Callers, "who", "HASH caller (identity cookie or verified user) -> place"),
        (RoomKey.Meta, "meta", "HASH seq, tokens, ts, admitted, entered, joins, off, seen, opened, pqn, pseq, jlm, ttl_at"),
        (RoomKey.History, "hist", "HASH 10-second bucket -> promotions; v<bucket> vanished (incl. tokens given back); l<bucket> queue length"),
        (RoomKey.FirstEta, "eta", "HASH place -> ETA (s) promised at join, scored at admission"),
        (RoomKey.Rank, "rank", "HASH Fenwick tree: index -> waiting places (positions without a fast ZRANK)"),
        (RoomKey.Active, "act", "ZSET admission id -> expiry (store time, ms): admissions in force"),
        (RoomKey.Admissions, "aid", "HASH admission id -> place"),
        (RoomKey.Revoked, "rev", "ZSET admission id -> when it was revoked (gates read it every tick)"),
        (RoomKey.Control, "ctl", "HASH operator overrides and the adaptive rate"),
        (RoomKey.Prequeue, "pq", "ZSET pre-queued place -> random score (the opening's shuffle order)"),
        (RoomKey.ClientPlaces, "pc", "HASH client address -> live places"),
        (RoomKey.JoinLimit, "jl", "HASH client address -> joins this minute"),
        (RoomKey.Challenges, "pow", "ZSET used proof-of-work challenge -> its expiry"),
        (RoomKey.Adaptive, "adp", "HASH adaptive admission: rate, ssthresh, dec_at, inc_at, bad_at, pause_at, t0, n0, used (adapt.lua)"),
    ];

    /// <summary>Arguments every script receives first (ARGV[1..n]); numbers unless marked as text.</summary>
    public static readonly IReadOnlyList<ScriptArg> Common =
    [
        new("CAPACITY"), new("REFILL"), new("ABANDON_MS"), new("KEY_TTL_MS"), new("ADMISSION_TTL_MS"),
        new("RANK_MODE", Text: true), new("MAX_ACTIVE"), new("PREQUEUE_FROM"), new("OPENS_AT"), new("JOINS_CLOSE_AT"),
        new("SHUFFLE"), new("GAP_MS"), new("NOW_ARG", Text: true),
    ];

    public static readonly ScriptSpec Join = new("join",
        [new("A_ID", Text: true), new("A_WHO", Text: true), new("A_USER", Text: true), new("A_CLIENT", Text: true), new("A_MAX_LEN"),
         new("A_MAX_PLACES"), new("A_JOINS_PER_MIN"), new("A_PQ_SCORE"), new("A_PROMOTE_LIMIT"), new("A_POW_ID", Text: true), new("A_POW_EXP"), new("A_ALSO", Text: true)]);

    /// <summary>Status takes the places to report on as the arguments from <c>A_IDS</c> to the end.</summary>
    public static readonly ScriptSpec Status = new("status", [], VariadicTail: "A_IDS");

    public static readonly ScriptSpec Enter = new("enter", [new("A_ID", Text: true), new("A_AID", Text: true)]);

    public static readonly ScriptSpec Leave = new("leave", [new("A_ID", Text: true)]);

    public static readonly ScriptSpec Revoke = new("revoke", [new("A_AID", Text: true)]);

    public static readonly ScriptSpec Tick = new("tick",
        [new("A_SWEEP_LIMIT"), new("A_PROMOTE_LIMIT"), new("A_SHUFFLE_LIMIT"), new("A_HISTORY"), new("A_REV_SINCE"), new("A_REV_LIMIT")]);

    /// <summary>
    /// Adaptive admission: one instance's verdict on the room's backends (<c>A_REPORT</c>: pause, decrease to
    /// <c>A_FACTOR</c>, the share of the attempts the backends took, less the margin <c>A_MARGIN</c>, increase,
    /// hold); a decrease at most once per two <c>A_PERIOD_MS</c>, an increase once per period, across all
    /// instances. <c>A_ENABLED</c> 0 clears the adaptive rate.
    /// </summary>
    public static readonly ScriptSpec Adapt = new("adapt",
        [new("A_ENABLED"), new("A_REPORT", Text: true), new("A_FACTOR"), new("A_MARGIN"), new("A_FLOOR"), new("A_STEP"), new("A_PERIOD_MS")]);

    public static readonly IReadOnlyList<ScriptSpec> Scripts = [Join, Status, Enter, Leave, Revoke, Tick, Adapt];

    /// <summary>An increase needs the room to have used at least this share (%) of its adaptive rate over the last period.</summary>
    public const long AdaptiveFullUsePercent = 80;

    /// <summary>
    /// Each increase in a row doubles the step, at most this many times (2^2 = 4 steps): a room whose backends got
    /// their capacity back finds it in a few periods, and the first probe after a decrease is still one step.
    /// </summary>
    public const long AdaptiveMaxDoublings = 2;

    /// <summary>
    /// The longest interval a pre-queued page is told to wait between polls (<see cref="PollCadence"/>). An opening
    /// moved earlier can come just after such a poll, so the places it makes last at least this plus AbandonAfter.
    /// </summary>
    public const long PrequeuePollMaxMs = 60_000;

    /// <summary>Constants both sides use, emitted as Lua locals.</summary>
    public static readonly IReadOnlyList<(string Name, long Value)> Constants =
    [
        ("HIST_BUCKET_MS", HistoryBucketMs), ("HIST_KEEP_MS", HistoryKeepMs), ("TREE_SIZE", TreeSize), ("CTL_TTL_MS", ControlTtlMs),
        ("ADAPT_FULL_USE_PERCENT", AdaptiveFullUsePercent), ("ADAPT_MAX_DOUBLINGS", AdaptiveMaxDoublings), ("PREQUEUE_POLL_MAX_MS", PrequeuePollMaxMs),
    ];

    /// <summary>The fields of the join and enter reply, in order (common.lua's <c>reply</c>).</summary>
    public enum Reply
    {
        Outcome, State, Position, JoinedMs, ReadyMs, NowMs, Id, MilliTokens, QueueLength, Promoted, Dropped, Expired, Created, AdmissionExpiryMs, FirstEta, AdmissionId,
    }

    /// <summary>The fields of the tick reply, in order (tick.lua's return).</summary>
    public enum TickReply
    {
        Dropped, Expired, Promoted, MilliTokens, Waiting, Prequeued, Ready, Active, EnteredTotal, PromotedTotal, OldestJoinedMs, NowMs, Opened,
        State, EffectiveRefill, Shuffled, Control, Revoked, History, Joins, PrequeueOrder, RevocationsKeepMs,
    }

    /// <summary>The fields of the adapt reply, in order (adapt.lua's return).</summary>
    public enum AdaptReply
    {
        Action, Rate, Used, NowMs,
    }

    /// <summary>Per place in the status reply, after the leading now_ms and millitokens: state, position, joined_ms, ready_ms.</summary>
    public const int StatusFieldsPerPlace = 4;

    /// <summary>Fields before the first place in the status reply: now_ms, millitokens.</summary>
    public const int StatusHeader = 2;

    /// <summary>The position in ARGV (1-based) of the first script-specific argument.</summary>
    public static int FirstOwnArg => Common.Count + 1;

    /// <summary>The Lua header of <paramref name="script"/>: keys, arguments, constants and the clock.</summary>
    public static string Header(ScriptSpec script, ScriptClock clock)
    {
        var lua = new StringBuilder("-- Generated from ScriptLayout.cs: do not edit in the .lua files.\n");
        for (var i = 0; i < Keys.Count; i++)
            lua.Append(CultureInfo.InvariantCulture, $"local K_{Keys[i].Suffix.ToUpperInvariant()} = KEYS[{i + 1}]\n");
        var position = 1;
        foreach (var arg in Common.Concat(script.Args))
        {
            lua.Append(CultureInfo.InvariantCulture, $"local {arg.Name} = {(arg.Text ? $"ARGV[{position}]" : $"tonumber(ARGV[{position}])")}\n");
            position++;
        }
        if (script.VariadicTail is { } tail)
            lua.Append(CultureInfo.InvariantCulture, $"local {tail} = {position}\n");
        foreach (var (name, value) in Constants)
            lua.Append(CultureInfo.InvariantCulture, $"local {name} = {value}\n");
        lua.Append("local RANK_BY_TREE = RANK_MODE == 'tree'\n");
        // Order and time come from the store, never from a gateway's clock; only the test-only variant reads an argument.
        lua.Append(clock == ScriptClock.Store
            ? "local now_parts = redis.call('TIME')\nlocal NOW = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)\n"
            : "local NOW = tonumber(NOW_ARG)\n");
        return lua.ToString();
    }
}

/// <summary>One script argument: its Lua name, and whether it stays text (else <c>tonumber</c>).</summary>
internal sealed record ScriptArg(string Name, bool Text = false);

/// <summary>One script: its file name (without .lua), its own arguments after the common ones, and an optional variadic tail.</summary>
internal sealed record ScriptSpec(string Name, IReadOnlyList<ScriptArg> Args, string? VariadicTail = null);

/// <summary>Where a script reads the time.</summary>
internal enum ScriptClock
{
    /// <summary>Redis TIME: what every gateway uses.</summary>
    Store,

    /// <summary>The <c>NOW_ARG</c> argument: only for replaying hours of a queue under a fake clock (the ETA simulation).</summary>
    Argument,
}

/// <summary>The keys of a room, in the order of <see cref="ScriptLayout.Keys"/>.</summary>
internal enum RoomKey
{
    Queue, Places, Deadlines, Users, Callers, Meta, History, FirstEta, Rank, Active, Admissions, Revoked, Control, Prequeue, ClientPlaces, JoinLimit, Challenges, Adaptive,
}
