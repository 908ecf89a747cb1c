using System.Globalization;
using System.Net;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Observability;
using StackExchange.Redis;

namespace Gateway.Tests.Adaptive;

/// <summary>
/// Adaptive admission end to end: real gateways on Kestrel, a real redis-server, the sample backends with a
/// capacity that turns requests away with 503 above a rate. Admitted traffic through the gate is what the
/// gateway observes; the rate every instance uses is the one in the store.
/// </summary>
public sealed class AdaptiveAdmissionTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>
{
    private const double Refill = 20;
    private const double Floor = 4;

    [Fact]
    public async Task ABackendTurningAwayRequestsAboveARate_LowersTheRoomsRate_WhichRecoversWhenTheBackendDoes()
    {
        await using var bed = await GatewayTestBed.StartAsync(redis.Server.ConnectionString, Adaptive, capacity: 5, refill: Refill);
        var admission = await AdmitAsync(bed.Client, bed.Room);
        await CrowdAsync(bed.Client, bed.Room, 800);

        using (var traffic = new GatedTraffic(bed.Gateway, admission, perSecond: 50))
        {
            // The backends cope: from its floor the rate grows to the configured one.
            await Eventually.TrueAsync(async () => await EffectiveRateAsync(bed.Gateway, bed.Room) >= Refill, TimeSpan.FromSeconds(40), "the rate grows while the backends cope");

            bed.Backends.SetCapacity("inventory", 10);
            await Eventually.TrueAsync(async () => await EffectiveRateAsync(bed.Gateway, bed.Room) <= Floor, TimeSpan.FromSeconds(30),
                "50 calls/s against a backend taking 10/s lower the room's rate to its floor");

            bed.Backends.SetCapacity("inventory", 100_000);
            await Eventually.TrueAsync(async () => await EffectiveRateAsync(bed.Gateway, bed.Room) >= Refill, TimeSpan.FromSeconds(40),
                "with the backend coping again, the rate climbs back to the configured one");
            Assert.True(traffic.Completed > 0);
        }

        var metrics = await PrometheusText.ScrapeAsync(bed.Client.Http);
        Assert.True(metrics.Sum("waitingroom_adaptive_changes_total", $"room={bed.Room}", "action=decrease") >= 1);
        Assert.True(metrics.Sum("waitingroom_adaptive_changes_total", $"room={bed.Room}", "action=increase") >= 1);
    }

    [Fact]
    public async Task TwoInstances_AgreeOnOneRate_KeptInTheStore()
    {
        await using var first = await GatewayTestBed.StartAsync(redis.Server.ConnectionString, Adaptive, capacity: 5, refill: Refill);
        await using var second = await GatewayHost.StartAsync(redis.Server.ConnectionString, first.Settings);
        var admission = await AdmitAsync(first.Client, first.Room);
        await CrowdAsync(first.Client, first.Room, 800);
        await Eventually.TrueAsync(async () => await EffectiveRateAsync(second, first.Room) >= Refill, TimeSpan.FromSeconds(40), "the rate grows while nobody sees overload");

        // Only the first instance forwards (and sees the overload); the second sees nothing and would let the rate grow.
        first.Backends.SetCapacity("inventory", 10);
        using var traffic = new GatedTraffic(first.Gateway, admission, perSecond: 50);
        await Eventually.TrueAsync(async () => await EffectiveRateAsync(first.Gateway, first.Room) <= Floor, TimeSpan.FromSeconds(30), "the rate falls");

        var mux = await ConnectionMultiplexer.ConnectAsync(redis.Server.ConnectionString);
        await using var _ = mux;
        for (var i = 0; i < 8; i++)
        {
            await Task.Delay(500);
            var stored = double.Parse((string)(await mux.GetDatabase().HashGetAsync($"wr:{{{first.Room}}}:ctl", "adaptive"))!, CultureInfo.InvariantCulture);
            Assert.Equal(Floor, stored);
            // Each instance applies the store's rate (read by its own tick, at most a tick old).
            await Eventually.TrueAsync(async () => await EffectiveRateAsync(second, first.Room) == stored, TimeSpan.FromSeconds(2), "the second instance uses the same rate");
            Assert.Equal(stored, await EffectiveRateAsync(first.Gateway, first.Room));
        }
    }

