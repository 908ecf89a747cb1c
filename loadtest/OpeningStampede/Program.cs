using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using OpeningStampede;

// The opening of a room with a large pre-queue, against a real redis-server on loopback:
//   1. fills the pre-queue through the real join script (pipelined, no HTTP), each person with a CSPRNG draw;
//   2. opens the room by its control hash (what the admin API writes) a moment ahead;
//   3. the real RoomMaintenance shuffles it: on N in-process instances (store mode) or in the gateways given
//      with --gateways, to which the pages' status polls are then sent at the cadence the gateway gives them;
//   4. reports Redis CPU and every script call's duration (SLOWLOG at threshold 0), the gateways' CPU, when
//      the pre-queue was empty and, with polls, when each person first saw a position.
// The room and the store come from the same configuration the gateways read (environment variables, e.g.
// ConnectionStrings__Redis, WaitingRoom__Rooms__opening__OpensAt); loopback only, every phase bounded.
var options = Options.Parse(args);
if (options is null)
{
    Console.Error.WriteLine(Options.Usage);
    return 2;
}

await using var loader = await Instance.StartAsync(maintenance: false);
if (!Loopback.IsLoopbackEndpoint(loader.RedisEndpoint))
{
    Console.Error.WriteLine($"ConnectionStrings:Redis must be a loopback address (127.0.0.0/8 or ::1), not '{loader.RedisEndpoint}'.");
    return 2;
}
foreach (var gateway in options.Gateways)
{
    if (!Loopback.IsLoopbackUrl(gateway))
    {
        Console.Error.WriteLine($"--gateways: '{gateway}' is not on loopback.");
        return 2;
    }
}
if (!loader.Rooms.TryGet(options.Room, out var room))
{
    Console.Error.WriteLine($"Room '{options.Room}' is not configured (WaitingRoom:Rooms:{options.Room}:...).");
    return 2;
}
var now = DateTimeOffset.UtcNow;
if (room.Options.PrequeueFrom is not { } from || from > now || room.Options.OpensAt is not { } configuredOpening || configuredOpening < now.AddHours(1) || !room.Options.ShuffleAtOpen)
{
    Console.Error.WriteLine("The room must be in its pre-queue, with ShuffleAtOpen and OpensAt at least an hour away (the tool opens it itself).");
    return 2;
}
var probe = await RedisProbe.ConnectAsync(loader.RedisEndpoint, room);
if (await probe.PlacesAsync() != 0)
{
    Console.Error.WriteLine($"Room '{room.Id}' already has places in this Redis; use a fresh redis-server.");
    return 2;
}

using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(options.TimeoutSeconds));
var report = new Report { People = options.People, Instances = options.Gateways.Count > 0 ? options.Gateways.Count : options.Instances, Mode = options.Gateways.Count > 0 ? "http" : "store" };
Console.WriteLine($"# opening stampede: {report.People:N0} pre-queued, {report.Instances} instance(s), {report.Mode} mode, room '{room.Id}'");

// 1. The pre-queue: one real join (it creates the room's keys and their TTLs), then the rest by a bulk loader
// writing what join.lua writes for a pre-queued place, checked against the real scripts afterwards.
var loadWatch = Stopwatch.StartNew();
var tokens = await PrequeueLoader.LoadAsync(loader, room, options.People, stop.Token);
report.LoadSeconds = loadWatch.Elapsed.TotalSeconds;
Console.WriteLine($"loaded {options.People:N0} in {report.LoadSeconds:F1} s");

// 2. The instances that will shuffle (store mode), then a quiet start line for the measurement.
var instances = new List<Instance>();
for (var i = 0; i < options.Instances && options.Gateways.Count == 0; i++)
    instances.Add(await Instance.StartAsync(maintenance: true));
await Task.Delay(TimeSpan.FromSeconds(2), stop.Token);
using var pages = options.Gateways.Count > 0 ? new PagePolls(options, room, tokens) : null;
await probe.StartMeasuringAsync();
var cpuBefore = CpuTimes.Read(options.GatewayPids, probe.RedisPid);

var opensAt = DateTimeOffset.UtcNow.AddMilliseconds(options.LeadMs);
await loader.Store.SetOverridesAsync(room, new Dictionary<string, string?> { ["opens_at"] = opensAt.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) });
Console.WriteLine($"opening at {opensAt:HH:mm:ss.fff} UTC");

