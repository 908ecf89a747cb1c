using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Gateway.Admission.Queue;
using Gateway.Admission.Rooms;
using Gateway.Admission.Storage;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Queue;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace Gateway.Tests.Gate;

/// <summary>
/// The schedule on the wire (real Kestrel, real redis-server or the embedded store, two instances where the
/// store is shared): not open, the pre-queue, the opening and its shuffle, the closing time. The operator moves
/// the schedule by editing the configuration file, which the running gateways reload; nothing here waits for a
/// clock to reach an instant, so the steps cannot race the test machine's speed.
/// </summary>
public sealed class OpeningApiTests(RedisServerFixture redis, ITestOutputHelper output) : IClassFixture<RedisServerFixture>
{
    /// <summary>Every field a pre-queue answer has; none of them depends on the person's draw.</summary>
    private static readonly string[] PrequeueFields =
        ["waiting_token", "status", "position", "eta_sec", "confidence", "message", "ready_for_entry", "waiting_time", "event_id", "poll_after_ms", "server_time", "opens_at"];

    /// <summary>Every header a queue answer may have.</summary>
    private static readonly string[] AllowedHeaders = ["Date", "Server", "Cache-Control", "Transfer-Encoding", "Content-Type", "Content-Length", "Set-Cookie"];

    [Theory]
    [InlineData("redis")]
    [InlineData("embedded")]
    public async Task Schedule_OverHttp_NotOpen_ThenPrequeue_ThenTheLine_ThenClosedForNewcomersOnly(string store)
    {
        var now = DateTimeOffset.UtcNow;
        var opensAt = now.AddHours(2);
        await using var bed = await GatewayTestBed.StartAsync(redis.For(store), s => Schedule(s, now.AddHours(1), opensAt, now.AddHours(3)), capacity: 1, refill: 0.001);
        var client = bed.Client;

        // Before PrequeueFrom: 403 ROOM_NOT_OPEN, with when the room opens and when the pre-queue starts.
        var (code, body, _) = await client.JoinAsync(bed.Room, "early");
        Assert.Equal(HttpStatusCode.Forbidden, code);
        Assert.Equal("ROOM_NOT_OPEN", body["error"]!["code"]!.GetValue<string>());
        Assert.Equal(opensAt.ToUnixTimeMilliseconds(), Instant(body["error"]!["opens_at"]).ToUnixTimeMilliseconds());
        Assert.Equal(now.AddHours(1).ToUnixTimeMilliseconds(), Instant(body["error"]!["prequeue_from"]).ToUnixTimeMilliseconds());

        // The pre-queue opens, the opening is 50 s away.
        opensAt = DateTimeOffset.UtcNow.AddSeconds(50);
        Schedule(bed.Settings, DateTimeOffset.UtcNow.AddMinutes(-1), opensAt, now.AddHours(3));
        await bed.Gateway.RewriteConfigAsync(bed.Settings);
        await Eventually.TrueAsync(async () => (await client.JoinAsync(bed.Room, "p0")).Status == HttpStatusCode.Accepted, because: "the pre-queue opened");
        var tokens = new List<string> { (await client.JoinAsync(bed.Room, "p0")).Body["waiting_token"]!.GetValue<string>() };
        var firstPolls = new List<DateTimeOffset>();
        for (var i = 1; i < 30; i++)
        {
            var (joinCode, joined, response) = await client.JoinAsync(bed.Room, $"p{i}");
            Assert.Equal(HttpStatusCode.Accepted, joinCode);
            AssertPrequeueAnswer(joined, response, opensAt, withToken: true);
            // The next poll: after the opening, spread over half of AbandonAfter (30 s).
            var serverTime = Instant(joined["server_time"]);
            var pollAfter = joined["poll_after_ms"]!.GetValue<int>();
            var until = (opensAt - serverTime).TotalMilliseconds;
            Assert.InRange(pollAfter, until - 1, until + 30_000);
            firstPolls.Add(serverTime.AddMilliseconds(pollAfter));
            tokens.Add(joined["waiting_token"]!.GetValue<string>());
        }
        var seconds = firstPolls.Select(t => (long)(t - opensAt).TotalSeconds).ToList();
        Assert.True(seconds.Distinct().Count() >= 10, $"29 first polls after the opening fell in only {seconds.Distinct().Count()} distinct seconds");

        // A repeat join is the same place, never a second draw; status and enter say "pre-queue", without a position.
        var score = await PrequeueScoreAsync(bed, tokens[5]);
        var (_, repeat, repeatResponse) = await client.JoinAsync(bed.Room, "p5");
        Assert.Equal(tokens[5], repeat["waiting_token"]!.GetValue<string>());
        AssertPrequeueAnswer(repeat, repeatResponse, opensAt, withToken: true);
        Assert.Equal(score, await PrequeueScoreAsync(bed, tokens[5]));
        var (statusCode, status, statusResponse) = await client.StatusAsync(tokens[3]);
        Assert.Equal(HttpStatusCode.OK, statusCode);
        AssertPrequeueAnswer(status, statusResponse, opensAt, withToken: false);
        var (enterCode, enter, _) = await client.EnterAsync(tokens[3]);
        Assert.Equal(HttpStatusCode.Forbidden, enterCode);
        Assert.Equal("NOT_READY", enter["error"]!["code"]!.GetValue<string>());
        Assert.Null(enter["error"]!["position"]);

        // The opening (the operator moves it to now): everyone pre-queued is placed, in one random order.
        Schedule(bed.Settings, DateTimeOffset.UtcNow.AddMinutes(-2), DateTimeOffset.UtcNow.AddSeconds(-1), now.AddHours(3));
        await bed.Gateway.RewriteConfigAsync(bed.Settings);
        await Eventually.TrueAsync(async () => (await client.StatusAsync(tokens[0])).Body["status"]!.GetValue<string>() != "prequeue", because: "the opening placed the pre-queue");
        var later = new List<string>();
        for (var j = 0; j < 10; j++)
        {
            var (_, joined, _) = await client.JoinAsync(bed.Room, $"late{j}");
            Assert.Equal("waiting", joined["status"]!.GetValue<string>());
            Assert.Equal(30 + j, joined["position"]!.GetValue<long>()); // behind the 29 waiting pre-queued people (one is ready)
            later.Add(joined["waiting_token"]!.GetValue<string>());
        }
        var positions = new List<long>();
        foreach (var token in tokens)
        {
            var (_, polled, _) = await client.StatusAsync(token);
            if (polled["status"]!.GetValue<string>() == "ready")
                continue;
            Assert.Equal("waiting", polled["status"]!.GetValue<string>());
            var position = polled["position"]!.GetValue<long>();
            positions.Add(position);
            // The ETA follows the position at once: one person every 1,000 s, nobody gone yet.
            Assert.InRange(polled["eta_sec"]!.GetValue<long>(), (position * 1000) - 1000, position * 1000);
        }
        Assert.Equal(Enumerable.Range(1, 29).Select(p => (long)p), positions.Order());

        // After JoinsCloseAt: newcomers get 403 ROOM_CLOSED, people in line keep their places.
        Schedule(bed.Settings, DateTimeOffset.UtcNow.AddMinutes(-3), DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddSeconds(-1));
        await bed.Gateway.RewriteConfigAsync(bed.Settings);
        var probe = 0;
        await Eventually.TrueAsync(async () => (await client.JoinAsync(bed.Room, $"probe{probe++}")).Body["error"]?["code"]?.GetValue<string>() == "ROOM_CLOSED", because: "joins closed");
        var (againCode, again, _) = await client.JoinAsync(bed.Room, "late3");
        Assert.Equal(HttpStatusCode.Accepted, againCode);
        Assert.Equal(later[3], again["waiting_token"]!.GetValue<string>());
        Assert.Equal(33, again["position"]!.GetValue<long>());
        var after = new List<long>();
        foreach (var token in tokens)
        {
            var (_, polled, _) = await client.StatusAsync(token);
            if (polled["status"]!.GetValue<string>() == "waiting")
                after.Add(polled["position"]!.GetValue<long>());
        }
        Assert.Equal(positions, after);
    }

