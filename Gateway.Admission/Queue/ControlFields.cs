namespace Gateway.Admission.Queue;

/// <summary>
/// The fields of a room's control hash (<c>wr:{room}:ctl</c>) that operators set through the admin API, as
/// the scripts read them (common.lua's <c>CTL.*</c> / <c>ctl_number</c>). A test checks that common.lua reads
/// every one, so the two cannot drift. The hash may hold other fields (the adaptive rate): removing the
/// operators' overrides removes these fields only.
/// </summary>
internal static class ControlFields
{
    /// <summary><c>open</c>, <c>paused</c> or <c>closed</c>; absent = open.</summary>
    public const string State = "state";

    /// <summary>Token-bucket burst size (whole admissions).</summary>
    public const string Capacity = "capacity";

    /// <summary>Admissions per second (may be fractional).</summary>
    public const string Refill = "refill";

    /// <summary>Admissions active at once; absent = the configured cap.</summary>
    public const string MaxActive = "max_active";

    /// <summary>Unix milliseconds.</summary>
    public const string PrequeueFrom = "prequeue_from";

    /// <summary>Unix milliseconds.</summary>
    public const string OpensAt = "opens_at";

    /// <summary>Unix milliseconds.</summary>
    public const string JoinsCloseAt = "joins_close_at";

    /// <summary><c>1</c> or <c>0</c>.</summary>
    public const string Shuffle = "shuffle";

    /// <summary>Written when a change only removes fields, so the hash (and its TTL) exists; carries no meaning.</summary>
    public const string Updated = "updated";

    /// <summary>Every operator field, in the order the admin API shows them.</summary>
    public static readonly IReadOnlyList<string> Operator = [State, Capacity, Refill, MaxActive, PrequeueFrom, OpensAt, JoinsCloseAt, Shuffle];
}
