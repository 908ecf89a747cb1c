using System.Diagnostics;
using System.Globalization;
using Gateway.Admission.Diagnostics;
using Gateway.Admission.Rooms;
using Gateway.Admission.Storage;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;
using R = Gateway.Admission.Queue.ScriptLayout.Reply;
using A = Gateway.Admission.Queue.ScriptLayout.AdaptReply;
using T = Gateway.Admission.Queue.ScriptLayout.TickReply;

namespace Gateway.Admission.Queue;

/// <summary>
/// Runs the queue scripts on the store connection (Redis, Redis Cluster, Valkey or the embedded store) and
/// decodes their replies, once, by the positions <see cref="ScriptLayout"/> declares.
/// </summary>
internal sealed class RedisQueueStore : IQueueStore
{
    /// <summary>The control hash's field holding the adaptive rate (common.lua, adapt.lua).</summary>
    internal const string AdaptiveField = "adaptive";

    // A join promotes at most this many heads (a newcomer to an empty room is let in at once); the ticks do the rest.
    private const int JoinPromoteLimit = 100;

    private readonly StoreConnection _connection;
    private readonly WaitingRoomMetrics _metrics;
    private readonly ILogger<RedisQueueStore> _logger;
    private readonly QueueScripts _scripts;
    private readonly TimeProvider? _clock;

    public RedisQueueStore(StoreConnection connection, WaitingRoomMetrics metrics, ILogger<RedisQueueStore> logger)
        : this(connection, metrics, logger, QueueScripts.StoreClock, clock: null)
    {
    }

    private RedisQueueStore(StoreConnection connection, WaitingRoomMetrics metrics, ILogger<RedisQueueStore> logger, QueueScripts scripts, TimeProvider? clock)
    {
        _connection = connection;
        _metrics = metrics;
        _logger = logger;
        _scripts = scripts;
        _clock = clock;
    }

    /// <summary>
    /// A store whose scripts read the time from <paramref name="clock"/> instead of Redis TIME: for the ETA
    /// simulation's fake clock only. Private constructor: dependency injection can never pick it.
    /// </summary>
    internal static RedisQueueStore WithArgumentClock(StoreConnection connection, WaitingRoomMetrics metrics, ILogger<RedisQueueStore> logger, TimeProvider clock) =>
        new(connection, metrics, logger, QueueScripts.ArgumentClock, clock);

    public async Task<StoredJoin> JoinAsync(Room room, JoinRequest request)
    {
        var r = await RunAsync("join", _scripts.Join, room,
            request.Id, request.Caller, request.UserId ?? "", request.Client, room.Options.MaxQueueLength,
            request.MaxPlacesPerClient, request.JoinsPerClientPerMinute, request.PrequeueScore.ToString("R", CultureInfo.InvariantCulture),
            JoinPromoteLimit, request.ChallengeId ?? "", request.ChallengeExpires?.ToUnixTimeMilliseconds() ?? 0, request.AlsoCaller ?? "");
        var outcome = (string?)r[(int)R.Outcome] switch
        {
            "OK" => (long)r[(int)R.Created] == 1 ? JoinOutcome.Joined : JoinOutcome.Existing,
            "ALREADY_QUEUED" => JoinOutcome.AlreadyQueued,
            "RATE_LIMITED" => JoinOutcome.RateLimited,
            "TOO_MANY_PLACES" => JoinOutcome.TooManyPlaces,
            "FULL" => JoinOutcome.Full,
            "CLOSED" => JoinOutcome.Closed,
            "NOT_OPEN" => JoinOutcome.NotOpen,
            "POW_REPLAYED" => JoinOutcome.ChallengeReplayed,
            var other => throw Unexpected("join", other),
        };
        return new StoredJoin(outcome, (string?)r[(int)R.Id] ?? "", ReadPlace(r), Time((long)r[(int)R.NowMs]),
            (long)r[(int)R.MilliTokens] / 1000.0, (long)r[(int)R.Promoted], (long)r[(int)R.Dropped]);
    }

    public async Task<StatusBatch> StatusAsync(Room room, IReadOnlyList<string> ids)
    {
        var args = new object[ids.Count];
        for (var i = 0; i < ids.Count; i++)
            args[i] = ids[i];
        var r = await RunAsync("status", _scripts.Status, room, args);
        var places = new Place[ids.Count];
        for (var i = 0; i < places.Length; i++)
        {
            var at = ScriptLayout.StatusHeader + (i * ScriptLayout.StatusFieldsPerPlace);
            var position = (long)r[at + 1];
            places[i] = new Place(State((string?)r[at]), position > 0 ? position : null, Time((long)r[at + 2]), Optional((long)r[at + 3]));
        }
        return new StatusBatch(Time((long)r[0]), (long)r[1] / 1000.0, places);
    }

