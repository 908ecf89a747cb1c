using System.Net;
using System.Text;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Gate;

/// <summary>The queue API's contract on the wire: shapes, errors, idempotency, leave by beacon, the join limit.</summary>
public sealed class QueueApiTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>
{
    [Theory]
    [InlineData("not json", "INVALID_REQUEST")]
    [InlineData("{\"user_id\": \"a\"}", "INVALID_EVENT_ID")]
    [InlineData("{\"event_id\": \"bad id!\"}", "INVALID_EVENT_ID")]
    [InlineData("{\"event_id\": 42}", "INVALID_REQUEST")]
    [InlineData("", "INVALID_REQUEST")]
    public async Task Join_MalformedBody_Is400WithTheErrorShape(string body, string code)
    {
        await using var bed = await GatewayTestBed.StartAsync(null);
        using var response = await bed.Client.Http.PostAsync("/api/v1/queue/join", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal(code, error["code"]!.GetValue<string>());
        Assert.False(string.IsNullOrWhiteSpace(error["message"]!.GetValue<string>()));
        Assert.False(string.IsNullOrWhiteSpace(error["trace_id"]!.GetValue<string>()));
    }

    [Theory]
    [InlineData("/api/v1/queue/join", "application/json", "5\r\nabc\r\n0\r\n\r\n")]
    [InlineData("/api/v1/queue/enter", "application/json", "ffffffffffffffff\r\nabc")]
    [InlineData("/api/v1/queue/leave", "text/plain", "zz\r\nabc\r\n0\r\n\r\n")]
    public async Task MalformedChunkedBody_Is400InvalidRequest_NeverA500(string path, string contentType, string chunks)
    {
        await using var bed = await GatewayTestBed.StartAsync(null);
        var request = $"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {contentType}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{chunks}";

        var response = await RawHttp.SendAsync(bed.Gateway.BaseAddress, Encoding.ASCII.GetBytes(request), headRequest: false, TimeSpan.FromSeconds(30));

        Assert.NotNull(response);
        Assert.Equal(400, response.Status);
        Assert.Equal("INVALID_REQUEST", System.Text.Json.Nodes.JsonNode.Parse(response.Text)!["error"]!["code"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("GET", "/api/v1/queue/join", 405, "METHOD_NOT_ALLOWED")]
    [InlineData("PROPFIND", "/api/v1/queue/status", 405, "METHOD_NOT_ALLOWED")]
    [InlineData("POST", "/api/v1/queue/nope", 404, "NOT_FOUND")]
    [InlineData("GET", "/nothing-here", 404, "NOT_FOUND")]
    [InlineData("POST", "/metrics", 405, "METHOD_NOT_ALLOWED")]
    [InlineData("DELETE", "/waiting-room/{room}", 405, "METHOD_NOT_ALLOWED")]
    public async Task UnknownPathOrMethod_IsRefusedInTheErrorShape(string method, string path, int status, string code)
    {
        await using var bed = await GatewayTestBed.StartAsync(null);
        using var response = await bed.Client.Http.SendAsync(new HttpRequestMessage(new HttpMethod(method), path.Replace("{room}", bed.Room, StringComparison.Ordinal)));

        Assert.Equal(status, (int)response.StatusCode);
        var error = System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal(code, error["code"]!.GetValue<string>());
        Assert.False(string.IsNullOrWhiteSpace(error["trace_id"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Join_UnknownEvent_Is404_AndBadUserIdOrIdempotencyKey_Is400()
    {
        await using var bed = await GatewayTestBed.StartAsync(null);

        Assert.Equal(HttpStatusCode.NotFound, (await bed.Client.JoinAsync("no-such-event")).Status);
        Assert.Equal("INVALID_USER_ID", (await bed.Client.JoinAsync(bed.Room, "pipe|char")).Body["error"]!["code"]!.GetValue<string>());
        Assert.Equal("INVALID_IDEMPOTENCY_KEY", (await bed.Client.JoinAsync(bed.Room, null, new string('k', 200))).Body["error"]!["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task Status_UnknownOrMalformedToken_Is404TokenNotFound()
    {
        await using var bed = await GatewayTestBed.StartAsync(null);
        var (_, joined, _) = await bed.Client.JoinAsync(bed.Room);
        var real = joined["waiting_token"]!.GetValue<string>();
        var forged = real[..^4] + "AAAA";

        foreach (var token in new[] { forged, "garbage", "", "no-such-room.AAAAAAAAAAAAAAAAAAAAAA" })
        {
            var (code, body, _) = await bed.Client.StatusAsync(token);
            Assert.Equal(HttpStatusCode.NotFound, code);
            Assert.Equal("TOKEN_NOT_FOUND", body["error"]!["code"]!.GetValue<string>());
        }
        Assert.Equal(HttpStatusCode.NotFound, (await bed.Client.EnterAsync(forged)).Status);
    }

    [Theory]
    [InlineData("redis")]
    [InlineData("embedded")]
    public async Task IdempotencyKey_RepeatedJoinFromTheSameCaller_ReturnsTheSamePlace_AnotherCallerNeverGetsIt(string store)
    {
        await using var bed = await GatewayTestBed.StartAsync(redis.For(store), capacity: 1, refill: 0.001);
        await bed.Client.JoinAsync(bed.Room, "head");

        var first = await bed.Client.JoinAsync(bed.Room, "buyer", "order-123");
        var again = await bed.Client.JoinAsync(bed.Room, "buyer", "order-123"); // the same browser (its identity cookie)
        var stranger = await bed.Client.JoinAsync(bed.Room, null, "order-123"); // another caller replaying the key

        Assert.Equal(HttpStatusCode.Accepted, again.Status);
        Assert.Equal(first.Body["waiting_token"]!.ToString(), again.Body["waiting_token"]!.ToString());
        Assert.Equal(first.Body["position"]!.ToString(), again.Body["position"]!.ToString());
        Assert.Equal(HttpStatusCode.Accepted, stranger.Status);
        Assert.NotEqual(first.Body["waiting_token"]!.ToString(), stranger.Body["waiting_token"]!.ToString());
        Assert.Equal(2, stranger.Body["position"]!.GetValue<long>());
    }

    [Theory]
    [InlineData("redis")]
    [InlineData("embedded")]
    public async Task Join_KnownUserIdFromAnotherCaller_Is409AlreadyQueued_WithNoToken(string store)
    {
        await using var bed = await GatewayTestBed.StartAsync(redis.For(store), capacity: 1, refill: 0.001);
        await bed.Client.JoinAsync(bed.Room, "head");
        var (_, victim, _) = await bed.Client.JoinAsync(bed.Room, "victim@example.com");

        // An attacker who knows the e-mail address, from another client (no identity cookie of the victim's).
        using var attack = await bed.Client.Http.PostAsync("/api/v1/queue/join",
            new StringContent($$"""{"event_id":"{{bed.Room}}","user_id":"victim@example.com"}""", Encoding.UTF8, "application/json"));
        var body = await attack.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.Conflict, attack.StatusCode);
        Assert.Contains("\"ALREADY_QUEUED\"", body, StringComparison.Ordinal);
        Assert.DoesNotContain(victim["waiting_token"]!.GetValue<string>(), body, StringComparison.Ordinal);
        Assert.DoesNotContain("waiting_token", body, StringComparison.Ordinal);
        Assert.Equal(1, (await bed.Client.StatusAsync(victim["waiting_token"]!.GetValue<string>())).Body["position"]!.GetValue<long>());
    }

    [Theory]
    [InlineData("redis")]
    [InlineData("embedded")]
    public async Task Leave_BySendBeaconPost_AndByDelete_FreesThePlace_Idempotently(string store)
    {
        await using var bed = await GatewayTestBed.StartAsync(redis.For(store), capacity: 1, refill: 0.001);
        await bed.Client.JoinAsync(bed.Room, "head");
        var a = (await bed.Client.JoinAsync(bed.Room, "a")).Body["waiting_token"]!.GetValue<string>();
        var b = (await bed.Client.JoinAsync(bed.Room, "b")).Body["waiting_token"]!.GetValue<string>();
        var c = (await bed.Client.JoinAsync(bed.Room, "c")).Body["waiting_token"]!.GetValue<string>();

        // navigator.sendBeacon(url, token) posts the token as text/plain
        using var beacon = await bed.Client.Http.PostAsync("/api/v1/queue/leave", new StringContent(a, Encoding.UTF8, "text/plain"));
        Assert.Equal(HttpStatusCode.NoContent, beacon.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await bed.Client.StatusAsync(a)).Status);
        Assert.Equal(1, (await bed.Client.StatusAsync(b)).Body["position"]!.GetValue<long>());

        Assert.Equal(HttpStatusCode.NoContent, await bed.Client.LeaveAsync(b));
        Assert.Equal(HttpStatusCode.NoContent, await bed.Client.LeaveAsync(b)); // idempotent
        Assert.Equal(1, (await bed.Client.StatusAsync(c)).Body["position"]!.GetValue<long>());
    }

    [Fact]
    public async Task JoinLimit_PerClientAddress_Is429_AndSpoofedForwardedForDoesNotEscapeIt()
    {
        await using var bed = await GatewayTestBed.StartAsync(null, s => s["WaitingRoom:JoinsPerClientPerMinute"] = "3");
        for (var i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.Accepted, (await bed.Client.JoinAsync(bed.Room)).Status);

        using var spoofed = new HttpRequestMessage(HttpMethod.Post, "/api/v1/queue/join")
        {
            Content = new StringContent($$"""{"event_id":"{{bed.Room}}"}""", Encoding.UTF8, "application/json"),
        };
        spoofed.Headers.Add("X-Forwarded-For", "203.0.113.7");
        using var response = await bed.Client.Http.SendAsync(spoofed);

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.Contains("RATE_LIMITED", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task QueueFull_Join_Is503WithRetryAfter()
    {
        await using var bed = await GatewayTestBed.StartAsync(null, s => s[s.Keys.First(k => k.EndsWith(":Capacity", StringComparison.Ordinal))[..^":Capacity".Length] + ":MaxQueueLength"] = "1", capacity: 1, refill: 0.001);
        await bed.Client.JoinAsync(bed.Room, "head");
        await bed.Client.JoinAsync(bed.Room, "one");

        var (code, body, response) = await bed.Client.JoinAsync(bed.Room, "two");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, code);
        Assert.Equal("QUEUE_FULL", body["error"]!["code"]!.GetValue<string>());
        Assert.NotNull(response.Headers.RetryAfter);
    }

    [Fact]
    public async Task NotReady_Enter_Is403_WithPosition()
    {
        await using var bed = await GatewayTestBed.StartAsync(null, capacity: 1, refill: 0.001);
        await bed.Client.JoinAsync(bed.Room, "head");
        var token = (await bed.Client.JoinAsync(bed.Room, "second")).Body["waiting_token"]!.GetValue<string>();

        var (code, body, _) = await bed.Client.EnterAsync(token);

        Assert.Equal(HttpStatusCode.Forbidden, code);
        Assert.Equal("NOT_READY", body["error"]!["code"]!.GetValue<string>());
        Assert.Equal(1, body["error"]!["position"]!.GetValue<long>());
    }
}
