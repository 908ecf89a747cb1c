using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using Gateway.Admission.Tokens;
using Gateway.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Gateway.Tests.Admin;

/// <summary>
/// The admin API across instances: two gateways share one real redis-server; a change made on one is obeyed by
/// the other within the contract's 2 s (every instance ticks every 200 ms; the scripts read the overrides
/// themselves), and survives a restart. Waits poll their condition up to that bound; nothing is timed otherwise.
/// </summary>
public sealed class AdminMultiInstanceTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>
{
    private static readonly TimeSpan Contract = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task PausedOnA_StopsPromotionsSeenThroughB_WithinTwoSeconds_AndReopeningOnA_LetsThemIn()
    {
        await using var pair = await Pair.StartAsync(redis.Server.ConnectionString, capacity: 50, refill: 50);
        using var adminA = pair.A.Gateway.CreateAdminClient();

        await adminA.SetAsync(pair.Room, """{"state": "paused"}""");

        // The store refuses promotion at once; B's own view (status wording) follows within a tick.
        var (_, joined, _) = await pair.ClientB.JoinAsync(pair.Room, "through-b");
        var token = joined["waiting_token"]!.GetValue<string>();
        Assert.NotEqual("ready", joined["status"]!.GetValue<string>());
        var (enterStatus, refused, _) = await pair.ClientB.EnterAsync(token);
        Assert.Equal(HttpStatusCode.Forbidden, enterStatus);
        Assert.Equal("NOT_READY", refused["error"]!["code"]!.GetValue<string>());
        await Eventually.TrueAsync(async () => (await pair.ClientB.StatusAsync(token)).Body["status"]!.GetValue<string>() == "paused", Contract, "B shows paused");
        using var adminB = pair.B.CreateAdminClient();
        Assert.Equal("paused", (await adminB.GetAsync(pair.Room)).Body["state"]!.GetValue<string>());

        await adminA.SetAsync(pair.Room, """{"state": "open"}""");

        await Eventually.TrueAsync(async () => (await pair.ClientB.EnterAsync(token)).Status == HttpStatusCode.OK, Contract, "admitted through B after reopening on A");
    }

    [Fact]
    public async Task ClosedOnB_RefusesJoinsOnA_AndWaitingPeopleOnASeeClosed_WithinTwoSeconds()
    {
        await using var pair = await Pair.StartAsync(redis.Server.ConnectionString, capacity: 1, refill: 0.001);
        using var adminB = pair.B.CreateAdminClient();
        await pair.A.Client.JoinAsync(pair.Room, "head");
        var waiting = (await pair.A.Client.JoinAsync(pair.Room, "waiting")).Body["waiting_token"]!.GetValue<string>();

        await adminB.SetAsync(pair.Room, """{"state": "closed"}""");

        await Eventually.TrueAsync(async () =>
        {
            var (status, body, _) = await pair.A.Client.JoinAsync(pair.Room, "late-" + Guid.NewGuid().ToString("N"));
            return status == HttpStatusCode.Forbidden && body["error"]!["code"]!.GetValue<string>() == "ROOM_CLOSED";
        }, Contract, "A refuses joins");
        await Eventually.TrueAsync(async () => (await pair.A.Client.StatusAsync(waiting)).Body["status"]!.GetValue<string>() == "closed", Contract, "A shows closed");
    }

    [Fact]
    public async Task RevokeOnA_ClosesTheGatedRouteOnB_WithinTwoSeconds()
    {
        await using var pair = await Pair.StartAsync(redis.Server.ConnectionString);
        using var adminA = pair.A.Gateway.CreateAdminClient();
        var admission = await pair.ClientB.AdmitAsync(pair.Room, "bot");
        Assert.Equal(HttpStatusCode.OK, await GatedAsync(pair.B, pair.Room, admission));

        Assert.Equal(HttpStatusCode.NoContent, (await adminA.RevokeAsync(pair.Room, admission)).Status);

        Assert.Equal(HttpStatusCode.TooManyRequests, await GatedAsync(pair.A.Gateway, pair.Room, admission)); // at once where it was revoked
        await Eventually.TrueAsync(async () => await GatedAsync(pair.B, pair.Room, admission) == HttpStatusCode.TooManyRequests, Contract, "B refuses the revoked admission");
        Assert.Equal(0, (await adminA.GetAsync(pair.Room)).Body["active"]!.GetValue<long>());
    }

