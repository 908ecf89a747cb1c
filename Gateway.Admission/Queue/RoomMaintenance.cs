using System.Collections.Concurrent;
using Gateway.Admission.Diagnostics;
using Gateway.Admission.Gate;
using Gateway.Admission.Rooms;
using Gateway.Admission.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Admission.Queue;

/// <summary>
/// Runs every room's tick on every instance, every <see cref="WaitingRoomOptions.MaintenanceInterval"/>:
/// drops abandoned places even if nobody polls, places the pre-queue at the opening, promotes the head of
/// the line, and refreshes what this instance knows of the room (the snapshot the ETA, poll cadence, gauges
/// and admin API read; the revoked admissions the gate checks; the operators' overrides). Running it on
/// every instance is safe because the script is atomic and does bounded work.
/// </summary>
internal sealed class RoomMaintenance(
    IQueueStore store,
    RoomRegistry rooms,
    RoomSnapshots snapshots,
    RevokedAdmissions revoked,
    PendingRevocations pending,
    WaitingRoomMetrics metrics,
    IOptionsMonitor<WaitingRoomOptions> options,
    TimeProvider time,
    ILogger<RoomMaintenance> logger) : BackgroundService
{
    /// <summary>Examined per call and kind (expired places, expired admissions, stale revocations): ~2 ms of store time at most.</summary>
    internal const int SweepLimit = 200;

    /// <summary>Heads examined per tick for promotion.</summary>
    internal const int PromoteLimit = 500;

    /// <summary>Pre-queued places moved in line per call at the opening (each call a few ms of store time).</summary>
    internal const int ShuffleLimit = 500;

    /// <summary>Calls one instance makes back to back per tick while the opening's shuffle or a mass cleanup is unfinished.</summary>
    private const int ExtraCallsPerTick = 20;

    private const int RevokedLimit = 1000;
    private static readonly TimeSpan HistoryEvery = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<string, long> _revokedSince = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _caughtUp = new(StringComparer.Ordinal);

    private volatile bool _everCaughtUp;

    /// <summary>
    /// True once every room's revocations have been read up to the store's latest (readiness): a new instance starts
    /// from none, and until then it would honour admissions every other instance already refuses. Once true it stays
    /// so: a room added by a reload is read by the next tick, and readiness does not flap on a config edit.
    /// </summary>
    public bool RevocationsCaughtUp => _everCaughtUp || (_everCaughtUp = rooms.All.All(r => _caughtUp.ContainsKey(r.Id)));
    private readonly ConcurrentDictionary<string, RoomState> _lastState = new(StringComparer.Ordinal);
    private DateTimeOffset _lastHistory = DateTimeOffset.MinValue;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            await TickAllAsync();
            try
            {
                await Task.Delay(options.CurrentValue.MaintenanceInterval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    internal async Task TickAllAsync()
    {
        var now = time.GetUtcNow();
        var history = now - _lastHistory >= HistoryEvery;
        if (history)
            _lastHistory = now;
        var longest = TimeSpan.Zero;
        foreach (var room in rooms.All)
        {
            try
            {
                await TickAsync(room, history);
            }
            catch (StoreUnavailableException ex)
            {
                Log.MaintenanceFailed(logger, room.Id, ex.Message);
            }
            var keep = RevocationsKept(room);
            longest = keep > longest ? keep : longest;
        }
        revoked.Prune(longest);
        await DeliverPendingAsync();
    }

    /// <summary>Revocations this instance could not hand to the store, handed over now: at most <see cref="RevokedLimit"/> per tick.</summary>
    private async Task DeliverPendingAsync()
    {
        var delivered = 0;
        var now = time.GetUtcNow();
        while (delivered < RevokedLimit && pending.TryTake(out var entry))
        {
            if (now - entry.At > RevocationsKept(entry.Room))
                continue; // ended by itself meanwhile
            try
            {
                await store.RevokeAsync(entry.Room, entry.AdmissionId);
            }
            catch (StoreUnavailableException)
            {
                if (!pending.Add(entry.Room, entry.AdmissionId, entry.At))
                    Log.RevocationLost(logger, entry.Room.Id, "retry", PendingRevocations.Limit);
                break;
            }
            delivered++;
        }
        if (delivered > 0)
            Log.RevocationsDelivered(logger, delivered);
    }

    private async Task TickAsync(Room room, bool history)
    {
        var since = _revokedSince.GetValueOrDefault(room.Id);
        var snapshot = await store.TickAsync(room, new TickWork(SweepLimit, PromoteLimit, ShuffleLimit, history, since, RevokedLimit));
        var shuffled = snapshot.Shuffled;
        var (dropped, expired, promoted) = (snapshot.Dropped, snapshot.Expired, snapshot.Promoted);
        // A backlog (the opening's shuffle, or thousands of places expiring at once) is worked off in more
        // bounded calls right away: each is short, and the store serves everyone else between them.
        for (var call = 1; call < ExtraCallsPerTick && ((snapshot.Opened && snapshot.Prequeued > 0) || snapshot.Dropped >= SweepLimit || snapshot.Expired >= SweepLimit); call++)
        {
            snapshot = await store.TickAsync(room, new TickWork(SweepLimit, 0, ShuffleLimit, false, long.MaxValue, 0)) with
            {
                Revoked = snapshot.Revoked,
                History = snapshot.History,
                Vanished = snapshot.Vanished,
                QueueLengths = snapshot.QueueLengths,
                HasHistory = snapshot.HasHistory,
            };
            shuffled += snapshot.Shuffled;
            dropped += snapshot.Dropped;
            expired += snapshot.Expired;
        }
        snapshot = snapshot with { Dropped = dropped, Expired = expired, Promoted = promoted };
        Observe(room, snapshot, shuffled);
        var page = snapshot.Revoked;
        var read = new List<(string AdmissionId, long RevokedAtMs)>();
        // A full page means more are waiting (a new instance catching up): read on now, a bounded number of pages.
        for (var call = 0; ; call++)
        {
            if (page.Count > 0)
            {
                read.AddRange(page);
                _revokedSince[room.Id] = page.Max(r => r.RevokedAtMs);
            }
            if (page.Count < RevokedLimit)
            {
                _caughtUp[room.Id] = true;
                break;
            }
            if (call == ExtraCallsPerTick)
                break;
            page = (await store.TickAsync(room, new TickWork(0, 0, 0, false, _revokedSince[room.Id], RevokedLimit))).Revoked;
        }
        if (read.Count > 0)
            revoked.AddRange(read);
    }

    /// <summary>
    /// How long a revocation in <paramref name="room"/> matters: its AdmissionTtl, or longer while admissions granted
    /// under a longer one are in force (the store tracks them; the last tick's word stands while it is unreachable).
    /// Lowering AdmissionTtl must not bring revoked admissions back: their tokens keep the expiry they were signed with.
    /// </summary>
    private TimeSpan RevocationsKept(Room room) =>
        snapshots.Get(room.Id)?.RevocationsKept is { } kept && kept > room.Options.AdmissionTtl ? kept : room.Options.AdmissionTtl;

    private void Observe(Room room, RoomSnapshot snapshot, long shuffled)
    {
        snapshots.Set(room.Id, snapshot);
        metrics.Promoted(room.Id, snapshot.Promoted);
        metrics.Swept(room.Id, snapshot.Dropped, snapshot.Expired);
        metrics.RoomState(room.Id, snapshot, room.Options.RefillPerSecond);
        if (snapshot.Dropped > 0 || snapshot.Expired > 0)
            Log.Swept(logger, room.Id, snapshot.Dropped, snapshot.Expired);
        if (shuffled > 0)
            Log.Shuffled(logger, room.Id, shuffled, snapshot.Prequeued);
        if (_lastState.TryGetValue(room.Id, out var before) && before != snapshot.State)
            Log.RoomStateChanged(logger, room.Id, before.ToString(), snapshot.State.ToString());
        _lastState[room.Id] = snapshot.State;
    }
}
