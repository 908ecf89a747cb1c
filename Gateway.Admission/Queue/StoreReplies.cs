using Gateway.Admission.Rooms;

namespace Gateway.Admission.Queue;

/// <summary>Where a place stands.</summary>
internal enum PlaceState
{
    /// <summary>No such place: never issued, left, dropped, expired or revoked.</summary>
    None,

    /// <summary>Joined before the opening; placed in line by the opening's shuffle.</summary>
    Prequeued,

    /// <summary>In line.</summary>
    Waiting,

    /// <summary>An admission is reserved: the person may enter.</summary>
    Ready,

    /// <summary>Entered: holds an admission.</summary>
    Admitted,
}

/// <summary>A place as the store reported it, read atomically.</summary>
/// <param name="Position">1 = next in line; null unless waiting.</param>
internal readonly record struct Place(PlaceState State, long? Position, DateTimeOffset JoinedAt, DateTimeOffset? ReadyAt);

/// <summary>What the join script decided.</summary>
internal enum JoinOutcome
{
    Joined,
    Existing,
    AlreadyQueued,
    RateLimited,
    TooManyPlaces,
    Full,
    Closed,
    NotOpen,
    ChallengeReplayed,
}

/// <summary>A join as the store sees it: who asks, from where, under which limits.</summary>
/// <param name="Id">The new place's id, used only if one is created.</param>
/// <param name="Caller">The caller: <c>c:&lt;identity cookie id&gt;</c> or <c>s:&lt;hash of the verified user&gt;</c>.</param>
/// <param name="UserId">An unverified user id (refuses a second place, never returns one), or null.</param>
/// <param name="Client">The client's network (IPv4 address, IPv6 /64) for the per-client limits.</param>
/// <param name="PrequeueScore">A uniformly random score: the person's order in the opening's shuffle.</param>
/// <param name="ChallengeId">A proof-of-work challenge consumed by this join, or null.</param>
internal sealed record JoinRequest(
    string Id,
    string Caller,
    string? UserId,
    string Client,
    int MaxPlacesPerClient,
    int JoinsPerClientPerMinute,
    double PrequeueScore,
    string? ChallengeId = null,
    DateTimeOffset? ChallengeExpires = null,
    string? AlsoCaller = null);

/// <summary>The join script's answer.</summary>
internal sealed record StoredJoin(JoinOutcome Outcome, string Id, Place Place, DateTimeOffset Now, double TokensAvailable, long Promoted, long Dropped);

/// <summary>The status script's answer for a batch of places, read in one atomic step with the bucket.</summary>
internal sealed record StatusBatch(DateTimeOffset Now, double TokensAvailable, Place[] Places);

/// <summary>The leave script's answer: the state the place had, and the admission the leave ended (an admitted place).</summary>
internal sealed record StoredLeave(PlaceState Was, string? AdmissionId);

/// <summary>What the enter script decided.</summary>
internal enum EnterOutcome
{
    Granted,
    NotReady,
    NotFound,

    /// <summary>Ready, but an operator paused the room: nobody is admitted until it reopens.</summary>
    Paused,

    /// <summary>Ready, but an operator closed the room: nobody more is admitted.</summary>
    Closed,

    /// <summary>
    /// Ready, but the room has <c>MaxActive</c> admissions in force (an operator lowered it after this place was
    /// promoted): the reservation is kept and granted once an admission ends.
    /// </summary>
    AtMaxActive,
}

/// <summary>The enter script's answer. <paramref name="First"/> is true only for the call that admitted.</summary>
internal sealed record StoredEnter(
    EnterOutcome Outcome,
    Place Place,
    DateTimeOffset Now,
    double TokensAvailable,
    DateTimeOffset AdmissionExpires,
    string AdmissionId,
    bool First,
    long? FirstEtaSeconds);

/// <summary>How much one tick may do, and what it should report.</summary>
internal sealed record TickWork(int SweepLimit, int PromoteLimit, int ShuffleLimit, bool History, long RevokedSinceMs, int RevokedLimit)
{
    /// <summary>Only report: no sweeping, shuffling or promotion (the admin API's reads).</summary>
    public static TickWork ReadOnly(long revokedSinceMs = long.MaxValue) => new(0, 0, 0, false, revokedSinceMs, 0);
}

/// <summary>A room's state as one tick saw it.</summary>
internal sealed record RoomSnapshot
{
    public long Dropped { get; init; }

    public long Expired { get; init; }

    public long Promoted { get; init; }

    public double TokensAvailable { get; init; }

    /// <summary>People in line (waiting, not yet ready).</summary>
    public long Waiting { get; init; }

    /// <summary>People in the pre-queue not yet placed by the opening's shuffle.</summary>
    public long Prequeued { get; init; }

    /// <summary>People with a reserved admission who have not entered yet.</summary>
    public long Ready { get; init; }

