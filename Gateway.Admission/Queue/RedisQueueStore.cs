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
    private const long HistoryBucketMs = 10_000; // HIST_BUCKET_MS in common.lua
    private const int TickSweepLimit = 2000;

    private readonly QueueScriptSet _scripts = QueueScripts.StoreClock;
    private readonly TimeProvider? _externalClock;

    // Private, so dependency injection (public constructors only) can never pick the simulation clock.
    private RedisQueueStore(StoreConnection connection, WaitingRoomMetrics metrics, ILogger<RedisQueueStore> logger, TimeProvider externalClock)
        : this(connection, metrics, logger)
    {
        _scripts = QueueScripts.ExternalClock();
        _externalClock = externalClock;
    }

    /// <summary>
    /// A store whose scripts read the time from <paramref name="clock"/> (sent as the last argument) instead of
    /// Redis TIME: for the ETA simulation's fake clock only, never for a gateway.
    /// </summary>
    internal static RedisQueueStore WithExternalClock(StoreConnection connection, WaitingRoomMetrics metrics, ILogger<RedisQueueStore> logger, TimeProvider clock) =>
        new(connection, metrics, logger, clock);

    public async Task<QueueEntry> JoinAsync(Room room, string candidateToken, string? userId, string? idempotencyKey)
    {
        var result = await RunAsync("join", _scripts.Join, room, HotPromoteLimit, HotSweepLimit,
            candidateToken, userId ?? "", idempotencyKey ?? "", room.Options.MaxQueueLength);
        return ToEntry(result);
    }

    public async Task<QueueEntry> StatusAsync(Room room, string token) =>
        ToEntry(await RunAsync("status", _scripts.Status, room, HotPromoteLimit, HotSweepLimit, token));

    public async Task<QueueEntry> EnterAsync(Room room, string token) =>
        ToEntry(await RunAsync("enter", _scripts.Enter, room, HotPromoteLimit, HotSweepLimit, token));

    public Task RecordFirstEtaAsync(Room room, string token, long etaSeconds)
    {
        // Fire-and-forget: the join already answered; losing this write only loses one accuracy sample.
        using var activity = StartStoreActivity("record_eta", "HSET", room);
        try
        {
            connection.Database.HashSet(room.Keys.FirstEta, token, etaSeconds, flags: CommandFlags.FireAndForget);
        }
        catch (RedisException ex)
        {
            metrics.StoreError("record_eta");
            activity?.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
        }
        return Task.CompletedTask;
    }

    public async Task<bool> LeaveAsync(Room room, string token)
    {
        var result = await RunAsync("leave", _scripts.Leave, room, 0, 0, token);
        return (long)result[0] == 1;
    }

    public async Task<RoomSnapshot> TickAsync(Room room)
    {
        var r = await RunAsync("tick", _scripts.Tick, room, TickPromoteLimit, TickSweepLimit);
        var history = new List<(long, long)>((r.Length - 6) / 2);
        for (var i = 6; i + 1 < r.Length; i += 2)
            history.Add(((long)r[i] * HistoryBucketMs, (long)r[i + 1]));
        history.Sort();

        // The trailing table: store time, then (kind, bucket, value) triples of the other history series.
        var series = (RedisResult[])r[^1]!;
        var vanished = new List<(long, long)>();
        var lengths = new List<(long, long)>();
        for (var i = 1; i + 2 < series.Length; i += 3)
        {
            var point = ((long)series[i + 1] * HistoryBucketMs, (long)series[i + 2]);
            switch ((string?)series[i])
            {
                case "v":
                    vanished.Add(point);
                    break;
                case "l":
                    lengths.Add(point);
                    break;
            }
        }
        vanished.Sort();
        lengths.Sort();
        var takenAt = DateTimeOffset.FromUnixTimeMilliseconds((long)series[0]);
        return new RoomSnapshot((long)r[0], (long)r[1], (long)r[2], (long)r[3] / 1000.0, (long)r[4], (long)r[5], history, takenAt)
        {
            Vanished = vanished,
            QueueLengths = lengths,
        };
    }

    private async Task<RedisResult[]> RunAsync(string operation, string script, Room room, int promoteLimit, int sweepLimit, params RedisValue[] extra)
    {
        var options = room.Options;
        var args = new RedisValue[8 + extra.Length + (_externalClock is null ? 0 : 1)];
        args[0] = options.Capacity;
        args[1] = options.RefillPerSecond.ToString("R", CultureInfo.InvariantCulture);
        args[2] = (long)options.AbandonAfter.TotalMilliseconds;
        args[3] = (long)room.KeyTtl.TotalMilliseconds;
        args[4] = (long)options.AdmissionTtl.TotalMilliseconds;
        args[5] = promoteLimit;
        args[6] = sweepLimit;
        args[7] = connection.RankByTree ? "tree" : "zrank";
        extra.CopyTo(args, 8);
        if (_externalClock is not null)
            args[^1] = _externalClock.GetUtcNow().ToUnixTimeMilliseconds();

        using var activity = StartStoreActivity(operation, "EVALSHA", room);
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

    private static Activity? StartStoreActivity(string operation, string command, Room room)
    {
        var activity = WaitingRoomTelemetry.Source.StartActivity("store " + operation, ActivityKind.Client);
        activity?.SetTag("db.system", "redis");
        activity?.SetTag("db.operation", command + " " + operation);
        activity?.SetTag("waitingroom.room", room.Id);
        return activity;
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
