namespace Gateway.Admission.Queue;

/// <summary>What a queue script decided.</summary>
internal enum QueueOutcome
{
    Ok,
    NotFound,
    Full,
    NotReady,
    Granted,
}

/// <summary>Where a waiting token stands.</summary>
internal enum EntryState
{
    None,
    Waiting,
    Ready,
    Admitted,
}

/// <summary>
/// The reply of join, status and enter: the token's state and position plus the room's bucket and
/// queue length and what the call's own sweep and promotion did, all read in one atomic step.
/// </summary>
internal sealed record QueueEntry(
    QueueOutcome Outcome,
    EntryState State,
    long Position,
    DateTimeOffset JoinedAt,
    DateTimeOffset? ReadyAt,
    DateTimeOffset ExpiresAt,
    DateTimeOffset Now,
    string Token,
    double TokensAvailable,
    long QueueLength,
    long Promoted,
    long Dropped,
    long Expired,
    bool Created,
    double? FirstEtaSeconds);

/// <summary>The result of one maintenance tick of a room.</summary>
internal sealed record RoomSnapshot(
    long Dropped,
    long Expired,
    long Promoted,
    double TokensAvailable,
    long QueueLength,
    long AdmittedTotal,
    IReadOnlyList<(long BucketStartMs, long Admissions)> History,
    DateTimeOffset TakenAt)
{
    /// <summary>Waiting users who left the line without a token (dropped or left) per 10-second bucket, oldest first.</summary>
    public IReadOnlyList<(long BucketStartMs, long Count)> Vanished { get; init; } = [];

    /// <summary>The queue length sampled by the last tick in each 10-second bucket, oldest first (no sample = room idle).</summary>
    public IReadOnlyList<(long BucketStartMs, long Length)> QueueLengths { get; init; } = [];
}
