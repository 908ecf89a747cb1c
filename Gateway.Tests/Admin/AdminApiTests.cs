using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Admin;

/// <summary>The admin API's contract on one gateway over a real redis-server: every endpoint, its refusals, and the room states it sets.</summary>
public sealed class AdminApiTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>
{
    private static readonly string[] RoomFields =
    [
        "event_id", "state", "capacity", "refill_per_second", "effective_refill_per_second", "max_active", "waiting", "ready", "active",
        "admitted_total", "oldest_wait_sec", "overrides", "prequeued", "opens_at", "prequeue_from", "joins_close_at", "shuffle_at_open",
    ];

    private Task<GatewayTestBed> StartAsync(Action<Dictionary<string, string?>>? configure = null, int capacity = 100, double refill = 10) =>
        GatewayTestBed.StartAsync(redis.Server.ConnectionString, s =>
        {
            TestConfig.WithAdmin(s);
            configure?.Invoke(s);
        }, capacity, refill);

    [Fact]
    public async Task Rooms_ListAndGet_ShowEveryContractFieldWithLiveCounts()
    {
        await using var bed = await StartAsync(s => s[$"WaitingRoom:Rooms:other:Capacity"] = "5", capacity: 1, refill: 0.01);
        using var admin = bed.Gateway.CreateAdminClient();
        await bed.Client.JoinAsync(bed.Room, "first"); // takes the one token: ready
        await bed.Client.JoinAsync(bed.Room, "second"); // waits

        var (listStatus, list, listResponse) = await admin.ListAsync();
        var (status, room, _) = await admin.GetAsync(bed.Room);

        Assert.Equal(HttpStatusCode.OK, listStatus);
        Assert.True(listResponse.Headers.CacheControl?.NoStore);
        Assert.Equal(new[] { bed.Room, "other" }.Order(StringComparer.Ordinal), list["rooms"]!.AsArray().Select(r => r!["event_id"]!.GetValue<string>()));
        Assert.Equal(HttpStatusCode.OK, status);
        foreach (var field in RoomFields)
            Assert.True(room.ContainsKey(field), $"room lacks {field}: {room.ToJsonString()}");
        Assert.Equal(bed.Room, room["event_id"]!.GetValue<string>());
        Assert.Equal("open", room["state"]!.GetValue<string>());
        Assert.Equal(1, room["capacity"]!.GetValue<int>());
        Assert.Equal(0.01, room["refill_per_second"]!.GetValue<double>());
        Assert.Equal(0.01, room["effective_refill_per_second"]!.GetValue<double>());
        Assert.Null(room["max_active"]);
        Assert.Equal(1, room["waiting"]!.GetValue<long>());
        Assert.Equal(1, room["ready"]!.GetValue<long>());
        Assert.Equal(0, room["active"]!.GetValue<long>());
        Assert.Equal(0, room["admitted_total"]!.GetValue<long>());
        Assert.True(room["oldest_wait_sec"]!.GetValue<long>() >= 0);
        Assert.Empty(room["overrides"]!.AsObject());
    }

