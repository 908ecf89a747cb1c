using Gateway.Admission.Diagnostics;
using Gateway.Admission.Eta;
using Gateway.Admission.Rooms;
using Gateway.Admission.Tokens;
using Microsoft.Extensions.Logging;

namespace Gateway.Admission.Queue;

/// <summary>
/// The waiting room's use cases over the store: join, status, enter, leave. Adds what the store does not
/// know (fresh waiting tokens, signed admissions, ETAs) and records what each call did in metrics and logs.
/// Store failures pass through as <see cref="Storage.StoreUnavailableException"/>.
/// </summary>
internal sealed class QueueService(IQueueStore store, AdmissionTokens admissionTokens, RoomSnapshots snapshots, WaitingRoomMetrics metrics, ILogger<QueueService> logger)
{
    public async Task<QueueEntry> JoinAsync(Room room, string? userId, string? idempotencyKey)
    {
        var entry = await store.JoinAsync(room, WaitingTokens.New(room.Id), userId, idempotencyKey);
        Observe(room, entry);
        if (entry.Outcome == QueueOutcome.Full)
        {
            metrics.Join(room.Id, "full");
            Log.JoinRefused(logger, room.Id, "queue full");
            return entry;
        }
        metrics.Join(room.Id, entry.Created ? "created" : "existing");
        if (entry.State == EntryState.Waiting)
            metrics.Position(room.Id, entry.Position);
        if (entry.Created)
            await store.RecordFirstEtaAsync(room, entry.Token, Eta(room, entry).Seconds);
        return entry;
    }

    public async Task<QueueEntry> StatusAsync(Room room, string token)
    {
        var entry = await store.StatusAsync(room, token);
        Observe(room, entry);
        if (entry.State == EntryState.Waiting)
            metrics.Position(room.Id, entry.Position);
        return entry;
    }

    /// <summary>Enters the room; on success also returns the signed admission (the same one on every repeat).</summary>
    public async Task<(QueueEntry Entry, string? Admission)> EnterAsync(Room room, string token, string subject)
    {
        var entry = await store.EnterAsync(room, token);
        Observe(room, entry);
        switch (entry.Outcome)
        {
            case QueueOutcome.Granted:
                if (entry.Created)
                    OnFirstAdmission(room, entry);
                return (entry, admissionTokens.Issue(room.Id, subject, entry.ExpiresAt));
            case QueueOutcome.NotReady:
                metrics.Denied(room.Id, "not_ready");
                return (entry, null);
            default:
                metrics.Denied(room.Id, "not_found");
                return (entry, null);
        }
    }

    public async Task<bool> LeaveAsync(Room room, string token)
    {
        var existed = await store.LeaveAsync(room, token);
        if (existed)
            metrics.Left(room.Id);
        return existed;
    }

    public void RefusedJoin(Room room, string reason)
    {
        metrics.Join(room.Id, reason);
        Log.JoinRefused(logger, room.Id, reason);
    }

    public void RefusedEnter(Room room) => metrics.Denied(room.Id, "unavailable");

    public EtaEstimate Eta(Room room, QueueEntry entry) =>
        EtaEstimator.Estimate(entry.Position, entry.TokensAvailable, room.Options, snapshots.Get(room.Id), entry.Now);

    private void OnFirstAdmission(Room room, QueueEntry entry)
    {
        metrics.Admitted(room.Id);
        var waited = ((entry.ReadyAt ?? entry.Now) - entry.JoinedAt).TotalSeconds;
        Log.Admitted(logger, room.Id, waited);
        // Waits under a second are admissions straight from the bucket; scoring them says nothing about the ETA.
        if (entry.FirstEtaSeconds is { } promised && waited >= 1)
            metrics.EtaAccuracy(room.Id, Math.Max(0, 1 - Math.Abs(promised - waited) / waited));
    }

    private void Observe(Room room, QueueEntry entry)
    {
        metrics.Promoted(room.Id, entry.Promoted);
        metrics.Swept(room.Id, entry.Dropped, entry.Expired);
    }
}