// 3. The opening: watch the pre-queue empty; with gateways, every page polls as told until it sees a position.
var watcher = probe.WatchPrequeueAsync(opensAt, stop.Token);
if (pages is not null)
    await pages.RunAsync(opensAt, stop.Token);
var prequeueEmptyAt = await watcher;
var cpuAfter = CpuTimes.Read(options.GatewayPids, probe.RedisPid);
var calls = await probe.StopMeasuringAsync();

// 4. The figures.
report.PrequeueEmptyAfterSeconds = prequeueEmptyAt;
report.RedisCpuSeconds = cpuAfter.Redis - cpuBefore.Redis;
report.GatewayCpuSeconds = [.. cpuAfter.Gateways.Zip(cpuBefore.Gateways, (a, b) => a - b)];
report.ToolCpuSeconds = cpuAfter.Self - cpuBefore.Self;
report.Scripts = calls;
report.Polls = pages?.Summary();
Console.WriteLine(report.ToText());
if (options.Out is { } path)
    await File.WriteAllTextAsync(path, JsonSerializer.Serialize(report, ReportJson.Default.Report));

foreach (var instance in instances)
    await instance.DisposeAsync();
return prequeueEmptyAt is null || report.Polls is { Unseen: > 0 } ? 1 : 0;

namespace OpeningStampede
{
    /// <summary>Command-line options.</summary>
    internal sealed record Options
    {
        public const string Usage = """
            usage: OpeningStampede [--people N] [--instances N | --gateways URL,URL --gateway-pids PID,PID] [--room ID]
                                   [--lead-ms MS] [--timeout-seconds S] [--max-in-flight N] [--out FILE.json]
            The store and the room come from the gateway's configuration in environment variables (ConnectionStrings__Redis,
            WaitingRoom__SigningKeys__0__..., WaitingRoom__Rooms__<room>__...). Loopback only.
            """;

        public int People { get; private init; } = 300_000;

        public int Instances { get; private init; } = 1;

        public IReadOnlyList<Uri> Gateways { get; private init; } = [];

        public IReadOnlyList<int> GatewayPids { get; private init; } = [];

        public string Room { get; private init; } = "opening";

        public int LeadMs { get; private init; } = 3000;

        public int TimeoutSeconds { get; private init; } = 300;

        public int MaxInFlight { get; private init; } = 512;

        public string? Out { get; private init; }

        public static Options? Parse(string[] args)
        {
            var o = new Options();
            for (var i = 0; i < args.Length; i++)
            {
                var value = i + 1 < args.Length ? args[i + 1] : null;
                if (value is null)
                    return null;
                Options? next = args[i] switch
                {
                    "--people" => o with { People = Between(value, 1, 2_000_000) },
                    "--instances" => o with { Instances = Between(value, 1, 8) },
                    "--gateways" => o with { Gateways = [.. value.Split(',').Select(u => new Uri(u))] },
                    "--gateway-pids" => o with { GatewayPids = [.. value.Split(',').Select(p => int.Parse(p, CultureInfo.InvariantCulture))] },
                    "--room" => o with { Room = value },
                    "--lead-ms" => o with { LeadMs = Between(value, 500, 60_000) },
                    "--timeout-seconds" => o with { TimeoutSeconds = Between(value, 10, 1800) },
                    "--max-in-flight" => o with { MaxInFlight = Between(value, 1, 8192) },
                    "--out" => o with { Out = value },
                    _ => null,
                };
                if (next is null)
                    return null;
                o = next;
                i++;
            }
            return o;
        }

        private static int Between(string value, int min, int max)
        {
            var n = int.Parse(value, CultureInfo.InvariantCulture);
            return n >= min && n <= max ? n : throw new ArgumentOutOfRangeException(nameof(value), $"{n} is not in {min}..{max}");
        }
    }

    /// <summary>Loopback checks: this tool never sends anything off the machine.</summary>
    internal static class Loopback
    {
        public static bool IsLoopbackUrl(Uri url) => url.Scheme == Uri.UriSchemeHttp && IPAddress.TryParse(url.Host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address);

        public static bool IsLoopbackEndpoint(EndPoint? endpoint) => endpoint switch
        {
            IPEndPoint ip => IPAddress.IsLoopback(ip.Address),
            DnsEndPoint dns => dns.Host == "localhost",
            _ => false,
        };
    }
}
