using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Gateway.Admission.Queue;
using Gateway.Admission.Tokens;
using Gateway.PowSolver;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Observability;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Gateway.Tests.ProofOfWork;

/// <summary>
/// Proof of work at join through real HTTP, against a real gateway on a real redis-server: a valid solution gets a
/// place; missing, wrong, expired, replayed, other-room and malformed ones get the contract's 400s, never a 500,
/// and (MONITOR on the store) none of the bad ones reaches the store. The difficulty follows configuration
/// reloads, the operators' override in the store, and the automatic mode.
/// </summary>
public sealed class ChallengeApiTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>
{
    private const int Bits = 8;

    [Fact]
    public async Task Challenge_ForARoom_IsSignedExpiringAndSaysWhetherItIsRequired()
    {
        var (room, open) = (NewRoom(), NewRoom());
        await using var gateway = await StartAsync(Settings(room, extra: s => s[$"WaitingRoom:Rooms:{open}:Capacity"] = "10"));
        using var http = gateway.CreateClient();

        using var response = await http.GetAsync("/api/v1/queue/challenge?event_id=" + room);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
        var challenge = body["challenge"]!.GetValue<string>();
        Assert.StartsWith($"1.{room}.{Bits}.", challenge, StringComparison.Ordinal);
        Assert.Equal("sha256-leading-zero-bits", body["algorithm"]!.GetValue<string>());
        Assert.Equal(Bits, body["difficulty"]!.GetValue<int>());
        Assert.True(body["required"]!.GetValue<bool>());
        Assert.Equal(room, body["event_id"]!.GetValue<string>());
        var expires = DateTimeOffset.Parse(body["expires_at"]!.GetValue<string>(), CultureInfo.InvariantCulture);
        Assert.InRange(expires - DateTimeOffset.UtcNow, TimeSpan.FromSeconds(100), TimeSpan.FromSeconds(121));
        Assert.NotEqual(challenge, (await ChallengeAsync(http, room))["challenge"]!.GetValue<string>()); // a fresh one each time

        Assert.False((await ChallengeAsync(http, open))["required"]!.GetValue<bool>());
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/api/v1/queue/challenge?event_id=nope")).StatusCode);
        foreach (var bad in new[] { "", "?event_id=", "?event_id=a%20b", "?event_id=a&event_id=b", "?event_id=" + new string('x', 65) })
        {
            using var refused = await http.GetAsync("/api/v1/queue/challenge" + bad);
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Equal("INVALID_EVENT_ID", await ErrorCodeAsync(refused));
        }
    }