    /// <summary>Admissions in force (entered, not expired, left or revoked).</summary>
    public long Active { get; init; }

    /// <summary>Admissions granted since the room's keys were created.</summary>
    public long AdmittedTotal { get; init; }

    public long PromotedTotal { get; init; }

    /// <summary>When the person at the head of the line joined; null when nobody waits.</summary>
    public DateTimeOffset? OldestJoinedAt { get; init; }

    public DateTimeOffset TakenAt { get; init; }

    public bool Opened { get; init; }

    public RoomState State { get; init; }

    /// <summary>The refill the bucket uses now: the configured or overridden rate, lowered by adaptive admission.</summary>
    public double EffectiveRefillPerSecond { get; init; }

    /// <summary>The adaptive rate in the store (the control hash's <c>adaptive</c> field), or null when adaptation has not set one.</summary>
    public double? AdaptiveRefillPerSecond { get; init; }

    /// <summary>Pre-queued people placed in line by this tick.</summary>
    public long Shuffled { get; init; }

    /// <summary>The operators' overrides in the store (field -> value); the adaptive rate is not one of them.</summary>
    public IReadOnlyDictionary<string, string> Overrides { get; init; } = new Dictionary<string, string>();

    /// <summary>Admissions revoked since the tick's cursor: admission id and when (store time, ms).</summary>
    public IReadOnlyList<(string AdmissionId, long RevokedAtMs)> Revoked { get; init; } = [];

    /// <summary>Promotions per 10-second bucket, oldest first (only from ticks that read the history).</summary>
    public IReadOnlyList<(long BucketStartMs, long Count)> History { get; init; } = [];

    /// <summary>People who left the line without using a token (waiting users dropped or gone; ready users whose token came back) per 10-second bucket, oldest first.</summary>
    public IReadOnlyList<(long BucketStartMs, long Count)> Vanished { get; init; } = [];

    /// <summary>The queue length sampled in each 10-second bucket, oldest first (no sample = room idle).</summary>
    public IReadOnlyList<(long BucketStartMs, long Length)> QueueLengths { get; init; } = [];

    /// <summary>True when this snapshot carries the history series.</summary>
    public bool HasHistory { get; init; }

    /// <summary>How the pre-queue is ordered, as its first joiner fixed it (true = at random); null when nobody is pre-queued yet.</summary>
    public bool? PrequeueShuffled { get; init; }

    /// <summary>New places created in the room (every instance) since its keys were created: the automatic difficulty's rate.</summary>
    public long JoinsTotal { get; init; }

    /// <summary>
    /// How long a revocation must be kept: AdmissionTtl, or longer while admissions granted under a longer AdmissionTtl
    /// may still be in force (their tokens keep the expiry they were signed with).
    /// </summary>
    public TimeSpan RevocationsKept { get; init; }
}

/// <summary>One instance's verdict on a room's backends, sent to adapt.lua.</summary>
internal enum AdaptVerdict
{
    /// <summary>Cannot tell (settling after a change, or a breaker is half-open): only learn the rate.</summary>
    Hold,

    /// <summary>The backends coped: add one step.</summary>
    Increase,

    /// <summary>The backends were overloaded: multiply by the report's factor.</summary>
    Decrease,

    /// <summary>A circuit breaker of the room's clusters is open: admit nobody.</summary>
    Pause,

    /// <summary>Adaptation is off for the room: clear the adaptive rate.</summary>
    Off,
}

/// <summary>What an instance tells adapt.lua: its verdict, the decrease factor, and the evidence (for the log).</summary>
/// <param name="Factor">For <see cref="AdaptVerdict.Decrease"/>: the share of the attempts the backends took, in [0, 1] (1 when
/// the overload was slowness, which says nothing of its size); adapt.lua sets the rate that share (times the room's
/// margin, <see cref="Adaptive.AdaptiveOptions.DecreaseFactor"/>) of what caused it.</param>
/// <param name="Evidence">Why, in words, for the log line of a change this report causes.</param>
internal sealed record AdaptReport(AdaptVerdict Verdict, double Factor = 1, string Evidence = "")
{
    public static readonly AdaptReport Hold = new(AdaptVerdict.Hold);
    public static readonly AdaptReport Off = new(AdaptVerdict.Off);
}

/// <summary>What adapt.lua did.</summary>
internal enum AdaptAction
{
    None,
    Pause,
    Resume,
    Decrease,
    Increase,

    /// <summary>Adaptation was switched off and the rate cleared.</summary>
    Off,
}

/// <summary>adapt.lua's answer: what it did and the rate now in force for every instance.</summary>
/// <param name="RatePerSecond">The adaptive rate in the store; null once cleared.</param>
/// <param name="UsedPerSecond">Promotions per second over the store's last full control period; null before one was measured.</param>
internal sealed record AdaptResult(AdaptAction Action, double? RatePerSecond, double? UsedPerSecond, DateTimeOffset Now);
