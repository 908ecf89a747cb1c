using System.Diagnostics;
using System.Globalization;
using Gateway.Admission.Diagnostics;
using Gateway.Admission.Rooms;
using Gateway.Admission.Storage;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Gateway.Admission.Queue;

/// <summary>Runs the queue scripts on the store connection (Redis, Redis Cluster, Valkey or the embedded store).</summary>
internal sealed class RedisQueueStore(StoreConnection connection, WaitingRoomMetrics metrics, ILogger<RedisQueueStore> logger) : IQueueStore
{
    // A hot-path call promotes at most this many heads and sweeps at most a few expired entries, so a
    // status poll stays O(log N) even right after a mass abandonment; the maintenance tick does the bulk.
    private const int HotPromoteLimit = 200;
    private const int HotSweepLimit = 20;
    private const int TickPromoteLimit = 1000;
    private const int TickSweepLimit = 2000;

    public async Task<QueueEntry> JoinAsync(Room room, string candidateToken, string? userId, string? idempotencyKey)
    {
        var result = await RunAsync("join", QueueScripts.Join, room, HotPromoteLimit, HotSweepLimit,
            candidateToken, userId ?? "", idempotencyKey ?? "", room.Options.MaxQueueLength);
        return ToEntry(result);
    }

    public async Task<QueueEntry> StatusAsync(Room room, string token) =>
        ToEntry(await RunAsync("status", QueueScripts.Status, room, HotPromoteLimit, HotSweepLimit, token));

    public async Task<QueueEntry> EnterAsync(Room room, string token) =>
        ToEntry(await RunAsync("enter", QueueScripts.Enter, room, HotPromoteLimit, HotSweepLimit, token));

    public Task RecordFirstEtaAsync(Room room, string token, long etaSeconds)
    {
        // Fire-and-forget: the join already answered; losing this write only loses one accuracy sample.
        try
        {
            connection.Database.HashSet(room.Keys.FirstEta, token, etaSeconds, flags: CommandFlags.FireAndForget);
        }
        catch (RedisException)
        {
            metrics.StoreError("record_eta");
        }
        return Task.CompletedTask;
    }

    public async Task<bool> LeaveAsync(Room room, string token)
    {
        var result = await RunAsync("leave", QueueScripts.Leave, room, 0, 0, token);
        return (long)result[0] == 1;
    }

    public async Task<RoomSnapshot> TickAsync(Room room)
    {
        var r = await RunAsync("tick", QueueScripts.Tick, room, TickPromoteLimit, TickSweepLimit);
        var history = new List<(long, long)>((r.Length - 6) / 2);
        for (var i = 6; i + 1 < r.Length; i += 2)
            history.Add(((long)r[i] * 10_000, (long)r[i + 1]));
        history.Sort();
        return new RoomSnapshot((long)r[0], (long)r[1], (long)r[2], (long)r[3] / 1000.0, (long)r[4], (long)r[5], history, DateTimeOffset.UtcNow);
    }

    private async Task<RedisResult[]> RunAsync(string operation, string script, Room room, int promoteLimit, int sweepLimit, params RedisValue[] extra)
    {
        var options = room.Options;
        var args = new RedisValue[7 + extra.Length];
        args[0] = options.Capacity;
        args[1] = options.RefillPerSecond.ToString("R", CultureInfo.InvariantCulture);
        args[2] = (long)options.AbandonAfter.TotalMilliseconds;
        args[3] = (long)room.KeyTtl.TotalMilliseconds;
        args[4] = (long)options.AdmissionTtl.TotalMilliseconds;
        args[5] = promoteLimit;
        args[6] = sweepLimit;
        extra.CopyTo(args, 7);

        using var activity = WaitingRoomTelemetry.Source.StartActivity("store " + operation, ActivityKind.Client);
        activity?.SetTag("db.system", "redis");
        activity?.SetTag("db.operation", "EVALSHA " + operation);
        activity?.SetTag("waitingroom.room", room.Id);
        var started = Stopwatch.GetTimestamp();
        try
        {
            var result = (RedisResult[])(await connection.Database.ScriptEvaluateAsync(script, room.Keys.All, args))!;
            metrics.StoreCall(operation, Stopwatch.GetElapsedTime(started).TotalSeconds);
            return result;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or InvalidOperationException)
        {
            metrics.StoreError(operation);
            activity?.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
            Log.StoreCallFailed(logger, operation, room.Id, ex.GetType().Name, ex.Message);
            throw new StoreUnavailableException(operation, ex);
        }
    }

    private static QueueEntry ToEntry(RedisResult[] r)
    {
        var outcome = (string?)r[0] switch
        {
            "OK" => QueueOutcome.Ok,
            "NOT_FOUND" => QueueOutcome.NotFound,
            "FULL" => QueueOutcome.Full,
            "NOT_READY" => QueueOutcome.NotReady,
            "GRANTED" => QueueOutcome.Granted,
            var other => throw new InvalidOperationException($"Unexpected queue script outcome '{other}'."),
        };
        var state = (string?)r[1] switch
        {
            "w" => EntryState.Waiting,
            "r" => EntryState.Ready,
            "a" => EntryState.Admitted,
            _ => EntryState.None,
        };
        return new QueueEntry(
            outcome,
            state,
            Position: (long)r[2],
            JoinedAt: DateTimeOffset.FromUnixTimeMilliseconds((long)r[3]),
            ReadyAt: (long)r[4] > 0 ? DateTimeOffset.FromUnixTimeMilliseconds((long)r[4]) : null,
            ExpiresAt: DateTimeOffset.FromUnixTimeMilliseconds((long)r[5]),
            Now: DateTimeOffset.FromUnixTimeMilliseconds((long)r[6]),
            Token: (string?)r[7] ?? "",
            TokensAvailable: (long)r[8] / 1000.0,
            QueueLength: (long)r[9],
            Promoted: (long)r[10],
            Dropped: (long)r[11],
            Expired: (long)r[12],
            Created: (long)r[13] == 1,
            FirstEtaSeconds: r.Length > 14 && (long)r[14] >= 0 ? (long)r[14] : null);
    }
}