    [Fact]
    public async Task Join_WithAValidSolution_GetsAPlace_AndTheSameSolutionTwiceIsRefused()
    {
        var room = NewRoom();
        await using var gateway = await StartAsync(Settings(room));
        using var http = gateway.CreateClient();
        var pow = await SolveAsync(http, room);

        var (status, body) = await JoinAsync(http, room, pow);
        Assert.Equal(HttpStatusCode.Accepted, status);
        Assert.False(string.IsNullOrEmpty(body["waiting_token"]?.GetValue<string>()));

        // Replayed by another caller (no identity cookie): the store has seen this challenge.
        var (replayed, error) = await JoinAsync(http, room, pow);
        Assert.Equal(HttpStatusCode.BadRequest, replayed);
        Assert.Equal("CHALLENGE_INVALID", error["error"]!["code"]!.GetValue<string>());
        Assert.Contains("already used", error["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    /// <summary>
    /// A retry by the caller who got the place (a lost answer, a 503 the store ran late, a repeated Idempotency-Key) gets
    /// that place back; only a new place spends the solution.
    /// </summary>
    [Fact]
    public async Task Join_RetriedWithTheSameSolution_ByTheSameBrowser_GetsItsPlaceBack()
    {
        var room = NewRoom();
        await using var gateway = await StartAsync(Settings(room));
        using var browser = gateway.CreateClient(useCookies: true);
        using var other = gateway.CreateClient();
        var pow = await SolveAsync(browser, room);

        var (status, first) = await JoinAsync(browser, room, pow);
        var (again, second) = await JoinAsync(browser, room, pow);
        var (replayed, error) = await JoinAsync(other, room, pow);

        Assert.Equal(HttpStatusCode.Accepted, status);
        Assert.Equal(HttpStatusCode.Accepted, again);
        Assert.Equal(first["waiting_token"]!.GetValue<string>(), second["waiting_token"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.BadRequest, replayed);
        Assert.Equal("CHALLENGE_INVALID", error["error"]!["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task Join_WithMissingWrongExpiredOtherRoomOrMalformedSolutions_Is400_NeverReachesTheStore_AndIsCounted()
    {
        var (room, other) = (NewRoom(), NewRoom());
        await using var server = await RedisServer.StartNewAsync();
        await using var gateway = await StartAsync(Settings(room, extra: s =>
        {
            s[$"WaitingRoom:Rooms:{other}:Capacity"] = "10";
            s[$"WaitingRoom:Rooms:{other}:ProofOfWork:Enabled"] = "true";
            s[$"WaitingRoom:Rooms:{other}:ProofOfWork:Difficulty"] = Bits.ToString(CultureInfo.InvariantCulture);
        }), server.ConnectionString);
        using var http = gateway.CreateClient();
        var solved = await SolveAsync(http, room);
        var challenge = solved["challenge"]!.GetValue<string>();
        var wrongNonce = Enumerable.Range(0, 1000).Select(i => i.ToString(CultureInfo.InvariantCulture)).First(n => !ProofOfWorkSolver.IsSolution(challenge, n, Bits));
        var expired = Forge(room, Bits, DateTimeOffset.UtcNow.AddSeconds(-5));
        var otherRooms = await SolveAsync(http, other);
        var forged = challenge[..^22] + new string('A', 22);

        var cases = new (string Name, string? Pow, string Code)[]
        {
            ("missing", null, "CHALLENGE_REQUIRED"),
            ("null", "null", "CHALLENGE_REQUIRED"),
            ("wrong nonce", Pow(challenge, wrongNonce).ToJsonString(), "CHALLENGE_INVALID"),
            ("expired", Pow(expired, ProofOfWorkSolver.Solve(expired, Bits).Nonce).ToJsonString(), "CHALLENGE_EXPIRED"),
            ("other room", otherRooms.ToJsonString(), "CHALLENGE_INVALID"),
            ("forged MAC", Pow(forged, ProofOfWorkSolver.Solve(forged, Bits).Nonce).ToJsonString(), "CHALLENGE_INVALID"),
            ("a number", "5", "CHALLENGE_INVALID"),
            ("a string", "\"solved!\"", "CHALLENGE_INVALID"),
            ("an array", new JsonArray(challenge, "1").ToJsonString(), "CHALLENGE_INVALID"),
            ("empty object", "{}", "CHALLENGE_INVALID"),
            ("numbers inside", "{\"challenge\": 1, \"nonce\": 2}", "CHALLENGE_INVALID"),
            ("no nonce", new JsonObject { ["challenge"] = challenge }.ToJsonString(), "CHALLENGE_INVALID"),
            ("empty strings", Pow("", "").ToJsonString(), "CHALLENGE_INVALID"),
            ("nonce too long", Pow(challenge, new string('7', 65)).ToJsonString(), "CHALLENGE_INVALID"),
            ("nonce not ASCII", Pow(challenge, "１２３").ToJsonString(), "CHALLENGE_INVALID"),
            ("nonce with a colon", Pow(challenge, "1:2").ToJsonString(), "CHALLENGE_INVALID"),
            ("lone surrogates", "{\"challenge\": \"\\ud800\", \"nonce\": \"\\udc00\"}", "CHALLENGE_INVALID"), // valid JSON, not text
            ("challenge too long", Pow(challenge + new string('a', 200), "1").ToJsonString(), "CHALLENGE_INVALID"),
            ("challenge of dots", Pow("......", "1").ToJsonString(), "CHALLENGE_INVALID"),
            ("challenge of another version", Pow("2" + challenge[1..], "1").ToJsonString(), "CHALLENGE_INVALID"),
            ("difficulty out of range", Pow(challenge.Replace($".{Bits}.", ".99.", StringComparison.Ordinal), "1").ToJsonString(), "CHALLENGE_INVALID"),
            ("control characters", Pow("1.\u0000.\n", "\t").ToJsonString(), "CHALLENGE_INVALID"),
        };

        // The join script known to the server beforehand: on a server that has never seen it, the one join below would
        // show twice (the EVALSHA answered NOSCRIPT, then the script loaded and run).
        await using (var loader = await ConnectionMultiplexer.ConnectAsync(server.ConnectionString))
            await loader.GetServer(loader.GetEndPoints()[0]).ScriptLoadAsync(QueueScripts.StoreClock.Join.Text);
        await using var monitor = await RedisMonitor.StartAsync(server);
        foreach (var (name, pow, code) in cases)
        {
            var (status, body) = await JoinRawAsync(http, room, pow);
            Assert.True(status == HttpStatusCode.BadRequest, $"{name}: {(int)status} {body.ToJsonString()}");
            Assert.Equal(code, body["error"]!["code"]!.GetValue<string>());
            Assert.False(string.IsNullOrEmpty(body["error"]!["trace_id"]?.GetValue<string>()), name);
        }
        // Then one good join: once MONITOR shows it, everything before it would have shown too.
        Assert.Equal(HttpStatusCode.Accepted, (await JoinAsync(http, room, solved)).Status);
        bool IsJoin(string line) => line.Contains(QueueScripts.StoreClock.Join.Hex, StringComparison.OrdinalIgnoreCase) || (line.Contains("\"EVAL\"", StringComparison.OrdinalIgnoreCase) && line.Contains("A_POW_ID", StringComparison.Ordinal));
        await Eventually.TrueAsync(() => Task.FromResult(monitor.Lines.Any(IsJoin)), because: "MONITOR shows the valid join");
        Assert.Single(monitor.Lines, IsJoin);

        var scrape = await PrometheusText.ScrapeAsync(http);
        Assert.Equal(2, scrape.Sum("waitingroom_joins_total", $"room={room}", "outcome=challenge_required"));
        Assert.Equal(1, scrape.Sum("waitingroom_joins_total", $"room={room}", "outcome=challenge_expired"));
        Assert.Equal(cases.Length - 3, scrape.Sum("waitingroom_joins_total", $"room={room}", "outcome=challenge_invalid"));
        Assert.Equal(1, scrape.Sum("waitingroom_joins_total", $"room={room}", "outcome=created"));
        Assert.True(scrape.Sum("waitingroom_challenges_total", $"room={room}") >= 1);
        Assert.Equal(Bits, scrape.Sum("waitingroom_challenge_difficulty", $"room={room}"));
    }

    [Fact]
    public async Task Join_ToARoomWithoutProofOfWork_IgnoresAnyPow()
    {
        var room = NewRoom();
        await using var gateway = await StartAsync(Settings(room, enabled: false));
        using var http = gateway.CreateClient();

        foreach (var pow in new JsonNode?[] { null, 5, new JsonObject { ["challenge"] = "x", ["nonce"] = "y" } })
            Assert.Equal(HttpStatusCode.Accepted, (await JoinAsync(http, room, pow)).Status);
    }

    [Fact]
    public async Task Difficulty_FollowsAConfigReload_AndAnInvalidOneIsRejectedWithTheKeyInTheLog()
    {
        var room = NewRoom();
        var logs = new CapturedLogs();
        var settings = Settings(room);
        await using var gateway = await StartAsync(settings, logs: logs);
        using var http = gateway.CreateClient();
        var early = await SolveAsync(http, room);

        settings[$"WaitingRoom:Rooms:{room}:ProofOfWork:Difficulty"] = "10";
        await gateway.RewriteConfigAsync(settings);
        await Eventually.TrueAsync(async () => (await ChallengeAsync(http, room))["difficulty"]!.GetValue<int>() == 10, because: "the reload raises the difficulty");
        // A solution to an easier challenge, issued before the change, no longer opens a join.
        var (stale, error) = await JoinAsync(http, room, early);
        Assert.Equal(HttpStatusCode.BadRequest, stale);
        Assert.Equal("CHALLENGE_EXPIRED", error["error"]!["code"]!.GetValue<string>());

        settings[$"WaitingRoom:Rooms:{room}:ProofOfWork:Difficulty"] = "40";
        await gateway.RewriteConfigAsync(settings);
        var key = $"WaitingRoom:Rooms:{room}:ProofOfWork:Difficulty";
        await Eventually.TrueAsync(() => Task.FromResult(logs.Entries.Any(e => e.Level == LogLevel.Error && e.Message.Contains(key, StringComparison.Ordinal))),
            because: "the rejected edit is logged with the key");
        Assert.Equal(10, (await ChallengeAsync(http, room))["difficulty"]!.GetValue<int>()); // the last good value stays
        Assert.Equal(HttpStatusCode.Accepted, (await JoinAsync(http, room, await SolveAsync(http, room))).Status);

        settings[$"WaitingRoom:Rooms:{room}:ProofOfWork:Difficulty"] = "10";
        settings[$"WaitingRoom:Rooms:{room}:ProofOfWork:Enabled"] = "false";
        await gateway.RewriteConfigAsync(settings);
        await Eventually.TrueAsync(async () => (await JoinAsync(http, room, null)).Status == HttpStatusCode.Accepted, because: "turned off live");
    }

    [Fact]
    public async Task Difficulty_OverrideInTheRoomsControlHash_RaisesTheFloor()
    {
        var room = NewRoom();
        await using var gateway = await StartAsync(Settings(room));
        using var http = gateway.CreateClient();
        var early = await SolveAsync(http, room);
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.Server.ConnectionString);

        // What the admin API will write (docs/API.md): every instance reads it at its next tick.
        await connection.GetDatabase().HashSetAsync($"wr:{{{room}}}:ctl", "pow_difficulty", "11");

        await Eventually.TrueAsync(async () => (await ChallengeAsync(http, room))["difficulty"]!.GetValue<int>() == 11, because: "the tick brings the override");
        Assert.Equal("CHALLENGE_EXPIRED", (await JoinAsync(http, room, early)).Body["error"]!["code"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Accepted, (await JoinAsync(http, room, await SolveAsync(http, room))).Status);
    }

    [Fact]
    public async Task AutoDifficulty_UnderAFloodOfJoins_RaisesTheDifficulty_UpToItsMaximum()
    {
        var room = NewRoom();
        await using var gateway = await StartAsync(Settings(room, bits: 4, extra: s =>
        {
            s[$"WaitingRoom:Rooms:{room}:ProofOfWork:AutoDifficulty:JoinsPerSecond"] = "1";
            s[$"WaitingRoom:Rooms:{room}:ProofOfWork:AutoDifficulty:MaxDifficulty"] = "7";
            s[$"WaitingRoom:Rooms:{room}:ProofOfWork:AutoDifficulty:Window"] = "00:00:02";
        }));
        using var http = gateway.CreateClient();
        Assert.Equal(4, (await ChallengeAsync(http, room))["difficulty"]!.GetValue<int>());
        // Solved at the base price before the flood, kept for it (a farm's stockpile).
        var stockpiled = await SolveAsync(http, room);

        // New places far faster than one a second, counted in the store; the challenges get harder, never past 7.
        var seen = new List<int>();
        await Eventually.TrueAsync(async () =>
        {
            var pow = await SolveAsync(http, room);
            seen.Add(pow["difficulty"]!.GetValue<int>());
            var (status, body) = await JoinAsync(http, room, Pow(pow["challenge"]!.GetValue<string>(), pow["nonce"]!.GetValue<string>()));
            // Ticks may raise the difficulty two bits between this challenge and its join: then it is expired, like any easier one.
            Assert.True(status == HttpStatusCode.Accepted || body["error"]?["code"]?.GetValue<string>() == "CHALLENGE_EXPIRED", $"{status} {body}");
            return seen[^1] > 5;
        }, TimeSpan.FromSeconds(60), because: "the join rate raises the difficulty by two bits or more");
        Assert.All(seen, bits => Assert.InRange(bits, 4, 7));

        // A raised difficulty makes easier solutions worthless (docs/SECURITY.md): no stockpiling. (One bit less than the
        // automatic level passes: instances may disagree by a bit.)
        Assert.Equal("CHALLENGE_EXPIRED", (await JoinAsync(http, room, Pow(stockpiled["challenge"]!.GetValue<string>(), stockpiled["nonce"]!.GetValue<string>()))).Body["error"]!["code"]!.GetValue<string>());
    }

    private static string NewRoom() => "p" + Guid.NewGuid().ToString("N")[..10];

    private static Dictionary<string, string?> Settings(string room, bool enabled = true, int bits = Bits, Action<Dictionary<string, string?>>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["WaitingRoom:SigningKeys:0:Id"] = "test",
            ["WaitingRoom:SigningKeys:0:Secret"] = TestConfig.TestSecret,
            ["WaitingRoom:JoinsPerClientPerMinute"] = "0",
            ["WaitingRoom:MaxPlacesPerClient"] = "0",
            ["WaitingRoom:PollsPerClientPerMinute"] = "0",
            ["WaitingRoom:MaintenanceInterval"] = "00:00:00.200",
            [$"WaitingRoom:Rooms:{room}:Capacity"] = "1",
            [$"WaitingRoom:Rooms:{room}:RefillPerSecond"] = "0.01",
            [$"WaitingRoom:Rooms:{room}:ProofOfWork:Enabled"] = enabled ? "true" : "false",
            [$"WaitingRoom:Rooms:{room}:ProofOfWork:Difficulty"] = bits.ToString(CultureInfo.InvariantCulture),
            ["Store:OperationTimeout"] = "00:00:02",
        };
        extra?.Invoke(settings);
        return settings;
    }

    private Task<GatewayHost> StartAsync(Dictionary<string, string?> settings, string? store = null, CapturedLogs? logs = null) =>
        GatewayHost.StartAsync(store ?? redis.Server.ConnectionString, settings, configure: logs is null ? null : b => b.Logging.AddProvider(logs));

    private static async Task<JsonObject> ChallengeAsync(HttpClient http, string room) =>
        (await http.GetFromJsonAsync<JsonObject>("/api/v1/queue/challenge?event_id=" + room))!;

    /// <summary>A fresh challenge solved by the reference solver: <c>{challenge, nonce, difficulty}</c>.</summary>
    private static async Task<JsonObject> SolveAsync(HttpClient http, string room)
    {
        var challenge = await ChallengeAsync(http, room);
        var text = challenge["challenge"]!.GetValue<string>();
        var bits = challenge["difficulty"]!.GetValue<int>();
        return new JsonObject { ["challenge"] = text, ["nonce"] = ProofOfWorkSolver.Solve(text, bits).Nonce, ["difficulty"] = bits };
    }

    private static JsonObject Pow(string challenge, string nonce) => new() { ["challenge"] = challenge, ["nonce"] = nonce };

    private static Task<(HttpStatusCode Status, JsonObject Body)> JoinAsync(HttpClient http, string room, JsonNode? pow) =>
        JoinRawAsync(http, room, pow?.ToJsonString());

    /// <summary>Joins with <paramref name="powJson"/> as the raw value of <c>pow</c> (null: no <c>pow</c> at all).</summary>
    private static async Task<(HttpStatusCode Status, JsonObject Body)> JoinRawAsync(HttpClient http, string room, string? powJson)
    {
        var body = "{\"event_id\": \"" + room + "\"" + (powJson is null ? "" : ", \"pow\": " + powJson) + "}";
        using var response = await http.PostAsync("/api/v1/queue/join", new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonNode.Parse(text)!.AsObject());
    }

    private static async Task<string> ErrorCodeAsync(HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!["code"]!.GetValue<string>();

    /// <summary>A challenge signed with the test key as the gateway would, with a chosen expiry.</summary>
    private static string Forge(string room, int bits, DateTimeOffset expires)
    {
        var key = KeyRing.Keys.From([("test", Convert.FromBase64String(TestConfig.TestSecret))]).Challenges[0];
        var body = $"1.{room}.{bits}.{expires.ToUnixTimeSeconds()}.{WaitingTokens.NewPlaceId()}";
        return body + "." + Mac.Compute(key, body);
    }
}