    [Fact]
    public async Task SwitchingAdaptationOff_ByAConfigEdit_ClearsTheRate_AndTheConfiguredOneAppliesAgain()
    {
        await using var bed = await GatewayTestBed.StartAsync(redis.Server.ConnectionString, Adaptive, capacity: 5, refill: Refill);
        // Nobody waits, so the rate stays near where adaptation starts, the floor: it only grows when it is used.
        await Eventually.TrueAsync(async () => await EffectiveRateAsync(bed.Gateway, bed.Room) < Refill, because: "adaptation starts at the floor");

        bed.Settings[$"WaitingRoom:Rooms:{bed.Room}:Adaptive:Enabled"] = "false";
        await bed.Gateway.RewriteConfigAsync(bed.Settings);

        await Eventually.TrueAsync(async () => await EffectiveRateAsync(bed.Gateway, bed.Room) == Refill, because: "the configured rate applies again");
        var mux = await ConnectionMultiplexer.ConnectAsync(redis.Server.ConnectionString);
        await using var _ = mux;
        Assert.False(await mux.GetDatabase().HashExistsAsync($"wr:{{{bed.Room}}}:ctl", "adaptive"));
        Assert.False(await mux.GetDatabase().KeyExistsAsync($"wr:{{{bed.Room}}}:adp"));
    }

    private static void Adaptive(Dictionary<string, string?> settings)
    {
        var room = settings.Keys.First(k => k.StartsWith("WaitingRoom:Rooms:", StringComparison.Ordinal)).Split(':')[2];
        var prefix = $"WaitingRoom:Rooms:{room}:";
        settings[prefix + "AbandonAfter"] = "00:05:00";
        settings[prefix + "Adaptive:Enabled"] = "true";
        settings[prefix + "Adaptive:Floor"] = Floor.ToString(CultureInfo.InvariantCulture);
        settings[prefix + "Adaptive:IncreaseStep"] = "8";
        settings[prefix + "Adaptive:DecreaseFactor"] = "0.5";
        settings[prefix + "Adaptive:ErrorRatio"] = "0.05";
        settings[prefix + "Adaptive:TargetLatency"] = "00:00:05";
        settings[prefix + "Adaptive:ControlPeriod"] = "00:00:02";
    }

    /// <summary>One person through the queue: the admission token the gated traffic carries.</summary>
    private static async Task<string> AdmitAsync(QueueClient client, string room)
    {
        var (_, joined, _) = await client.JoinAsync(room, "browsing-" + Guid.NewGuid().ToString("N"));
        var token = joined["waiting_token"]!.GetValue<string>();
        string? admission = null;
        await Eventually.TrueAsync(async () =>
        {
            var (code, body, _) = await client.EnterAsync(token);
            admission = code == HttpStatusCode.OK ? body["reservation_token"]!.GetValue<string>() : null;
            return admission is not null;
        }, because: "the first person is admitted");
        return admission!;
    }

    /// <summary>A line that outlasts the test, so the room always has someone to admit at its rate.</summary>
    private static Task CrowdAsync(QueueClient client, string room, int people) =>
        Parallel.ForEachAsync(Enumerable.Range(0, people), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, _) =>
        {
            var (code, _, _) = await client.JoinAsync(room, $"crowd-{i}");
            Assert.Equal(HttpStatusCode.Accepted, code);
        });

    private static async Task<double> EffectiveRateAsync(GatewayHost gateway, string room)
    {
        using var client = gateway.CreateClient();
        var metrics = await PrometheusText.ScrapeAsync(client);
        return metrics.Find("waitingroom_refill_effective_per_second", $"room={room}").Single().Value;
    }

    /// <summary>Admitted browsing at a steady rate through one gateway until disposed.</summary>
    private sealed class GatedTraffic : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;
        private long _completed;

        public GatedTraffic(GatewayHost gateway, string admission, int perSecond)
        {
            var client = gateway.CreateClient();
            client.DefaultRequestHeaders.Add("X-Admission-Token", admission);
            _loop = Task.Run(async () =>
            {
                using (client)
                {
                    var interval = TimeSpan.FromSeconds(1.0 / perSecond);
                    var calls = new List<Task>();
                    while (!_stop.IsCancellationRequested)
                    {
                        calls.Add(CallAsync(client));
                        calls.RemoveAll(t => t.IsCompleted);
                        try
                        {
                            await Task.Delay(interval, _stop.Token);
                        }
                        catch (OperationCanceledException)
                        {
                            break;
                        }
                    }
                    await Task.WhenAll(calls);
                }
            });
        }

        public long Completed => Interlocked.Read(ref _completed);

        public void Dispose()
        {
            _stop.Cancel();
            _loop.GetAwaiter().GetResult();
            _stop.Dispose();
        }

        private async Task CallAsync(HttpClient client)
        {
            try
            {
                using var response = await client.GetAsync("/api/inventory/events/concert/seats");
                Interlocked.Increment(ref _completed);
            }
            catch (HttpRequestException)
            {
            }
        }
    }
}