    public async Task<StoredEnter> EnterAsync(Room room, string id, string admissionId)
    {
        var r = await RunAsync("enter", _scripts.Enter, room, id, admissionId);
        var outcome = (string?)r[(int)R.Outcome] switch
        {
            "GRANTED" => EnterOutcome.Granted,
            "NOT_READY" => EnterOutcome.NotReady,
            "NOT_FOUND" => EnterOutcome.NotFound,
            "PAUSED" => EnterOutcome.Paused,
            "CLOSED" => EnterOutcome.Closed,
            "MAX_ACTIVE" => EnterOutcome.AtMaxActive,
            var other => throw Unexpected("enter", other),
        };
        var firstEta = (long)r[(int)R.FirstEta];
        return new StoredEnter(outcome, ReadPlace(r), Time((long)r[(int)R.NowMs]), (long)r[(int)R.MilliTokens] / 1000.0,
            Time((long)r[(int)R.AdmissionExpiryMs]), (string?)r[(int)R.AdmissionId] ?? "", (long)r[(int)R.Created] == 1, firstEta >= 0 ? firstEta : null);
    }

    public Task RecordFirstEtaAsync(Room room, string id, long etaSeconds)
    {
        // Fire-and-forget: the join already answered; losing this write only loses one accuracy sample.
        using var activity = StartStoreActivity("record_eta", "HSET", room);
        try
        {
            _connection.Database.HashSet(room.Keys[RoomKey.FirstEta], id, etaSeconds, flags: CommandFlags.FireAndForget);
        }
        catch (RedisException ex)
        {
            _metrics.StoreError("record_eta");
            activity?.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
        }
        return Task.CompletedTask;
    }

    public async Task<StoredLeave> LeaveAsync(Room room, string id)
    {
        var r = await RunAsync("leave", _scripts.Leave, room, id);
        return (long)r[0] == 1 ? new StoredLeave(State((string?)r[1]), (string?)r[2] is { Length: > 0 } aid ? aid : null) : new StoredLeave(PlaceState.None, null);
    }

    public async Task<bool> RevokeAsync(Room room, string admissionId) =>
        (long)(await RunAsync("revoke", _scripts.Revoke, room, admissionId))[0] == 1;

