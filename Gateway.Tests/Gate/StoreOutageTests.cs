using System.Diagnostics;
using System.Net;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Gate;

/// <summary>Honest failure: Redis killed mid-test and restarted, with a real gateway in front.</summary>
public sealed class StoreOutageTests
{
    [Fact]
    public async Task RedisDown_JoinEnter503_StatusGraceful_AdmittedKeepGoing_ThenEverythingRecovers()
    {
        await using var redis = await RedisServer.StartNewAsync();
        await using var bed = await GatewayTestBed.StartAsync(redis.ConnectionString, capacity: 1, refill: 0.01);
        var admission = await bed.Client.AdmitAsync(bed.Room, "first");
        var (_, waiting, _) = await bed.Client.JoinAsync(bed.Room, "second");
        var waitingToken = waiting["waiting_token"]!.GetValue<string>();
        using var readyBefore = await bed.Client.Http.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, readyBefore.StatusCode);

        await redis.StopAsync();

        var clock = Stopwatch.StartNew();
        var (joinCode, joinBody, joinResponse) = await bed.Client.JoinAsync(bed.Room, "third");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, joinCode);
        Assert.Equal("STORE_UNAVAILABLE", joinBody["error"]!["code"]!.GetValue<string>());
        Assert.NotNull(joinResponse.Headers.RetryAfter);

        var (enterCode, enterBody, enterResponse) = await bed.Client.EnterAsync(waitingToken);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, enterCode); // never a misleading NOT_READY
        Assert.Equal("STORE_UNAVAILABLE", enterBody["error"]!["code"]!.GetValue<string>());
        Assert.NotNull(enterResponse.Headers.RetryAfter);

        var (statusCode, status, statusResponse) = await bed.Client.StatusAsync(waitingToken);
        Assert.Equal(HttpStatusCode.OK, statusCode);
        Assert.Equal("waiting", status["status"]!.GetValue<string>());
        Assert.Null(status["position"]);
        Assert.True(status["degraded"]!.GetValue<bool>());
        Assert.NotNull(statusResponse.Headers.RetryAfter);
        // bounded: three calls against a dead store took well under the operation timeout each
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"outage answers took {clock.Elapsed}");

        using var ready = await bed.Client.Http.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);

        using var gated = new HttpRequestMessage(HttpMethod.Get, "/api/inventory");
        gated.Headers.Add("X-Admission-Token", admission);
        using var gatedResponse = await bed.Client.Http.SendAsync(gated);
        Assert.Equal(HttpStatusCode.OK, gatedResponse.StatusCode); // admitted users keep reaching the backend

        await redis.StartAsync();

        await Eventually.TrueAsync(async () => (await bed.Client.Http.GetAsync("/readyz")).StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(30), "readyz recovers");
        await Eventually.TrueAsync(async () => (await bed.Client.JoinAsync(bed.Room, "third")).Status == HttpStatusCode.Accepted, TimeSpan.FromSeconds(30), "joins recover");
    }

    [Fact]
    public async Task AJoinAnswered503InAStall_ThatTheStoreRunsLate_IsFoundByTheRetry_NotDoubled()
    {
        await using var redis = await RedisServer.StartNewAsync();
        await using var bed = await GatewayTestBed.StartAsync(redis.ConnectionString, capacity: 1, refill: 0.01);
        Assert.Equal(HttpStatusCode.Accepted, (await bed.Client.JoinAsync(bed.Room)).Status);
        using var browser = new HttpClient(new HttpClientHandler { CookieContainer = new System.Net.CookieContainer(), UseCookies = true }) { BaseAddress = bed.Gateway.BaseAddress };
        var client = new QueueClient(browser);

        // The store stalls: the join is sent, times out (503), and waits in the socket.
        await redis.SignalAsync("STOP");
        HttpStatusCode during;
        try
        {
            (during, _, var response) = await client.JoinAsync(bed.Room);
            Assert.Contains(response.Headers.GetValues("Set-Cookie"), c => c.StartsWith("wr_id=", StringComparison.Ordinal));
        }
        finally
        {
            await redis.SignalAsync("CONT");
        }
        Assert.Equal(HttpStatusCode.ServiceUnavailable, during);
        await Eventually.TrueAsync(async () => (await bed.Client.Http.GetAsync("/readyz")).StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(30), "readyz recovers");

        // The retry, with the identity the 503 gave, finds the place the store made late: one place, not two.
        var (status, body, _) = await client.JoinAsync(bed.Room);
        Assert.Equal(HttpStatusCode.Accepted, status);
        Assert.Equal(1, body["position"]!.GetValue<long>());
        using var store = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        Assert.Equal(2, await store.GetDatabase().HashLengthAsync(Gateway.Admission.Rooms.RoomKeys.For(bed.Room)[Gateway.Admission.Queue.RoomKey.Places]));
    }

    [Fact]
    public async Task ARevocationTheStoreCouldNotTake_ReachesItOnceItIsBack()
    {
        await using var redis = await RedisServer.StartNewAsync(persistent: true);
        await using var bed = await GatewayTestBed.StartAsync(redis.ConnectionString, s => TestConfig.WithAdmin(s), capacity: 5, refill: 1);
        using var admin = bed.Gateway.CreateAdminClient();
        var admission = await bed.Client.AdmitAsync(bed.Room, "leaving");
        Assert.Equal(1, (await admin.GetAsync(bed.Room)).Body["active"]!.GetValue<int>());

        await redis.StopAsync();
        var (during, _, _) = await admin.RevokeAsync(bed.Room, admission);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, during);
        using (var gated = new HttpRequestMessage(HttpMethod.Get, "/api/inventory"))
        {
            gated.Headers.Add("X-Admission-Token", admission);
            Assert.Equal(HttpStatusCode.TooManyRequests, (await bed.Client.Http.SendAsync(gated)).StatusCode); // this instance refuses it at once
        }

        // Back (with its data): the revocation reaches the store without anyone repeating it, so every instance learns
        // it and the slot it held is free.
        await redis.StartAsync();
        await Eventually.TrueAsync(async () =>
        {
            var (status, room, _) = await admin.GetAsync(bed.Room);
            return status == HttpStatusCode.OK && room["active"]!.GetValue<int>() == 0;
        }, TimeSpan.FromSeconds(30), "the store frees the slot");
    }

    [Fact]
    public async Task Readyz_FailsWhileTheStoreIsDown_AndRecoversWhenItReturns()
    {
        await using var redis = await RedisServer.StartNewAsync();
        await using var bed = await GatewayTestBed.StartAsync(redis.ConnectionString);
        Assert.Equal(HttpStatusCode.OK, (await bed.Client.Http.GetAsync("/readyz")).StatusCode);

        await redis.StopAsync();
        await Eventually.TrueAsync(async () => (await bed.Client.Http.GetAsync("/readyz")).StatusCode == HttpStatusCode.ServiceUnavailable);
        Assert.Equal(HttpStatusCode.OK, (await bed.Client.Http.GetAsync("/healthz")).StatusCode); // alive all along

        await redis.StartAsync();
        await Eventually.TrueAsync(async () => (await bed.Client.Http.GetAsync("/readyz")).StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task RedisDownLongerThanAbandonAfter_EveryPlaceSurvives_InOrder()
    {
        // Redis with an fsync'd append-only file: killed and restarted, it comes back with its data, as a
        // production Redis does (persistence or a replica). AbandonAfter is 3 s; the store is gone for 8 s.
        await using var redis = await RedisServer.StartNewAsync(persistent: true);
        await using var bed = await GatewayTestBed.StartAsync(redis.ConnectionString, s => s[s.Keys.First(k => k.EndsWith(":Capacity", StringComparison.Ordinal))[..^":Capacity".Length] + ":AbandonAfter"] = "00:00:03", capacity: 1, refill: 0.001);
        await bed.Client.JoinAsync(bed.Room, "head");
        var tokens = new List<string>();
        for (var i = 0; i < 5; i++)
            tokens.Add((await bed.Client.JoinAsync(bed.Room, $"u{i}")).Body["waiting_token"]!.GetValue<string>());
        await Task.Delay(1000); // a tick or two records that the store is alive

        await redis.StopAsync();
        await Task.Delay(TimeSpan.FromSeconds(8));
        await redis.StartAsync();
        await Eventually.TrueAsync(async () => (await bed.Client.Http.GetAsync("/readyz")).StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(30), "the store is back");

        var positions = new List<long>();
        foreach (var token in tokens)
        {
            var (status, body, _) = await bed.Client.StatusAsync(token);
            Assert.Equal(HttpStatusCode.OK, status);
            positions.Add(body["position"]!.GetValue<long>());
        }
        Assert.Equal([1L, 2L, 3L, 4L, 5L], positions);
    }
}