    [Fact]
    public async Task BackendRevokeCommand_EndsTheCallersAdmissionOnEveryInstance_AndNeverReachesTheClient()
    {
        await using var origin = await Origin.StartAsync();
        await using var pair = await Pair.StartAsync(redis.Server.ConnectionString, configure: s =>
        {
            s["ReverseProxy:Routes:checkout:ClusterId"] = "checkout";
            s["ReverseProxy:Routes:checkout:Match:Path"] = "/api/checkout/{**rest}";
            s["ReverseProxy:Clusters:checkout:Destinations:checkout-1:Address"] = origin.Url;
        }, routeRoom: "checkout");
        var admission = await pair.A.Client.AdmitAsync(pair.Room, "buyer");
        Assert.Equal(HttpStatusCode.OK, await GatedAsync(pair.B, pair.Room, admission, "/api/checkout/cart"));

        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/checkout/paid");
        request.Headers.Add("X-Admission-Token", admission);
        using var http = pair.B.CreateClient();
        using var paid = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, paid.StatusCode);
        Assert.Equal("paid", await paid.Content.ReadAsStringAsync());
        Assert.False(paid.Headers.Contains("X-Waiting-Room-Command"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await GatedAsync(pair.B, pair.Room, admission, "/api/checkout/cart"));
        await Eventually.TrueAsync(async () => await GatedAsync(pair.A.Gateway, pair.Room, admission, "/api/checkout/cart") == HttpStatusCode.TooManyRequests, Contract, "A refuses it too");
    }

    [Fact]
    public async Task LeaveWithAnAdmittedToken_EndsTheAdmission_FreesItsMaxActiveSlot_AndEveryGateRefusesIt()
    {
        await using var pair = await Pair.StartAsync(redis.Server.ConnectionString, configure: s => s[$"WaitingRoom:Rooms:{Pair.RoomPlaceholder}:MaxActive"] = "1", capacity: 5, refill: 5);
        using var adminA = pair.A.Gateway.CreateAdminClient();
        var (_, first, _) = await pair.A.Client.JoinAsync(pair.Room, "first");
        var firstToken = first["waiting_token"]!.GetValue<string>();
        var (_, entered, _) = await pair.A.Client.EnterAsync(firstToken);
        var admission = entered["reservation_token"]!.GetValue<string>();
        var second = (await pair.ClientB.JoinAsync(pair.Room, "second")).Body["waiting_token"]!.GetValue<string>();
        // The one slot is taken: the second person waits, however full the bucket.
        await Task.Delay(TimeSpan.FromMilliseconds(600));
        Assert.Equal(HttpStatusCode.Forbidden, (await pair.ClientB.EnterAsync(second)).Status);
        Assert.Equal(1, (await adminA.GetAsync(pair.Room)).Body["active"]!.GetValue<long>());

        Assert.Equal(HttpStatusCode.NoContent, await pair.A.Client.LeaveAsync(firstToken));

        Assert.Equal(HttpStatusCode.TooManyRequests, await GatedAsync(pair.A.Gateway, pair.Room, admission));
        await Eventually.TrueAsync(async () => await GatedAsync(pair.B, pair.Room, admission) == HttpStatusCode.TooManyRequests, Contract, "B refuses the admission that left");
        await Eventually.TrueAsync(async () => (await pair.ClientB.EnterAsync(second)).Status == HttpStatusCode.OK, Contract, "the freed slot lets the next person in");
        Assert.Equal(1, (await adminA.GetAsync(pair.Room)).Body["active"]!.GetValue<long>());
    }

    [Fact]
    public async Task MaxActive_Under200ConcurrentEntersAcrossTwoInstances_IsNeverExceeded_FreedSlotsLetEveryoneIn_WithinTheBucketBoundAndInOrder()
    {
        const int users = 200;
        const int maxActive = 10;
        const int capacity = 5;
        const double refill = 20;
        await using var pair = await Pair.StartAsync(redis.Server.ConnectionString, configure: s => s[$"WaitingRoom:Rooms:{Pair.RoomPlaceholder}:MaxActive"] = "10", capacity: capacity, refill: refill);
        var clients = new[] { pair.A.Client, pair.ClientB };
        var tokens = new ConcurrentDictionary<string, int>();
        await Parallel.ForEachAsync(Enumerable.Range(0, users), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, _) =>
        {
            var (code, body, _) = await clients[i % 2].JoinAsync(pair.Room, $"user-{i}");
            Assert.Equal(HttpStatusCode.Accepted, code);
            tokens[body["waiting_token"]!.GetValue<string>()] = i % 2;
        });