    public async Task<RoomSnapshot> TickAsync(Room room, TickWork work)
    {
        var r = await RunAsync("tick", _scripts.Tick, room,
            work.SweepLimit, work.PromoteLimit, work.ShuffleLimit, work.History ? 1 : 0, work.RevokedSinceMs, work.RevokedLimit);

        var control = (RedisResult[])r[(int)T.Control]!;
        var overrides = new Dictionary<string, string>(StringComparer.Ordinal);
        double? adaptive = null;
        for (var i = 0; i + 1 < control.Length; i += 2)
        {
            // The adaptive rate shares the control hash (common.lua applies both) but is the controller's, not an operator's.
            if ((string?)control[i] == AdaptiveField)
                adaptive = double.Parse((string)control[i + 1]!, CultureInfo.InvariantCulture);
            else
                overrides[(string)control[i]!] = (string)control[i + 1]!;
        }

        var revokedRaw = (RedisResult[])r[(int)T.Revoked]!;
        var revoked = new List<(string, long)>(revokedRaw.Length / 2);
        for (var i = 0; i + 1 < revokedRaw.Length; i += 2)
            revoked.Add(((string)revokedRaw[i]!, (long)(double)revokedRaw[i + 1]));

        var series = (RedisResult[])r[(int)T.History]!;
        var promotions = new List<(long, long)>();
        var vanished = new List<(long, long)>();
        var lengths = new List<(long, long)>();
        for (var i = 0; i + 2 < series.Length; i += 3)
        {
            var point = ((long)series[i + 1] * ScriptLayout.HistoryBucketMs, (long)series[i + 2]);
            switch ((string?)series[i])
            {
                case "p":
                    promotions.Add(point);
                    break;
                case "v":
                    vanished.Add(point);
                    break;
                case "l":
                    lengths.Add(point);
                    break;
            }
        }
        promotions.Sort();
        vanished.Sort();
        lengths.Sort();

        var oldest = (long)r[(int)T.OldestJoinedMs];
        return new RoomSnapshot
        {
            Dropped = (long)r[(int)T.Dropped],
            Expired = (long)r[(int)T.Expired],
            Promoted = (long)r[(int)T.Promoted],
            TokensAvailable = (long)r[(int)T.MilliTokens] / 1000.0,
            Waiting = (long)r[(int)T.Waiting],
            Prequeued = (long)r[(int)T.Prequeued],
            Ready = (long)r[(int)T.Ready],
            Active = (long)r[(int)T.Active],
            AdmittedTotal = (long)r[(int)T.EnteredTotal],
            PromotedTotal = (long)r[(int)T.PromotedTotal],
            OldestJoinedAt = oldest > 0 ? Time(oldest) : null,
            TakenAt = Time((long)r[(int)T.NowMs]),
            Opened = (long)r[(int)T.Opened] == 1,
            State = (string?)r[(int)T.State] switch
            {
                "paused" => RoomState.Paused,
                "closed" => RoomState.Closed,
                _ => RoomState.Open,
            },
            EffectiveRefillPerSecond = double.Parse((string)r[(int)T.EffectiveRefill]!, CultureInfo.InvariantCulture),
            AdaptiveRefillPerSecond = adaptive,
            Shuffled = (long)r[(int)T.Shuffled],
            Overrides = overrides,
            Revoked = revoked,
            History = promotions,
            Vanished = vanished,
            QueueLengths = lengths,
            HasHistory = work.History,
            JoinsTotal = (long)r[(int)T.Joins],
            PrequeueShuffled = (string?)r[(int)T.PrequeueOrder] switch { "s" => true, "f" => false, _ => null },
            RevocationsKept = TimeSpan.FromMilliseconds((long)r[(int)T.RevocationsKeepMs]),
        };
    }

    public async Task SetOverridesAsync(Room room, IReadOnlyDictionary<string, string?> changes)
    {
        var key = room.Keys[RoomKey.Control];
        var set = changes.Where(c => c.Value is not null).Select(c => new HashEntry(c.Key, c.Value)).ToArray();
        var remove = changes.Where(c => c.Value is null).Select(c => (RedisValue)c.Key).ToArray();
        await RunCommandAsync("control", room, async db =>
        {
            // One key, so a transaction keeps the change whole on Redis Cluster too.
            var transaction = db.CreateTransaction();
            _ = transaction.HashSetAsync(key, set.Length > 0 ? set : [new HashEntry(ControlFields.Updated, "1")]);
            if (remove.Length > 0)
                _ = transaction.HashDeleteAsync(key, remove);
            _ = transaction.KeyExpireAsync(key, TimeSpan.FromMilliseconds(ScriptLayout.ControlTtlMs));
            await transaction.ExecuteAsync();
        });
    }

    public Task ClearOverridesAsync(Room room) =>
        // Only the operators' fields: the hash also carries state that is not an override (the adaptive rate).
        RunCommandAsync("control", room, db => db.HashDeleteAsync(room.Keys[RoomKey.Control], [.. ControlFields.Operator.Append(ControlFields.Updated).Select(f => (RedisValue)f)]));

    public async Task<AdaptResult> AdaptAsync(Room room, AdaptReport report)
    {
        var options = room.Options.Adaptive;
        var r = await RunAsync("adapt", _scripts.Adapt, room,
            report.Verdict == AdaptVerdict.Off ? 0 : 1,
            report.Verdict switch
            {
                AdaptVerdict.Pause => "pause",
                AdaptVerdict.Decrease => "decrease",
                AdaptVerdict.Increase => "increase",
                _ => "hold",
            },
            Number(report.Verdict == AdaptVerdict.Decrease ? report.Factor : 1), Number(options.DecreaseFactor), Number(options.Floor), Number(options.IncreaseStep),
            (long)options.ControlPeriod.TotalMilliseconds);
        var action = (string?)r[(int)A.Action] switch
        {
            "none" => AdaptAction.None,
            "pause" => AdaptAction.Pause,
            "resume" => AdaptAction.Resume,
            "decrease" => AdaptAction.Decrease,
            "increase" => AdaptAction.Increase,
            "off" => AdaptAction.Off,
            var other => throw Unexpected("adapt", other),
        };
        var rate = double.Parse((string)r[(int)A.Rate]!, CultureInfo.InvariantCulture);
        var used = double.Parse((string)r[(int)A.Used]!, CultureInfo.InvariantCulture);
        return new AdaptResult(action, rate >= 0 ? rate : null, used >= 0 ? used : null, Time((long)r[(int)A.NowMs]));
    }

