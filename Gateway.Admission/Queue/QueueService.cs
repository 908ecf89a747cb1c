using System.Globalization;
using System.Security.Cryptography;
using Gateway.Admission.Clients;
using Gateway.Admission.Gate;
using Gateway.Admission.Diagnostics;
using Gateway.Admission.Eta;
using Gateway.Admission.Rooms;
using Gateway.Admission.Tokens;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Admission.Queue;

/// <summary>
/// The waiting room's use cases: join, status, enter, leave, revoke. Adds what the store does not know
/// (place ids and tokens, identities, signed admissions, ETAs and poll cadence, the per-client limits)
/// and records what each call did in metrics and logs: the one place that does. Returns result types that
/// hold everything a response needs; store outages pass through as <see cref="Storage.StoreUnavailableException"/>.
/// </summary>
internal sealed class QueueService(
    IQueueStore store,
    StatusBatcher batcher,
    WaitingTokens waitingTokens,
    AdmissionTokens admissionTokens,
    CallerIdentity identity,
    RevokedAdmissions revoked,
    PendingRevocations pending,
    RoomSnapshots snapshots,
    ClientRateLimits limits,
    IOptionsMonitor<WaitingRoomOptions> options,
    WaitingRoomMetrics metrics,
    TimeProvider time,
    ILogger<QueueService> logger)
{
    public async Task<JoinResult> JoinAsync(Room room, JoinCommand command)
    {
        if (!limits.TryJoin(command.Client))
            return Refused(room, JoinOutcome.RateLimited);

        var caller = command.Caller;
        string? newCookie = null;
        if (caller is null)
            (newCookie, caller) = identity.Mint();

        var settings = options.CurrentValue;
        var stored = await store.JoinAsync(room, new JoinRequest(
            WaitingTokens.NewPlaceId(), caller, command.UserId, command.Client, settings.MaxPlacesPerClient, settings.JoinsPerClientPerMinute,
            PrequeueScore(), command.ChallengeId, command.ChallengeExpires, command.BrowserCaller));
        metrics.Promoted(room.Id, stored.Promoted);
        metrics.Swept(room.Id, stored.Dropped, 0);
        if (stored.Outcome is not (JoinOutcome.Joined or JoinOutcome.Existing))
        {
            if (stored.Outcome != JoinOutcome.NotOpen)
                return Refused(room, stored.Outcome);
            // Before the pre-queue: when to come back (the pre-queue, if the room has one) and when the room opens. The
            // store refused by a schedule this instance's last tick may not have seen yet (set on another instance
            // a moment ago): then the store's own view, read once.
            var snapshot = snapshots.Get(room.Id);
            if (Schedule.OpensAt(room, snapshot) is null)
                snapshot = await store.TickAsync(room, TickWork.ReadOnly());
            var prequeueFrom = Schedule.PrequeueFrom(room, snapshot);
            return Refused(room, stored.Outcome) with
            {
                OpensAt = Schedule.OpensAt(room, snapshot),
                PrequeueFrom = prequeueFrom > stored.Now ? prequeueFrom : null,
            };
        }

        metrics.Join(room.Id, stored.Outcome == JoinOutcome.Joined ? "created" : "existing");
        var standing = Describe(room, stored.Place, stored.Now, stored.TokensAvailable);
        // A flash crowd joins within seconds; spreading the first poll keeps it from coming back as one wave.
        if (standing.Status == StandingStatus.Waiting)
            standing = standing with { PollAfterMs = PollCadence.FirstAfterJoin(standing.PollAfterMs) };
        if (stored.Outcome == JoinOutcome.Joined && standing is { Status: StandingStatus.Waiting, Eta: { } eta })
            await store.RecordFirstEtaAsync(room, stored.Id, eta.Seconds);
        return new JoinResult(stored.Outcome, waitingTokens.Issue(room.Id, stored.Id), standing, newCookie);
    }

    public async Task<StatusResult> StatusAsync(Room room, string placeId)
    {
        var (now, tokens, place) = await batcher.StatusAsync(room, placeId);
        if (place.State == PlaceState.None)
        {
            metrics.Denied(room.Id, "not_found");
            return new StatusResult(null);
        }
        var standing = Describe(room, place, now, tokens);
        if (standing.Position is { } position && standing.Status == StandingStatus.Waiting)
            metrics.Position(room.Id, position);
        return new StatusResult(standing);
    }

    public async Task<EnterResult> EnterAsync(Room room, string placeId)
    {
        var stored = await store.EnterAsync(room, placeId, WaitingTokens.NewPlaceId());
        switch (stored.Outcome)
        {
            case EnterOutcome.Granted:
                if (stored.First)
                    OnFirstAdmission(room, stored);
                return new EnterResult(EnterOutcome.Granted, admissionTokens.Issue(room.Id, stored.AdmissionId, stored.AdmissionExpires),
                    stored.AdmissionExpires, stored.AdmissionExpires - stored.Now, null);
            case EnterOutcome.NotFound:
                metrics.Denied(room.Id, "not_found");
                return new EnterResult(EnterOutcome.NotFound, null, default, default, null);
            default:
                metrics.Denied(room.Id, stored.Outcome switch
                {
                    EnterOutcome.NotReady => "not_ready",
                    EnterOutcome.Paused => "room_paused",
                    EnterOutcome.AtMaxActive => "max_active",
                    _ => "room_closed",
                });
                return new EnterResult(stored.Outcome, null, default, default, Describe(room, stored.Place, stored.Now, stored.TokensAvailable));
        }
    }

    public async Task<LeaveResult> LeaveAsync(Room room, string placeId)
    {
        var (was, admissionId) = await store.LeaveAsync(room, placeId);
        if (was != PlaceState.None)
            metrics.Left(room.Id);
        if (admissionId is not null)
        {
            // The store has listed it for every gate's next tick; this instance's gate stops honouring it now.
            revoked.Add(admissionId, time.GetUtcNow());
            metrics.Revoked(room.Id, "leave");
        }
        return new LeaveResult(was);
    }

    /// <summary>Ends an admission everywhere: this instance's gate at once, the others within a tick.</summary>
    public async Task<bool> RevokeAsync(Room room, string admissionId, string source)
    {
        var now = time.GetUtcNow();
        revoked.Add(admissionId, now);
        bool wasActive;
        try
        {
            wasActive = await store.RevokeAsync(room, admissionId);
        }
        catch (Storage.StoreUnavailableException)
        {
            // This instance already refuses it; the store (and so every other instance) gets it once it is back.
            if (pending.Add(room, admissionId, now))
                Log.RevocationKept(logger, room.Id, source);
            else
                Log.RevocationLost(logger, room.Id, source, PendingRevocations.Limit);
            throw;
        }
        metrics.Revoked(room.Id, source);
        return wasActive;
    }

    /// <summary>True when this client may poll or enter now (the per-client limit); counts a refusal.</summary>
    public bool TryPoll(Room room, string client)
    {
        if (limits.TryPoll(client))
            return true;
        metrics.Denied(room.Id, "rate_limited");
        return false;
    }

    /// <summary>Counts a join the HTTP layer refused before it reached the queue (bad body, bad token...).</summary>
    public void RefusedJoin(Room room, string reason)
    {
        metrics.Join(room.Id, reason);
        Log.JoinRefused(logger, room.Id, reason);
    }

    /// <summary>Counts a proof-of-work challenge handed out, and the difficulty it asked for.</summary>
    public void ChallengeIssued(Room room, int difficulty) => metrics.ChallengeIssued(room.Id, difficulty);

    /// <summary>Counts a call the store could not answer, by what it was.</summary>
    public void Unavailable(Room room, string path)
    {
        if (path.EndsWith("/join", StringComparison.Ordinal))
            RefusedJoin(room, "unavailable");
        else if (path.EndsWith("/enter", StringComparison.Ordinal) || path.EndsWith("/status", StringComparison.Ordinal))
            metrics.Denied(room.Id, "unavailable");
    }

    /// <summary>The answer a status poll gets while the store cannot be reached: still waiting, position unknown.</summary>
    public Standing Degraded(Room room) =>
        new(StandingStatus.Waiting, null, null, 0, PollCadence.Degraded(room, options.CurrentValue.RetryAfter), null, time.GetUtcNow());

    private JoinResult Refused(Room room, JoinOutcome outcome)
    {
        RefusedJoin(room, outcome switch
        {
            JoinOutcome.RateLimited => "rate_limited",
            JoinOutcome.TooManyPlaces => "too_many_places",
            JoinOutcome.AlreadyQueued => "already_queued",
            JoinOutcome.Full => "full",
            JoinOutcome.Closed => "closed",
            JoinOutcome.NotOpen => "not_open",
            _ => "challenge_replayed",
        });
        return new JoinResult(outcome, null, null, null);
    }

    private Standing Describe(Room room, Place place, DateTimeOffset now, double tokens)
    {
        var snapshot = snapshots.Get(room.Id);
        var waited = (long)Math.Max(0, ((place.ReadyAt ?? now) - place.JoinedAt).TotalSeconds);
        var state = snapshot?.State ?? RoomState.Open;
        switch (place.State)
        {
            case PlaceState.Admitted:
                return new Standing(StandingStatus.Admitted, 0, new EtaEstimate(0, 1), waited, PollCadence.Settled(room), null, now) { ReadyAt = place.ReadyAt };
            // A closed room says so to everyone, the pre-queue included: nobody more will be admitted.
            case PlaceState.Prequeued when state != RoomState.Closed:
                var opensAt = Schedule.OpensAt(room, snapshot) ?? now;
                var opensIn = opensAt - now;
                return new Standing(StandingStatus.Prequeue, null, new EtaEstimate((long)Math.Ceiling(Math.Max(0, opensIn.TotalSeconds)), 1), waited,
                    PollCadence.Prequeue(room, opensIn), opensAt, now) { InRandomOrder = Schedule.ShuffleAtOpen(room, snapshot) };
        }
        if (state == RoomState.Closed)
            return new Standing(StandingStatus.Closed, null, null, waited, PollCadence.Settled(room), null, now);
        if (state == RoomState.Paused)
            return new Standing(StandingStatus.Paused, place.State == PlaceState.Ready ? 0 : place.Position, null, waited, PollCadence.Paused(room), null, now);
        // Ready before an opening (an open room given a later OpensAt): the reservation is kept, and admissions start then.
        if (place.State == PlaceState.Ready && snapshot is { Opened: false } && Schedule.OpensAt(room, snapshot) is { } reopening && reopening > now)
            return new Standing(StandingStatus.Prequeue, null, new EtaEstimate((long)Math.Ceiling((reopening - now).TotalSeconds), 1), waited,
                Math.Min(PollCadence.Prequeue(room, reopening - now), PollCadence.Cap(room)), reopening, now) { InRandomOrder = false, ReadyAt = place.ReadyAt };
        if (place.State == PlaceState.Ready)
            return new Standing(StandingStatus.Ready, 0, new EtaEstimate(0, 1), waited, PollCadence.NearFrontMs, null, now) { ReadyAt = place.ReadyAt };

        var position = place.Position ?? 0;
        var refill = snapshot?.EffectiveRefillPerSecond ?? room.Options.RefillPerSecond;
        // Adaptive admission paused the room (a backend's breaker is open): it resumes at the floor.
        if (refill <= 0)
            refill = room.Options.Adaptive.Floor;
        var cap = Cap(room, snapshot);
        var eta = EtaEstimator.Estimate(position, tokens, refill, snapshot, now, cap);
        // In line before an opening (an open room given a later OpensAt): nobody goes in until then.
        if (snapshot is { Opened: false } && Schedule.OpensAt(room, snapshot) is { } opening && opening > now)
            eta = eta with { Seconds = eta.Seconds + (long)Math.Ceiling((opening - now).TotalSeconds) };
        var pollAfter = cap is { } slots && position > slots.Free
            ? PollCadence.WaitingForSlot(room, eta, position - slots.Free - 1)
            : PollCadence.Waiting(room, eta);
        return new Standing(StandingStatus.Waiting, position, eta, waited, pollAfter, null, now);
    }

    /// <summary>The room's <c>MaxActive</c> (the operator's override first) and the slots in use at the last tick; null without a cap.</summary>
    private static ActiveCap? Cap(Room room, RoomSnapshot? snapshot)
    {
        long? max = snapshot?.Overrides.GetValueOrDefault(ControlFields.MaxActive) is { } text && long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var overridden)
            ? overridden
            : room.Options.MaxActive;
        return max is > 0 ? new ActiveCap(max.Value, snapshot is null ? 0 : snapshot.Active + snapshot.Ready, room.Options.AdmissionTtl) : null;
    }

    private void OnFirstAdmission(Room room, StoredEnter entry)
    {
        metrics.Admitted(room.Id);
        var waited = ((entry.Place.ReadyAt ?? entry.Now) - entry.Place.JoinedAt).TotalSeconds;
        Log.Admitted(logger, room.Id, waited);
        // Waits under a second are admissions straight from the bucket; scoring them says nothing about the ETA.
        if (entry.FirstEtaSeconds is { } promised && waited >= 1)
            metrics.EtaAccuracy(room.Id, Math.Max(0, 1 - (Math.Abs(promised - waited) / waited)));
    }

    /// <summary>A uniformly random order for the opening's shuffle: 53 random bits, exact in a sorted-set score.</summary>
    internal static double PrequeueScore() => (double)(BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8)) >> 11);
}