        var places = pair.A.Gateway.Services.GetRequiredService<WaitingTokens>();
        await using var mux = await ConnectionMultiplexer.ConnectAsync(redis.Server.ConnectionString);
        var db = mux.GetDatabase();
        using var adminB = pair.B.CreateAdminClient();
        using var done = new CancellationTokenSource();
        var held = 0;
        var mostHeld = 0;
        var mostSeen = 0L;
        var promotions = new ConcurrentBag<(long Seq, long ReadyMs)>();

        // The store's own count, read through B's admin API while the crowd enters through both instances.
        var sampler = Task.Run(async () =>
        {
            while (!done.IsCancellationRequested)
            {
                var room = (await adminB.GetAsync(pair.Room)).Body;
                var inUse = room["active"]!.GetValue<long>() + room["ready"]!.GetValue<long>();
                Assert.True(inUse <= maxActive, $"{inUse} admissions active or reserved > MaxActive {maxActive}");
                mostSeen = Math.Max(mostSeen, inUse);
                await Task.Delay(50);
            }
        });

        var deadline = DateTime.UtcNow.AddMinutes(3);
        await Parallel.ForEachAsync(tokens, new ParallelOptions { MaxDegreeOfParallelism = users }, async (entry, cancel) =>
        {
            var client = clients[entry.Value];
            while (DateTime.UtcNow < deadline)
            {
                var (code, body, _) = await client.EnterAsync(entry.Key);
                if (code == HttpStatusCode.OK)
                {
                    var now = Interlocked.Increment(ref held);
                    InterlockedMax(ref mostHeld, now);
                    Assert.True(places.TryRead(entry.Key, out _, out var placeId));
                    var record = ((string)(await db.HashGetAsync($"wr:{{{pair.Room}}}:tok", placeId))!).Split('|');
                    promotions.Add((long.Parse(record[1], CultureInfo.InvariantCulture), long.Parse(record[3], CultureInfo.InvariantCulture)));
                    await Task.Delay(Random.Shared.Next(50, 150), cancel);
                    Interlocked.Decrement(ref held);
                    // Leaving (through the other instance) frees the slot for the next person.
                    Assert.Equal(HttpStatusCode.NoContent, await clients[1 - entry.Value].LeaveAsync(entry.Key));
                    return;
                }
                Assert.Equal(HttpStatusCode.Forbidden, code);
                Assert.Equal("NOT_READY", body["error"]!["code"]!.GetValue<string>());
                await Task.Delay(Random.Shared.Next(150, 250), cancel);
            }
        });
        await done.CancelAsync();
        await sampler;