    [Fact]
    public async Task Opening_OnTwoInstances_PlacesEveryPrequeuedPersonOnce_InAUniformOrder_AndNoAnswerBeforeItCarriesTheRank()
    {
        const int people = 1000;
        const int latecomers = 100;
        await using var redisServer = await RedisServer.StartNewAsync();
        var now = DateTimeOffset.UtcNow;
        var opensAt = now.AddHours(1);
        await using var first = await GatewayTestBed.StartAsync(redisServer.ConnectionString, s => Schedule(s, now.AddMinutes(-1), opensAt, null), capacity: 1, refill: 0.001);
        await using var secondHost = await GatewayHost.StartAsync(redisServer.ConnectionString, first.Settings);
        var clients = new[] { first.Client, new QueueClient(secondHost.CreateClient()) };
        var hosts = new[] { first.Gateway, secondHost };

        // 1,000 people join the pre-queue one after another (join order = index), alternating instances.
        var tokens = new string[people];
        for (var i = 0; i < people; i++)
        {
            var (code, joined, response) = await clients[i % 2].JoinAsync(first.Room, $"p{i}");
            Assert.Equal(HttpStatusCode.Accepted, code);
            AssertPrequeueAnswer(joined, response, opensAt, withToken: true);
            // Far from the opening everyone is told the same: poll again in a minute.
            Assert.Equal(60_000, joined["poll_after_ms"]!.GetValue<int>());
            tokens[i] = joined["waiting_token"]!.GetValue<string>();
        }
        for (var i = 0; i < people; i += 10)
        {
            var (_, status, response) = await clients[(i / 10) % 2].StatusAsync(tokens[i]);
            AssertPrequeueAnswer(status, response, opensAt, withToken: false);
        }

        // Both instances are told the opening is now; both tick, and race to shuffle, while latecomers arrive.
        foreach (var host in hosts)
        {
            Schedule(first.Settings, DateTimeOffset.UtcNow.AddMinutes(-2), DateTimeOffset.UtcNow.AddSeconds(-1), null);
            await host.RewriteConfigAsync(first.Settings);
        }
        using var mux = await ConnectionMultiplexer.ConnectAsync(redisServer.ConnectionString);
        var db = mux.GetDatabase();
        // Once the store has opened the room, every instance sends joins to the line, reloaded or not.
        await Eventually.TrueAsync(async () => await db.HashGetAsync($"wr:{{{first.Room}}}:meta", "opened") == "1", because: "an instance opened the room");
        var lateTokens = new List<string>();
        for (var j = 0; j < latecomers; j++)
        {
            var (code, joined, _) = await clients[j % 2].JoinAsync(first.Room, $"late{j}");
            Assert.Equal(HttpStatusCode.Accepted, code);
            Assert.Equal("waiting", joined["status"]!.GetValue<string>());
            Assert.True(joined["position"]!.GetValue<long>() >= people, "a latecomer ahead of someone pre-queued");
            lateTokens.Add(joined["waiting_token"]!.GetValue<string>());
        }
        await Eventually.TrueAsync(async () => await db.SortedSetLengthAsync($"wr:{{{first.Room}}}:pq") == 0, because: "the shuffle finished");

        // Exactly once: sequence numbers 1..N each once for the pre-queue, above N for everyone later; nobody lost.
        var places = (await db.HashGetAllAsync($"wr:{{{first.Room}}}:tok")).ToDictionary(e => (string)e.Name!, e => ((string)e.Value!).Split('|'));
        var seqs = tokens.Select(t => long.Parse(places[PlaceId(t)][1], CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(Enumerable.Range(1, people).Select(s => (long)s), seqs.Order());
        Assert.All(lateTokens, t => Assert.True(long.Parse(places[PlaceId(t)][1], CultureInfo.InvariantCulture) > people));

        // Positions, read through both instances, follow the shuffled order; every latecomer is behind.
        for (var i = 0; i < people; i++)
        {
            var (_, status, _) = await clients[i % 2].StatusAsync(tokens[i]);
            Assert.Equal(seqs[i] == 1 ? "ready" : "waiting", status["status"]!.GetValue<string>());
            if (seqs[i] > 1)
                Assert.Equal(seqs[i] - 1, status["position"]!.GetValue<long>());
        }
        for (var j = 0; j < lateTokens.Count; j++)
            Assert.True((await clients[j % 2].StatusAsync(lateTokens[j])).Body["position"]!.GetValue<long>() >= people);

        var joinIndexByPosition = Enumerable.Range(0, people).OrderBy(i => seqs[i]).ToArray();
        var statistics = ShuffleStatistics.Of(joinIndexByPosition);
        output.WriteLine($"HTTP, two instances: {statistics}");
        Assert.True(statistics.Uniform, statistics.ToString());
    }

    [Fact]
    public async Task ClosedRoom_ShowsPrequeuedPeopleClosed()
    {
        var now = DateTimeOffset.UtcNow;
        await using var bed = await GatewayTestBed.StartAsync(redis.For("redis"), s => Schedule(s, now.AddMinutes(-1), now.AddHours(1), null));
        var (_, joined, _) = await bed.Client.JoinAsync(bed.Room, "fan");
        var token = joined["waiting_token"]!.GetValue<string>();
        Assert.Equal("prequeue", joined["status"]!.GetValue<string>());

        var room = bed.Gateway.Services.GetRequiredService<RoomRegistry>().All.Single();
        await bed.Gateway.Services.GetRequiredService<IQueueStore>().SetOverridesAsync(room, new Dictionary<string, string?> { ["state"] = "closed" });

        await Eventually.TrueAsync(async () => (await bed.Client.StatusAsync(token)).Body["status"]!.GetValue<string>() == "closed", because: "the room was closed");
        Assert.Equal("ROOM_CLOSED", (await bed.Client.JoinAsync(bed.Room, "newcomer")).Body["error"]!["code"]!.GetValue<string>());
    }

    /// <summary>A pre-queue answer: no position, the countdown to the opening, nothing that differs between two people but time and token.</summary>
    private static void AssertPrequeueAnswer(JsonObject body, HttpResponseMessage response, DateTimeOffset opensAt, bool withToken)
    {
        Assert.Equal("prequeue", body["status"]!.GetValue<string>());
        Assert.Null(body["position"]);
        Assert.Equal(PrequeueFields.Where(f => withToken || f != "waiting_token").Order(StringComparer.Ordinal), body.Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.Equal(opensAt.ToUnixTimeMilliseconds(), Instant(body["opens_at"]).ToUnixTimeMilliseconds());
        var untilOpening = (opensAt - Instant(body["server_time"])).TotalSeconds;
        Assert.InRange(body["eta_sec"]!.GetValue<long>(), untilOpening - 1, untilOpening + 1);
        Assert.Equal(1.0, body["confidence"]!.GetValue<double>());
        Assert.False(body["ready_for_entry"]!.GetValue<bool>());
        var headers = response.Headers.Select(h => h.Key).Concat(response.Content.Headers.Select(h => h.Key));
        Assert.All(headers, h => Assert.Contains(h, AllowedHeaders));
        if (response.Headers.TryGetValues("Set-Cookie", out var cookies))
            Assert.All(cookies, c => Assert.StartsWith("wr_id=", c, StringComparison.Ordinal));
    }

    private static void Schedule(Dictionary<string, string?> settings, DateTimeOffset? prequeueFrom, DateTimeOffset opensAt, DateTimeOffset? joinsCloseAt)
    {
        var room = settings.Keys.First(k => k.StartsWith("WaitingRoom:Rooms:", StringComparison.Ordinal)).Split(':')[2];
        var prefix = $"WaitingRoom:Rooms:{room}:";
        Set(prefix + "PrequeueFrom", prequeueFrom);
        Set(prefix + "OpensAt", opensAt);
        settings[prefix + "ShuffleAtOpen"] = "true";
        Set(prefix + "JoinsCloseAt", joinsCloseAt);

        void Set(string key, DateTimeOffset? value)
        {
            if (value is { } instant)
                settings[key] = instant.ToString("O", CultureInfo.InvariantCulture);
            else
                settings.Remove(key);
        }
    }

    private static DateTimeOffset Instant(JsonNode? node) => DateTimeOffset.Parse(node!.GetValue<string>(), CultureInfo.InvariantCulture);

    private static string PlaceId(string token) => token.Split('.')[1];

    private static async Task<double?> PrequeueScoreAsync(GatewayTestBed bed, string token) =>
        await bed.Gateway.Services.GetRequiredService<StoreConnection>().Database.SortedSetScoreAsync($"wr:{{{bed.Room}}}:pq", PlaceId(token));
}