    [Fact]
    public async Task Patch_EverySetting_IsInForceAndShown_UntilDeleteOverridesRestoresConfiguration()
    {
        await using var bed = await StartAsync(capacity: 100, refill: 10);
        using var admin = bed.Gateway.CreateAdminClient();

        var patched = await admin.SetAsync(bed.Room, """
            {"state": "paused", "capacity": 7, "refill_per_second": 2.5, "max_active": 40,
             "prequeue_from": "2030-01-01T09:00:00+09:00", "opens_at": "2030-01-01T10:00:00+09:00", "joins_close_at": "2030-01-01T12:00:00Z", "shuffle_at_open": true}
            """);

        Assert.Equal("paused", patched["state"]!.GetValue<string>());
        Assert.Equal(7, patched["capacity"]!.GetValue<int>());
        Assert.Equal(2.5, patched["refill_per_second"]!.GetValue<double>());
        Assert.Equal(2.5, patched["effective_refill_per_second"]!.GetValue<double>());
        Assert.Equal(40, patched["max_active"]!.GetValue<int>());
        Assert.Equal(DateTimeOffset.Parse("2030-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture), patched["prequeue_from"]!.GetValue<DateTimeOffset>());
        Assert.Equal(DateTimeOffset.Parse("2030-01-01T01:00:00Z", System.Globalization.CultureInfo.InvariantCulture), patched["opens_at"]!.GetValue<DateTimeOffset>());
        Assert.True(patched["shuffle_at_open"]!.GetValue<bool>());
        var overrides = patched["overrides"]!.AsObject();
        Assert.Equal(["state", "capacity", "refill_per_second", "max_active", "prequeue_from", "opens_at", "joins_close_at", "shuffle_at_open"], overrides.Select(o => o.Key));
        // A read on the same instance answers the same.
        Assert.Equal(Without(patched, "server_time").ToJsonString(), Without((await admin.GetAsync(bed.Room)).Body, "server_time").ToJsonString());

        // null removes one override; the others stay.
        var one = await admin.SetAsync(bed.Room, """{"capacity": null, "prequeue_from": null, "shuffle_at_open": null}""");
        Assert.Equal(100, one["capacity"]!.GetValue<int>());
        Assert.False(one["overrides"]!.AsObject().ContainsKey("capacity"));
        Assert.Equal("paused", one["state"]!.GetValue<string>());

        var (clearStatus, cleared, _) = await admin.ClearAsync(bed.Room);
        Assert.Equal(HttpStatusCode.OK, clearStatus);
        Assert.Equal("open", cleared["state"]!.GetValue<string>());
        Assert.Equal(100, cleared["capacity"]!.GetValue<int>());
        Assert.Equal(10, cleared["refill_per_second"]!.GetValue<double>());
        Assert.Null(cleared["max_active"]);
        Assert.Null(cleared["opens_at"]);
        Assert.Empty(cleared["overrides"]!.AsObject());
        Assert.Equal(HttpStatusCode.Accepted, (await bed.Client.JoinAsync(bed.Room, "after")).Status);
    }

    [Theory]
    [InlineData("""{"state": "stopped"}""", "state")]
    [InlineData("""{"state": 1}""", "state")]
    [InlineData("""{"capacity": 0}""", "capacity")]
    [InlineData("""{"capacity": -5}""", "capacity")]
    [InlineData("""{"capacity": 1.5}""", "capacity")]
    [InlineData("""{"capacity": "10"}""", "capacity")]
    [InlineData("""{"capacity": 99999999999999999999}""", "capacity")]
    [InlineData("""{"refill_per_second": 0}""", "refill_per_second")]
    [InlineData("""{"refill_per_second": -1}""", "refill_per_second")]
    [InlineData("""{"refill_per_second": 1e-320}""", "refill_per_second")]
    [InlineData("""{"refill_per_second": 0.00005}""", "refill_per_second")]
    [InlineData("""{"refill_per_second": 1e300}""", "refill_per_second")]
    [InlineData("""{"max_active": 0}""", "max_active")]
    [InlineData("""{"max_active": true}""", "max_active")]
    [InlineData("""{"opens_at": "2030-01-01T10:00:00"}""", "opens_at")]
    [InlineData("""{"opens_at": "tomorrow"}""", "opens_at")]
    [InlineData("""{"opens_at": 1893456000000}""", "opens_at")]
    [InlineData("""{"shuffle_at_open": "yes"}""", "shuffle_at_open")]
    [InlineData("""{"prequeue_from": "2030-01-01T09:00:00Z"}""", "prequeue_from")]
    [InlineData("""{"prequeue_from": "2030-01-01T11:00:00Z", "opens_at": "2030-01-01T10:00:00Z"}""", "prequeue_from")]
    [InlineData("""{"opens_at": "2030-01-01T10:00:00Z", "joins_close_at": "2030-01-01T09:00:00Z"}""", "joins_close_at")]
    [InlineData("""{"shuffle_at_open": true}""", "shuffle_at_open")]
    [InlineData("""{"state": "paused", "refil_per_second": 5}""", "refil_per_second")]
    public async Task Patch_InvalidValue_Answers400NamingTheField_AndChangesNothing(string body, string field)
    {
        await using var bed = await StartAsync();
        using var admin = bed.Gateway.CreateAdminClient();

        var (status, error, _) = await admin.PatchAsync(bed.Room, body);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(field, error["error"]!["field"]!.GetValue<string>());
        Assert.Contains(error["error"]!["code"]!.GetValue<string>(), new[] { "INVALID_VALUE", "INVALID_REQUEST" });
        Assert.False(string.IsNullOrWhiteSpace(error["error"]!["message"]!.GetValue<string>()));
        var (_, room, _) = await admin.GetAsync(bed.Room);
        Assert.Equal("open", room["state"]!.GetValue<string>());
        Assert.Empty(room["overrides"]!.AsObject());
    }

    [Theory]
    [InlineData("{bad", "application/json", HttpStatusCode.BadRequest)]
    [InlineData("[1, 2]", "application/json", HttpStatusCode.BadRequest)]
    [InlineData("\"paused\"", "application/json", HttpStatusCode.BadRequest)]
    [InlineData("{}", "application/json", HttpStatusCode.BadRequest)]
    [InlineData("", "application/json", HttpStatusCode.BadRequest)]
    [InlineData("""{"state": "paused", "state": "open"}""", "application/json", HttpStatusCode.BadRequest)]
    [InlineData("""{"a": {"b": {"c": {"d": {"e": 1}}}}}""", "application/json", HttpStatusCode.BadRequest)]
    [InlineData("""{"state": "\ud800"}""", "application/json", HttpStatusCode.BadRequest)]
    [InlineData("""{"\udc00": 1}""", "application/json", HttpStatusCode.BadRequest)]
    [InlineData("""{"state": "paused"}""", "text/plain", HttpStatusCode.UnsupportedMediaType)]
    [InlineData("state=paused", "application/x-www-form-urlencoded", HttpStatusCode.UnsupportedMediaType)]
    public async Task Patch_MalformedBody_Answers4xxInTheErrorShape_NeverA500(string body, string mediaType, HttpStatusCode expected)
    {
        await using var bed = await StartAsync();
        using var admin = bed.Gateway.CreateAdminClient();

        var (status, error, _) = await admin.PatchAsync(bed.Room, body, mediaType);

        Assert.Equal(expected, status);
        Assert.NotNull(error["error"]!["code"]);
        Assert.NotNull(error["error"]!["trace_id"]);
    }

    [Fact]
    public async Task MaxActive_LoweredBelowThoseAlreadyReady_CapsAdmissions_AndTheReadyGoInAsAdmissionsEnd()
    {
        // AbandonAfter 2 s: the ready people held back must keep their reservation by polling, as when paused.
        await using var bed = await StartAsync(s =>
        {
            foreach (var key in s.Keys.Where(k => k.StartsWith("WaitingRoom:Rooms:", StringComparison.Ordinal) && k.EndsWith(":Capacity", StringComparison.Ordinal)).ToList())
                s[key[..^":Capacity".Length] + ":AbandonAfter"] = "00:00:02";
        }, capacity: 5, refill: 0.001);
        using var admin = bed.Gateway.CreateAdminClient();
        var tokens = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            var (_, body, _) = await bed.Client.JoinAsync(bed.Room, $"u{i}");
            Assert.Equal("ready", body["status"]!.GetValue<string>());
            tokens.Add(body["waiting_token"]!.GetValue<string>());
        }

        await admin.SetAsync(bed.Room, """{"max_active": 2}""");
        var outcomes = new List<HttpStatusCode>();
        foreach (var token in tokens)
            outcomes.Add((await bed.Client.EnterAsync(token)).Status);

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.Forbidden, HttpStatusCode.Forbidden, HttpStatusCode.Forbidden], outcomes);
        var (_, room, _) = await admin.GetAsync(bed.Room);
        Assert.Equal(2, room["active"]!.GetValue<int>());
        for (var i = 0; i < 8; i++) // 4 s, twice AbandonAfter: held back, polling, the reservation is kept
        {
            await Task.Delay(500);
            foreach (var token in tokens.Skip(2))
                Assert.Equal("ready", (await bed.Client.StatusAsync(token)).Body["status"]!.GetValue<string>());
        }