        Assert.Equal(users, promotions.Count);
        Assert.InRange(mostHeld, 1, maxActive);
        Assert.InRange(mostSeen, 1, maxActive);
        // In join order, nobody was let in before someone who joined earlier.
        var byJoin = promotions.OrderBy(p => p.Seq).ToList();
        Assert.Equal(0, byJoin.Zip(byJoin.Skip(1)).Count(p => p.Second.ReadyMs < p.First.ReadyMs));
        // The bucket bound holds together with the cap: promotions in any interval <= capacity + refill x interval.
        var ready = promotions.Select(p => p.ReadyMs).Order().ToArray();
        for (var i = 0; i < ready.Length; i++)
        {
            for (var j = i; j < ready.Length; j++)
            {
                var allowed = capacity + (refill * (ready[j] - ready[i] + 1) / 1000.0);
                Assert.True(j - i + 1 <= allowed, $"{j - i + 1} promotions within {ready[j] - ready[i]} ms > {allowed:F1}");
            }
        }
    }

    [Fact]
    public async Task Overrides_SurviveARestart_ANewGatewayOnTheSameStoreObeysThem()
    {
        var room = "r" + Guid.NewGuid().ToString("N")[..10];
        var settings = TestConfig.WithAdmin(Browser.PageTestConfig.Room(room: room));
        await using (var first = await GatewayHost.StartAsync(redis.Server.ConnectionString, settings))
        {
            using var admin = first.CreateAdminClient();
            await admin.SetAsync(room, """{"state": "paused", "refill_per_second": 3.5, "max_active": 7}""");
        }

        await using var second = await GatewayHost.StartAsync(redis.Server.ConnectionString, settings);
        using var adminSecond = second.CreateAdminClient();
        var (_, shown, _) = await adminSecond.GetAsync(room);

        Assert.Equal("paused", shown["state"]!.GetValue<string>());
        Assert.Equal(3.5, shown["refill_per_second"]!.GetValue<double>());
        Assert.Equal(7, shown["max_active"]!.GetValue<int>());
        var client = new QueueClient(second.CreateClient());
        var (_, joined, _) = await client.JoinAsync(room, "after-restart");
        var token = joined["waiting_token"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.Forbidden, (await client.EnterAsync(token)).Status);
        await Eventually.TrueAsync(async () => (await client.StatusAsync(token)).Body["status"]!.GetValue<string>() == "paused", Contract, "the new gateway shows paused");
    }

    private static async Task<HttpStatusCode> GatedAsync(GatewayHost gateway, string room, string admission, string? path = null)
    {
        using var http = gateway.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, path ?? $"/api/inventory/events/{room}/seats");
        request.Headers.Add("X-Admission-Token", admission);
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var current = Volatile.Read(ref target);
        while (value > current && Interlocked.CompareExchange(ref target, value, current) is var seen && seen != current)
            current = seen;
    }

    /// <summary>Two gateways (A with the sample backends, B beside it) on one store, with the test admin key.</summary>
    [Fact]
    public async Task AnOpeningScheduledOnA_JoinOnBAtOnce_IsRoomNotOpen_WithItsOpeningTime()
    {
        await using var pair = await Pair.StartAsync(redis.Server.ConnectionString, capacity: 50, refill: 50);
        using var adminA = pair.A.Gateway.CreateAdminClient();
        var opensAt = DateTimeOffset.UtcNow.AddMinutes(10);

        await adminA.SetAsync(pair.Room, $$"""{"opens_at": "{{opensAt:yyyy-MM-ddTHH:mm:ss.fffzzz}}"}""");
        // Before B's next tick: the store refuses the join by a schedule B has not seen yet, and B still says when.
        var (status, body, _) = await pair.ClientB.JoinAsync(pair.Room, "early");

        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("ROOM_NOT_OPEN", body["error"]!["code"]!.GetValue<string>());
        Assert.Equal(opensAt.ToUnixTimeMilliseconds(), body["error"]!["opens_at"]!.GetValue<DateTimeOffset>().ToUnixTimeMilliseconds());
    }

    private sealed class Pair : IAsyncDisposable
    {
        /// <summary>Stands for the pair's room in setting keys (the room's name is only known once the test bed chose it).</summary>
        public const string RoomPlaceholder = "{room}";

        private Pair(GatewayTestBed a, GatewayHost b)
        {
            A = a;
            B = b;
            ClientB = new QueueClient(b.CreateClient());
        }

        public GatewayTestBed A { get; }

        public GatewayHost B { get; }

        public QueueClient ClientB { get; }

        public string Room => A.Room;

        public static async Task<Pair> StartAsync(string redis, Action<Dictionary<string, string?>>? configure = null, int capacity = 100, double refill = 10, string? routeRoom = null)
        {
            var a = await GatewayTestBed.StartAsync(redis, s =>
            {
                TestConfig.WithAdmin(s);
                var room = s.Keys.First(k => k.StartsWith("WaitingRoom:Rooms:", StringComparison.Ordinal)).Split(':')[2];
                var extra = new Dictionary<string, string?>();
                configure?.Invoke(extra);
                foreach (var (key, value) in extra)
                    s[key.Replace(RoomPlaceholder, room, StringComparison.Ordinal)] = value;
                if (routeRoom is not null)
                    s[$"ReverseProxy:Routes:{routeRoom}:Metadata:WaitingRoom"] = room;
            }, capacity, refill);
            return new Pair(a, await GatewayHost.StartAsync(redis, a.Settings));
        }

        public async ValueTask DisposeAsync()
        {
            ClientB.Http.Dispose();
            await B.DisposeAsync();
            await A.DisposeAsync();
        }
    }

    /// <summary>A backend that ends the caller's admission when a purchase completes (<c>X-Waiting-Room-Command: revoke</c>).</summary>
    private sealed class Origin : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private Origin(WebApplication app) => _app = app;

        public string Url => _app.Urls.First() + "/";

        public static async Task<Origin> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            app.MapGet("/api/checkout/cart", () => "cart");
            app.MapPost("/api/checkout/paid", (HttpContext context) =>
            {
                context.Response.Headers["X-Waiting-Room-Command"] = "revoke";
                return "paid";
            });
            await app.StartAsync();
            return new Origin(app);
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }
}
