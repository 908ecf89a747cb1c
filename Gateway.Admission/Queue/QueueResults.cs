using Gateway.Admission.Eta;

namespace Gateway.Admission.Queue;

/// <summary>How a person stands, as the API shows it.</summary>
internal enum StandingStatus
{
    Prequeue,
    Waiting,
    Ready,
    Admitted,
    Paused,
    Closed,
}

/// <summary>
/// Everything a join, status or refused enter answers about a place, computed once: the ETA here is the
/// one the response shows and, for a new place, the one recorded to score the ETA's accuracy.
/// </summary>
/// <param name="Position">1 = next in line; null when not waiting, in the pre-queue, paused-unknown or closed.</param>
/// <param name="Eta">Seconds until the person's turn (or, in the pre-queue, until the opening) and its confidence; null when nobody can say.</param>
/// <param name="WaitedSeconds">How long the person has waited so far (to their turn once ready).</param>
/// <param name="PollAfterMs">When the client should poll next: often near the front, rarely far back, always well inside AbandonAfter.</param>
/// <param name="OpensAt">When the room opens, while it has not.</param>
internal sealed record Standing(
    StandingStatus Status,
    long? Position,
    EtaEstimate? Eta,
    long WaitedSeconds,
    int PollAfterMs,
    DateTimeOffset? OpensAt,
    DateTimeOffset ServerTime)
{
    /// <summary>When the person's turn came (store time), once it has.</summary>
    public DateTimeOffset? ReadyAt { get; init; }

    /// <summary>In the pre-queue: whether the opening gives everyone a random order (else the order they came in).</summary>
    public bool InRandomOrder { get; init; }

    public bool ReadyForEntry => Status == StandingStatus.Ready;
}

/// <summary>The answer to a join.</summary>
/// <param name="WaitingToken">The place's bearer token (new or existing); only for <see cref="JoinOutcome.Joined"/> and <see cref="JoinOutcome.Existing"/>.</param>
/// <param name="NewIdentityCookie">An identity cookie to set: the caller had none (or a forged one).</param>
/// <param name="OpensAt">For <see cref="JoinOutcome.NotOpen"/>: when the room opens.</param>
/// <param name="PrequeueFrom">For <see cref="JoinOutcome.NotOpen"/>: when the pre-queue starts taking joins, if the room has one still to come.</param>
internal sealed record JoinResult(JoinOutcome Outcome, string? WaitingToken, Standing? Standing, string? NewIdentityCookie, DateTimeOffset? OpensAt = null, DateTimeOffset? PrequeueFrom = null);

/// <summary>The answer to a status poll: the place's standing, or null when there is no such place.</summary>
internal sealed record StatusResult(Standing? Standing);

/// <summary>The answer to an enter.</summary>
/// <param name="AdmissionToken">The signed admission (the same one on every repeat); only when granted.</param>
/// <param name="Standing">For a refusal: where the person stands.</param>
internal sealed record EnterResult(EnterOutcome Outcome, string? AdmissionToken, DateTimeOffset ExpiresAt, TimeSpan Ttl, Standing? Standing);

/// <summary>The answer to a leave: whether there was a place, and what it was.</summary>
internal sealed record LeaveResult(PlaceState Was);

/// <summary>What a join asks for, as the HTTP layer read it.</summary>
/// <param name="Caller">The verified caller (identity cookie or user token), or null to mint a new identity.</param>
/// <param name="UserId">The unverified user id from the body, or null.</param>
/// <param name="Client">The client's network for the per-client limits (see ClientAddress).</param>
/// <param name="ChallengeId">A solved proof-of-work challenge this join consumes, or null.</param>
/// <param name="BrowserCaller">With a verified user: the browser's own identity (its cookie), whose place becomes the user's when the user has none.</param>
internal sealed record JoinCommand(string? Caller, string? UserId, string Client, string? ChallengeId = null, DateTimeOffset? ChallengeExpires = null, string? BrowserCaller = null);