        Assert.Equal(HttpStatusCode.NoContent, await bed.Client.LeaveAsync(tokens[0])); // an admission ends
        Assert.Equal(HttpStatusCode.OK, (await bed.Client.EnterAsync(tokens[2])).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await bed.Client.EnterAsync(tokens[3])).Status);
    }

    [Fact]
    public async Task ShuffleAtOpen_WhilePeopleArePrequeued_CannotChange()
    {
        await using var bed = await StartAsync(capacity: 5, refill: 1);
        using var admin = bed.Gateway.CreateAdminClient();
        var from = Instant(DateTimeOffset.UtcNow.AddMinutes(-1));
        var opens = Instant(DateTimeOffset.UtcNow.AddHours(1));
        await admin.SetAsync(bed.Room, $$"""{"prequeue_from": "{{from}}", "opens_at": "{{opens}}", "shuffle_at_open": true}""");
        await admin.SetAsync(bed.Room, """{"shuffle_at_open": false}"""); // nobody pre-queued yet: free to change
        Assert.Equal("prequeue", (await bed.Client.JoinAsync(bed.Room, "early")).Body["status"]!.GetValue<string>());

        var (status, error, _) = await admin.PatchAsync(bed.Room, """{"shuffle_at_open": true}""");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("INVALID_VALUE", error["error"]!["code"]!.GetValue<string>());
        Assert.Equal("shuffle_at_open", error["error"]!["field"]!.GetValue<string>());
        await admin.SetAsync(bed.Room, """{"shuffle_at_open": false}"""); // the same rule again is no change
    }

    [Fact]
    public async Task AnOpenRoomGivenALaterOpening_HoldsTheLineUntilThen_AndSaysHowLong()
    {
        await using var bed = await StartAsync(capacity: 1, refill: 10);
        using var admin = bed.Gateway.CreateAdminClient();
        var ready = (await bed.Client.JoinAsync(bed.Room, "ready")).Body["waiting_token"]!.GetValue<string>();
        var waiting = (await bed.Client.JoinAsync(bed.Room, "waiting")).Body["waiting_token"]!.GetValue<string>();
        var opens = Instant(DateTimeOffset.UtcNow.AddMinutes(2));

        await admin.SetAsync(bed.Room, $$"""{"opens_at": "{{opens}}"}""");

        var (enter, refused, _) = await bed.Client.EnterAsync(ready);
        Assert.Equal(HttpStatusCode.Forbidden, enter); // admissions start at the opening
        Assert.Equal("NOT_READY", refused["error"]!["code"]!.GetValue<string>());
        await Eventually.TrueAsync(async () => (await bed.Client.StatusAsync(waiting)).Body["eta_sec"]?.GetValue<long>() >= 110,
            TimeSpan.FromSeconds(5), "the wait counts to the opening");
        Assert.Equal(1, (await bed.Client.StatusAsync(waiting)).Body["position"]!.GetValue<long>());
        // The ready keep their reservation and see the countdown, not a "your turn" the enter would refuse.
        var (_, held, _) = await bed.Client.StatusAsync(ready);
        Assert.Equal("prequeue", held["status"]!.GetValue<string>());
        Assert.InRange(held["eta_sec"]!.GetValue<long>(), 100, 120);
    }

    [Fact]
    public async Task MaxActive_Reached_TheEtaIsThePaceAdmissionsEnd_NotTheBuckets()
    {
        // The bucket alone would say "about 1 second": 5 tokens of burst, 5 more each second.
        await using var bed = await StartAsync(capacity: 5, refill: 5);
        using var admin = bed.Gateway.CreateAdminClient();
        await admin.SetAsync(bed.Room, """{"max_active": 2}""");
        for (var i = 0; i < 2; i++)
        {
            var (_, inside, _) = await bed.Client.JoinAsync(bed.Room, $"in{i}");
            Assert.Equal(HttpStatusCode.OK, (await bed.Client.EnterAsync(inside["waiting_token"]!.GetValue<string>())).Status);
        }
        var waiting = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var (_, body, _) = await bed.Client.JoinAsync(bed.Room, $"out{i}");
            Assert.Equal("waiting", body["status"]!.GetValue<string>());
            waiting.Add(body["waiting_token"]!.GetValue<string>());
        }

        // Once a tick has seen the two inside: two admissions in the last minute (or, without that history yet, 2 slots
        // per 10-minute AdmissionTtl) is a wait of minutes for the third in line, and confidence says it is less sure.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        var last = (await bed.Client.StatusAsync(waiting[2])).Body;
        while (last["eta_sec"]!.GetValue<long>() < 60 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
            last = (await bed.Client.StatusAsync(waiting[2])).Body;
        }
        Assert.True(last["eta_sec"]!.GetValue<long>() >= 60, "the ETA of the third in line reflects MaxActive: " + last.ToJsonString());
        Assert.Equal(3, last["position"]!.GetValue<long>());
        Assert.True(last["confidence"]!.GetValue<double>() <= 0.9, last.ToJsonString());
        // Their turn comes when an admission ends, at a moment nobody foresees: the first in line for a slot poll as the front does.
        Assert.InRange(last["poll_after_ms"]!.GetValue<int>(), 1, 550);

        // Without the cap the line goes in at the bucket's pace.
        await admin.ClearAsync(bed.Room);
        await Eventually.TrueAsync(async () => (await bed.Client.StatusAsync(waiting[2])).Body["status"]!.GetValue<string>() == "ready",
            TimeSpan.FromSeconds(10), "promoted once the cap is gone");
    }

    [Theory]
    [InlineData("{\"state\":\"\xff\"}")]
    [InlineData("{\"\xff\":1}")]
    [InlineData("{\"opens_at\":\"\xff\xfe\"}")]
    public async Task Patch_InvalidUtf8_Answers400_NeverA500(string latin1Body)
    {
        await using var bed = await StartAsync();
        using var admin = bed.Gateway.CreateAdminClient();
        var bytes = Encoding.Latin1.GetBytes(latin1Body); // \xff and \xfe as single bytes: not UTF-8

        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        var (status, error, _) = await admin.SendAsync(new HttpRequestMessage(HttpMethod.Patch, "/admin/v1/rooms/" + bed.Room) { Content = content });

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("INVALID_REQUEST", error["error"]!["code"]!.GetValue<string>());
        var (_, room, _) = await admin.GetAsync(bed.Room);
        Assert.Empty(room["overrides"]!.AsObject());
    }

    [Fact]
    public async Task Patch_BodyOver4KiB_Answers413_AndMergePatchMediaTypeIsAccepted()
    {
        await using var bed = await StartAsync();
        using var admin = bed.Gateway.CreateAdminClient();

        var (tooLarge, error, _) = await admin.PatchAsync(bed.Room, "{\"state\": \"paused\", \"x\": \"" + new string('a', 5000) + "\"}");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge);
        Assert.Equal("PAYLOAD_TOO_LARGE", error["error"]!["code"]!.GetValue<string>());

        using var fresh = bed.Gateway.CreateAdminClient();
        var (status, room, _) = await fresh.PatchAsync(bed.Room, """{"state": "paused"}""", "application/merge-patch+json");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("paused", room["state"]!.GetValue<string>());
    }

    [Fact]
    public async Task UnknownRoom_Answers404_OnEveryEndpoint()
    {
        await using var bed = await StartAsync();
        using var admin = bed.Gateway.CreateAdminClient();

        foreach (var room in new[] { "no-such-room", "bad id", "x/y" })
        {
            Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync(room)).Status);
            Assert.Equal(HttpStatusCode.NotFound, (await admin.PatchAsync(room, """{"state": "paused"}""")).Status);
            Assert.Equal(HttpStatusCode.NotFound, (await admin.ClearAsync(room)).Status);
            Assert.Equal(HttpStatusCode.NotFound, (await admin.RevokeAsync(room, "x")).Status);
        }
        var (_, error, _) = await admin.GetAsync("no-such-room");
        Assert.Equal("EVENT_NOT_FOUND", error["error"]!["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task Unauthenticated_MissingOrWrongKey_Answers401WithBearerChallenge_OnEveryEndpoint()
    {
        await using var bed = await StartAsync(s => s["Admin:FailedAttemptsPerClientPerMinute"] = "1000");

        foreach (var secret in new[] { null, "wrong-secret", TestConfig.AdminSecret + "x", TestConfig.AdminSecret.ToUpperInvariant() })
        {
            using var admin = bed.Gateway.CreateAdminClient(secret);
            foreach (var call in Calls(admin, bed.Room))
            {
                var (status, body, response) = await call();
                Assert.Equal(HttpStatusCode.Unauthorized, status);
                Assert.Equal("Bearer", Assert.Single(response.Headers.WwwAuthenticate).Scheme);
                Assert.Equal("UNAUTHORIZED", body["error"]!["code"]!.GetValue<string>());
            }
        }

        // Another scheme, or a bearer header with nothing in it, is no key either.
        foreach (var header in new[] { "Basic dGVzdDp0ZXN0", "Bearer", "Bearer    ", TestConfig.AdminSecret })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/admin/v1/rooms");
            request.Headers.TryAddWithoutValidation("Authorization", header);
            using var admin = bed.Gateway.CreateAdminClient(null);
            Assert.Equal(HttpStatusCode.Unauthorized, (await admin.SendAsync(request)).Status);
        }
        var (_, room, _) = await bed.Gateway.CreateAdminClient().GetAsync(bed.Room);
        Assert.Empty(room["overrides"]!.AsObject());
    }

    [Fact]
    public async Task WrongKeys_PastTheLimit_Answer429EvenForTheRightKey_AndAreCounted()
    {
        await using var bed = await StartAsync(s => s["Admin:FailedAttemptsPerClientPerMinute"] = "3");
        using var wrong = bed.Gateway.CreateAdminClient("wrong-secret");
        using var right = bed.Gateway.CreateAdminClient();
        using var none = bed.Gateway.CreateAdminClient(null);
        var before = await FailuresAsync(bed);

        // Asking without any key guesses nothing and does not count.
        for (var i = 0; i < 5; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await none.ListAsync()).Status);
        Assert.Equal(HttpStatusCode.OK, (await right.ListAsync()).Status);
        for (var i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.ListAsync()).Status);

        var (status, error, response) = await wrong.ListAsync();
        Assert.Equal(HttpStatusCode.TooManyRequests, status);
        Assert.Equal("TOO_MANY_FAILED_ATTEMPTS", error["error"]!["code"]!.GetValue<string>());
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await right.ListAsync()).Status);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await right.PatchAsync(bed.Room, """{"state": "paused"}""")).Status);

        // prometheus-net's registry is one per process: other tests' gateways count into it too, so compare deltas.
        var after = await FailuresAsync(bed);
        Assert.True(after["wrong_key"] - before["wrong_key"] >= 3, $"wrong_key {before["wrong_key"]} -> {after["wrong_key"]}");
        Assert.True(after["missing"] - before["missing"] >= 5, $"missing {before["missing"]} -> {after["missing"]}");
        Assert.True(after["locked_out"] - before["locked_out"] >= 3, $"locked_out {before["locked_out"]} -> {after["locked_out"]}");
    }

    [Fact]
    public async Task OtherMethodsAndPaths_BehindTheKey_Answer405WithAllow_Or404()
    {
        await using var bed = await StartAsync();
        using var admin = bed.Gateway.CreateAdminClient();
        var expected = new (HttpMethod Method, string Path, HttpStatusCode Status, string? Allow)[]
        {
            (HttpMethod.Put, "/admin/v1/rooms/" + bed.Room, HttpStatusCode.MethodNotAllowed, "GET, PATCH"),
            (HttpMethod.Post, "/admin/v1/rooms", HttpStatusCode.MethodNotAllowed, "GET"),
            (HttpMethod.Get, "/admin/v1/rooms/" + bed.Room + "/revoke", HttpStatusCode.MethodNotAllowed, "POST"),
            (new HttpMethod("BREW"), "/admin/v1/rooms/" + bed.Room + "/overrides", HttpStatusCode.MethodNotAllowed, "DELETE"),
            (HttpMethod.Get, "/admin/v1/keys", HttpStatusCode.NotFound, null),
            (HttpMethod.Delete, "/admin/v1/rooms/" + bed.Room + "/overrides/x", HttpStatusCode.NotFound, null),
        };
        foreach (var (method, path, status, allow) in expected)
        {
            var (actual, body, response) = await admin.SendAsync(new HttpRequestMessage(method, path));
            Assert.True(status == actual, $"{method} {path}: {(int)actual} {body.ToJsonString()}");
            Assert.Equal(status == HttpStatusCode.NotFound ? "NOT_FOUND" : "METHOD_NOT_ALLOWED", body["error"]!["code"]!.GetValue<string>());
            Assert.Equal(allow, allow is null ? null : string.Join(", ", response.Content.Headers.Allow));
        }

        // Without the key the catch-all asks for it like every admin endpoint, and counts nothing as a guess.
        using var anonymous = bed.Gateway.CreateAdminClient(null);
        var (unauthenticated, _, challenge) = await anonymous.SendAsync(new HttpRequestMessage(HttpMethod.Put, "/admin/v1/rooms/" + bed.Room));
        Assert.Equal(HttpStatusCode.Unauthorized, unauthenticated);
        Assert.Equal("Bearer", Assert.Single(challenge.Headers.WwwAuthenticate).Scheme);
    }

    [Fact]
    public async Task NoKeyConfigured_AdminApiIsOff_404WithTheRightSecretToo()
    {
        await using var bed = await GatewayTestBed.StartAsync(redis.Server.ConnectionString);
        using var admin = bed.Gateway.CreateAdminClient();

        foreach (var call in Calls(admin, bed.Room))
        {
            var (status, body, response) = await call();
            Assert.Equal(HttpStatusCode.NotFound, status);
            Assert.Empty(response.Headers.WwwAuthenticate);
            Assert.Equal("NOT_FOUND", body["error"]!["code"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task SeparateAdminPort_AdminAnswersOnlyThere_404OnThePublicPort()
    {
        var port = RedisServer.FreePort();
        await using var bed = await StartAsync(s => s["Admin:Urls"] = $"http://127.0.0.1:{port}");
        Assert.Equal(port, bed.Gateway.AdminAddress.Port);
        Assert.NotEqual(port, bed.Gateway.BaseAddress.Port);

        using var admin = bed.Gateway.CreateAdminClient();
        Assert.Equal(HttpStatusCode.OK, (await admin.ListAsync()).Status);
        Assert.Equal(HttpStatusCode.OK, (await admin.PatchAsync(bed.Room, """{"refill_per_second": 3}""")).Status);

        using var publicPort = new AdminClient(new HttpClient { BaseAddress = bed.Gateway.BaseAddress });
        publicPort.Http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", TestConfig.AdminSecret);
        foreach (var call in Calls(publicPort, bed.Room))
        {
            var (status, _, response) = await call();
            Assert.Equal(HttpStatusCode.NotFound, status);
            Assert.Empty(response.Headers.WwwAuthenticate);
        }
        // The public port still serves the public.
        Assert.Equal(HttpStatusCode.Accepted, (await bed.Client.JoinAsync(bed.Room, "someone")).Status);
    }

    [Theory]
    [InlineData("Admin:Keys:0:Sha256", "not-hex", "Admin:Keys:0:Sha256 must be the hex SHA-256")]
    [InlineData("Admin:Keys:0:Sha256", "abcd", "sha256sum")]
    [InlineData("Admin:Keys:0:Id", "has space", "Admin:Keys:0:Id must be")]
    [InlineData("Admin:Keys:1:Id", TestConfig.AdminKeyId, "is used twice")]
    [InlineData("Admin:Urls", "http://127.0.0.1:0", "Admin:Urls has 'http://127.0.0.1:0'")]
    [InlineData("Admin:Urls", "not a url", "Admin:Urls")]
    [InlineData("Admin:FailedAttemptsPerClientPerMinute", "0", "Admin:FailedAttemptsPerClientPerMinute is 0")]
    public async Task Startup_WithInvalidAdminSetting_FailsNamingTheKey(string key, string value, string expected)
    {
        var settings = TestConfig.WithAdmin(PageTestConfigRoom());
        if (key == "Admin:Keys:1:Id")
            settings["Admin:Keys:1:Sha256"] = TestConfig.Sha256Hex("another");
        settings[key] = value;

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => GatewayHost.StartAsync(null, settings));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Paused_JoinsStillQueue_NobodyIsPromotedOrAdmitted_StatusSaysPaused_UntilReopened()
    {
        await using var bed = await StartAsync(capacity: 5, refill: 5);
        using var admin = bed.Gateway.CreateAdminClient();
        var ready = (await bed.Client.JoinAsync(bed.Room, "ready-before")).Body["waiting_token"]!.GetValue<string>();

        await admin.SetAsync(bed.Room, """{"state": "paused"}""");

        var (joinStatus, joined, _) = await bed.Client.JoinAsync(bed.Room, "joins-while-paused");
        Assert.Equal(HttpStatusCode.Accepted, joinStatus);
        var token = joined["waiting_token"]!.GetValue<string>();
        // The bucket is full, yet nobody is promoted while paused.
        Assert.NotEqual("ready", joined["status"]!.GetValue<string>());
        var (enterStatus, refused, _) = await bed.Client.EnterAsync(ready);
        Assert.Equal(HttpStatusCode.Forbidden, enterStatus);
        Assert.Equal("NOT_READY", refused["error"]!["code"]!.GetValue<string>());
        var (_, status, _) = await bed.Client.StatusAsync(token);
        Assert.Equal("paused", status["status"]!.GetValue<string>());
        var (_, readyStatus, _) = await bed.Client.StatusAsync(ready);
        Assert.Equal("paused", readyStatus["status"]!.GetValue<string>());
        Assert.Equal(0, readyStatus["position"]!.GetValue<long>()); // ready: position 0, as the API says, paused or not
        Assert.Equal("Admissions are paused for a moment. Your place in line is kept.", status["message"]!.GetValue<string>());
        var room = (await admin.GetAsync(bed.Room)).Body;
        Assert.Equal(1, room["waiting"]!.GetValue<long>());
        Assert.Equal(0, room["active"]!.GetValue<long>());

        await admin.SetAsync(bed.Room, """{"state": "open"}""");

        Assert.False(string.IsNullOrEmpty(await bed.Client.AdmitAsync(bed.Room, "joins-while-paused")));
        Assert.Equal(HttpStatusCode.OK, (await bed.Client.EnterAsync(ready)).Status);
    }

    [Fact]
    public async Task Closed_JoinsGet403RoomClosed_WaitingPeopleSeeClosedInTheirLanguage_NobodyMoreIsAdmitted()
    {
        await using var bed = await StartAsync(capacity: 1, refill: 0.001);
        using var admin = bed.Gateway.CreateAdminClient();
        var ready = (await bed.Client.JoinAsync(bed.Room, "ready")).Body["waiting_token"]!.GetValue<string>();
        var waiting = (await bed.Client.JoinAsync(bed.Room, "waiting")).Body["waiting_token"]!.GetValue<string>();

        var closed = await admin.SetAsync(bed.Room, """{"state": "closed"}""");
        Assert.Equal("closed", closed["state"]!.GetValue<string>());

        var (joinStatus, refused, _) = await bed.Client.JoinAsync(bed.Room, "late");
        Assert.Equal(HttpStatusCode.Forbidden, joinStatus);
        Assert.Equal("ROOM_CLOSED", refused["error"]!["code"]!.GetValue<string>());
        var (_, english, _) = await bed.Client.StatusAsync(waiting, "en-US");
        Assert.Equal("closed", english["status"]!.GetValue<string>());
        Assert.Equal("This waiting room has closed. Nobody more will be admitted.", english["message"]!.GetValue<string>());
        var (_, korean, _) = await bed.Client.StatusAsync(waiting, "ko-KR,ko;q=0.9");
        Assert.Equal("closed", korean["status"]!.GetValue<string>());
        Assert.Equal("이 대기실은 종료되었습니다. 더 이상 입장할 수 없습니다.", korean["message"]!.GetValue<string>());
        var (enterStatus, error, _) = await bed.Client.EnterAsync(ready);
        Assert.Equal(HttpStatusCode.Forbidden, enterStatus);
        Assert.Equal("ROOM_CLOSED", error["error"]!["code"]!.GetValue<string>());
        var (waitingEnter, waitingError, _) = await bed.Client.EnterAsync(waiting); // not only the ready: the closed room is the answer
        Assert.Equal(HttpStatusCode.Forbidden, waitingEnter);
        Assert.Equal("ROOM_CLOSED", waitingError["error"]!["code"]!.GetValue<string>());
        Assert.Equal(0, (await admin.GetAsync(bed.Room)).Body["admitted_total"]!.GetValue<long>());
    }

    [Fact]
    public async Task Revoke_GarbageExpiredOrOtherRoomToken_Answers400NamingTheField_ValidOne204AndIdempotent()
    {
        await using var bed = await StartAsync(s =>
        {
            s["WaitingRoom:Rooms:other:Capacity"] = "5";
        });
        using var admin = bed.Gateway.CreateAdminClient();
        var admission = await bed.Client.AdmitAsync(bed.Room, "alice");
        var otherAdmission = await bed.Client.AdmitAsync("other", "bob");

        foreach (var token in new[] { "garbage", "a.b", new string('x', 600), admission[..^2] + "AA" })
        {
            var (status, error, _) = await admin.RevokeAsync(bed.Room, token);
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.Equal("INVALID_ADMISSION_TOKEN", error["error"]!["code"]!.GetValue<string>());
            Assert.Equal("reservation_token", error["error"]!["field"]!.GetValue<string>());
        }
        var (missing, missingError, _) = await admin.RevokeAsync(bed.Room, null);
        Assert.Equal(HttpStatusCode.BadRequest, missing);
        Assert.Equal("reservation_token", missingError["error"]!["field"]!.GetValue<string>());
        var (foreign, foreignError, _) = await admin.RevokeAsync(bed.Room, otherAdmission);
        Assert.Equal(HttpStatusCode.BadRequest, foreign);
        Assert.Contains("'other'", foreignError["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        var (wrongType, _, _) = await admin.SendAsync(new HttpRequestMessage(HttpMethod.Post, $"/admin/v1/rooms/{bed.Room}/revoke")
        {
            Content = new StringContent(admission, Encoding.UTF8, "text/plain"),
        });
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, wrongType);

        Assert.Equal(HttpStatusCode.NoContent, (await admin.RevokeAsync(bed.Room, admission)).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.RevokeAsync(bed.Room, admission)).Status);
        using var gated = new HttpRequestMessage(HttpMethod.Get, $"/api/inventory/events/{bed.Room}/seats");
        gated.Headers.Add("X-Admission-Token", admission);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await bed.Client.Http.SendAsync(gated)).StatusCode);
        Assert.Equal(0, (await admin.GetAsync(bed.Room)).Body["active"]!.GetValue<long>());
    }

    /// <summary>An instant as the admin API takes it: ISO 8601 with its offset.</summary>
    private static string Instant(DateTimeOffset instant) => instant.ToString("yyyy-MM-ddTHH:mm:ss.fffzzz", System.Globalization.CultureInfo.InvariantCulture);

    private static IEnumerable<Func<Task<(HttpStatusCode, JsonObject, HttpResponseMessage)>>> Calls(AdminClient admin, string room) =>
    [
        admin.ListAsync,
        () => admin.GetAsync(room),
        () => admin.PatchAsync(room, """{"state": "paused"}"""),
        () => admin.ClearAsync(room),
        () => admin.RevokeAsync(room, "x"),
        .. OtherMethods(admin, room),
    ];

    /// <summary>Methods the admin paths do not take, and a path nothing serves under the prefix.</summary>
    private static IEnumerable<Func<Task<(HttpStatusCode, JsonObject, HttpResponseMessage)>>> OtherMethods(AdminClient admin, string room) =>
    [
        () => admin.SendAsync(new HttpRequestMessage(HttpMethod.Put, "/admin/v1/rooms/" + room)),
        () => admin.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/admin/v1/rooms")),
        () => admin.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/admin/v1/rooms/" + room + "/revoke")),
        () => admin.SendAsync(new HttpRequestMessage(new HttpMethod("BREW"), "/admin/v1/rooms/" + room + "/overrides")),
        () => admin.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/admin/v1/keys")),
    ];

    private static async Task<Dictionary<string, double>> FailuresAsync(GatewayTestBed bed)
    {
        using var http = bed.Gateway.CreateClient();
        var scrape = await Observability.PrometheusText.ScrapeAsync(http);
        return new[] { "wrong_key", "missing", "locked_out" }.ToDictionary(r => r, r => scrape.Sum("waitingroom_admin_auth_failures_total", "reason=" + r));
    }

    private static JsonObject Without(JsonObject body, string field)
    {
        var copy = body.DeepClone().AsObject();
        copy.Remove(field);
        return copy;
    }

    private static Dictionary<string, string?> PageTestConfigRoom() => Browser.PageTestConfig.Room();
}
