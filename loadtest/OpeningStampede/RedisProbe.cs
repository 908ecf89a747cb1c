using System.Globalization;
using System.Net;
using Gateway.Admission.Queue;
using Gateway.Admission.Rooms;
using StackExchange.Redis;

namespace OpeningStampede;

/// <summary>
/// What the opening costs Redis: INFO commandstats around it, and the script calls of 1 ms or more from the
/// SLOWLOG (the longest single call, per script, for this room only; Redis 7 also logs the commands inside
/// scripts, so a threshold of 0 would fill the log with them). Its own connection (admin commands); the
/// slowlog settings are put back afterwards.
/// </summary>
internal sealed class RedisProbe
{
    /// <summary>Calls at least this long (microseconds) are logged.</summary>
    public const int SlowlogMicros = 1000;

    private readonly ConnectionMultiplexer _mux;
    private readonly IServer _server;
    private readonly Room _room;
    private readonly Dictionary<string, string> _scriptBySha;
    private string? _slowerThan;
    private string? _maxLen;
    private (long Calls, long Usec) _evalshaBefore;

    private RedisProbe(ConnectionMultiplexer mux, Room room)
    {
        _mux = mux;
        _server = mux.GetServer(mux.GetEndPoints()[0]);
        _room = room;
        var scripts = QueueScripts.StoreClock;
        _scriptBySha = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [scripts.Join.Hex] = "join", [scripts.Status.Hex] = "status", [scripts.Enter.Hex] = "enter",
            [scripts.Leave.Hex] = "leave", [scripts.Revoke.Hex] = "revoke", [scripts.Tick.Hex] = "tick",
        };
    }

    public int RedisPid { get; private set; }

    public static async Task<RedisProbe> ConnectAsync(EndPoint? endpoint, Room room)
    {
        var config = new ConfigurationOptions { AllowAdmin = true, ClientName = "opening-stampede-probe", AbortOnConnectFail = true, SyncTimeout = 30_000, AsyncTimeout = 30_000 };
        config.EndPoints.Add(endpoint ?? throw new InvalidOperationException("no Redis endpoint"));
        var probe = new RedisProbe(await ConnectionMultiplexer.ConnectAsync(config), room);
        probe.RedisPid = int.Parse(Info(await probe._server.InfoRawAsync("server") ?? "", "process_id"), CultureInfo.InvariantCulture);
        return probe;
    }

    public Task<long> PlacesAsync() => _mux.GetDatabase().HashLengthAsync(_room.Keys[RoomKey.Places]);

    public async Task StartMeasuringAsync()
    {
        _slowerThan = (await _server.ConfigGetAsync("slowlog-log-slower-than")).Single().Value;
        _maxLen = (await _server.ConfigGetAsync("slowlog-max-len")).Single().Value;
        await _server.ConfigSetAsync("slowlog-log-slower-than", SlowlogMicros);
        await _server.ConfigSetAsync("slowlog-max-len", 1_000_000);
        await _server.SlowlogResetAsync();
        await _server.ConfigResetStatisticsAsync();
        _evalshaBefore = EvalSha(await _server.InfoRawAsync("commandstats") ?? "");
    }

    /// <summary>Seconds after the opening at which the pre-queue was first seen empty (every 50 ms), or null if it never was.</summary>
    public async Task<double?> WatchPrequeueAsync(DateTimeOffset opensAt, CancellationToken cancellationToken)
    {
        var db = _mux.GetDatabase();
        try
        {
            while (true)
            {
                await Task.Delay(50, cancellationToken);
                var now = DateTimeOffset.UtcNow;
                if (now >= opensAt && await db.SortedSetLengthAsync(_room.Keys[RoomKey.Prequeue]) == 0)
                    return (now - opensAt).TotalSeconds;
            }
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    public async Task<MeasuredCalls> StopMeasuringAsync()
    {
        var evalsha = EvalSha(await _server.InfoRawAsync("commandstats") ?? "");
        var entries = await _server.SlowlogGetAsync(1_000_000);
        await _server.ConfigSetAsync("slowlog-log-slower-than", _slowerThan!);
        await _server.ConfigSetAsync("slowlog-max-len", _maxLen!);
        await _server.SlowlogResetAsync();

        var firstKey = _room.Keys.All[0].ToString();
        var byScript = entries
            .Where(e => e.Arguments.Length > 3 && (string?)e.Arguments[0] is "EVALSHA" or "evalsha" && (string?)e.Arguments[3] == firstKey)
            .GroupBy(e => _scriptBySha.GetValueOrDefault(((string?)e.Arguments[1])?.ToLowerInvariant() ?? "", "other"))
            .Select(g =>
            {
                var micros = g.Select(e => e.Duration.TotalMicroseconds).Order().ToArray();
                return new ScriptCalls(g.Key, micros.Length, micros.Sum() / 1000, micros[^1] / 1000, micros[micros.Length / 2] / 1000, micros[0] / 1000);
            })
            .OrderByDescending(s => s.TotalMs)
            .ToList();
        return new MeasuredCalls(entries.Length, evalsha.Calls - _evalshaBefore.Calls, (evalsha.Usec - _evalshaBefore.Usec) / 1e6, byScript);
    }

    private static (long Calls, long Usec) EvalSha(string commandstats)
    {
        // cmdstat_evalsha:calls=123,usec=4567,usec_per_call=...
        var line = commandstats.Split('\n').FirstOrDefault(l => l.StartsWith("cmdstat_evalsha:", StringComparison.Ordinal));
        if (line is null)
            return (0, 0);
        var fields = line["cmdstat_evalsha:".Length..].Trim().Split(',').Select(f => f.Split('=')).ToDictionary(f => f[0], f => f[1], StringComparer.Ordinal);
        return (long.Parse(fields["calls"], CultureInfo.InvariantCulture), long.Parse(fields["usec"], CultureInfo.InvariantCulture));
    }

    internal static string Info(string raw, string field) =>
        raw.Split('\n').Select(l => l.Trim()).First(l => l.StartsWith(field + ":", StringComparison.Ordinal))[(field.Length + 1)..];
}

/// <summary>Script calls during the measurement: all of them (INFO commandstats), and those of 1 ms or more on the room (SLOWLOG).</summary>
internal sealed record MeasuredCalls(long SlowlogEntries, long EvalShaCalls, double EvalShaSeconds, IReadOnlyList<ScriptCalls> ByScript);

/// <summary>
/// One script's calls of 1 ms or more on the room: how many, their total, longest, median and shortest duration
/// inside Redis (wall time: on a busy machine a call can be preempted, so the shortest is the best estimate of
/// what a call costs on a core of its own).
/// </summary>
internal sealed record ScriptCalls(string Script, long Calls, double TotalMs, double MaxMs, double MedianMs, double MinMs);

/// <summary>CPU seconds (user + system) of Redis, the gateways and this tool, from /proc.</summary>
internal sealed record CpuTimes(double Redis, double[] Gateways, double Self)
{
    public static CpuTimes Read(IReadOnlyList<int> gatewayPids, int redisPid) =>
        new(Seconds(redisPid), [.. gatewayPids.Select(Seconds)], Seconds(Environment.ProcessId));

    private static double Seconds(int pid)
    {
        // /proc/PID/stat: the fields after "(comm)" start at state; utime and stime are the 12th and 13th, in clock ticks (100/s).
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }
}