    private static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private async Task<RedisResult[]> RunAsync(string operation, StoreScript script, Room room, params object[] own)
    {
        var common = room.ScriptArguments;
        var args = new RedisValue[common.Length + own.Length];
        common.CopyTo(args, 0);
        if (_clock is not null)
            args[ScriptLayout.Common.Count - 1] = _clock.GetUtcNow().ToUnixTimeMilliseconds();
        for (var i = 0; i < own.Length; i++)
        {
            args[common.Length + i] = own[i] switch
            {
                string s => s,
                int n => n,
                long n => n,
                _ => throw new ArgumentException($"Unsupported script argument type {own[i].GetType().Name}.", nameof(own)),
            };
        }

        using var activity = StartStoreActivity(operation, "EVALSHA", room);
        var started = Stopwatch.GetTimestamp();
        try
        {
            var result = (RedisResult[])(await EvaluateAsync(operation, script, room.Keys.All, args))!;
            _metrics.StoreCall(operation, Stopwatch.GetElapsedTime(started).TotalSeconds);
            return result;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or InvalidOperationException)
        {
            throw Failed(operation, room, activity, ex);
        }
    }

    /// <summary>
    /// <c>EVALSHA</c> by the script's own hash. A server that does not know the script (a restart, a failover, a new
    /// cluster node, <c>SCRIPT FLUSH</c>) answers <c>NOSCRIPT</c> without running anything; the script then goes by
    /// text once, which loads it there (the client loads it and runs it by <c>EVALSHA</c>).
    /// </summary>
    private async Task<RedisResult> EvaluateAsync(string operation, StoreScript script, RedisKey[] keys, RedisValue[] args)
    {
        var database = _connection.Database;
        try
        {
            return await database.ScriptEvaluateAsync(script.Sha1, keys, args);
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            var result = await database.ScriptEvaluateAsync(script.Text, keys, args);
            Log.StoreScriptLoaded(_logger, operation);
            return result;
        }
    }

    private async Task RunCommandAsync(string operation, Room room, Func<IDatabase, Task> command)
    {
        using var activity = StartStoreActivity(operation, "HSET", room);
        var started = Stopwatch.GetTimestamp();
        try
        {
            await command(_connection.Database).WaitAsync(_connection.OperationTimeout);
            _metrics.StoreCall(operation, Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or InvalidOperationException)
        {
            throw Failed(operation, room, activity, ex);
        }
    }

    private StoreUnavailableException Failed(string operation, Room room, Activity? activity, Exception ex)
    {
        _metrics.StoreError(operation);
        activity?.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
        Log.StoreCallFailed(_logger, operation, room.Id, ex.GetType().Name, ex.Message);
        return new StoreUnavailableException($"The store did not complete '{operation}': {ex.Message}", ex);
    }

    private static Activity? StartStoreActivity(string operation, string command, Room room)
    {
        var activity = WaitingRoomTelemetry.Source.StartActivity("store " + operation, ActivityKind.Client);
        if (activity is not null)
        {
            activity.SetTag("db.system", "redis");
            activity.SetTag("db.operation", command + " " + operation);
            activity.SetTag("waitingroom.room", room.Id);
        }
        return activity;
    }

    private static Place ReadPlace(RedisResult[] r)
    {
        var position = (long)r[(int)R.Position];
        return new Place(State((string?)r[(int)R.State]), position > 0 ? position : null, Time((long)r[(int)R.JoinedMs]), Optional((long)r[(int)R.ReadyMs]));
    }

    private static PlaceState State(string? code) => code switch
    {
        "p" => PlaceState.Prequeued,
        "w" => PlaceState.Waiting,
        "r" => PlaceState.Ready,
        "a" => PlaceState.Admitted,
        _ => PlaceState.None,
    };

    private static DateTimeOffset Time(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);

    private static DateTimeOffset? Optional(long ms) => ms > 0 ? Time(ms) : null;

    private static InvalidOperationException Unexpected(string script, string? outcome) =>
        new($"The {script} script answered '{outcome}', which this gateway does not know; are two gateway versions sharing one store?");
}
