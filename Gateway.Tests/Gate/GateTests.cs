using System.Net;
using System.Net.Http.Headers;
using Gateway.Admission.Gate;
using Gateway.Admission.Tokens;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Primitives;

namespace Gateway.Tests.Gate;

/// <summary>The gated-route contract end to end: real Kestrel gateway, real sample backends, both stores.</summary>
public sealed class GateTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>
{
    public static TheoryData<string> Stores => new() { "redis", "embedded" };

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Journey_JoinStatusEnter_GatedRequestReachesTheBackend(string store)
    {
        await using var bed = await GatewayTestBed.StartAsync(redis.For(store));

        var (joinStatus, joined, _) = await bed.Client.JoinAsync(bed.Room, "alice");
        Assert.Equal(HttpStatusCode.Accepted, joinStatus);
        var token = joined["waiting_token"]!.GetValue<string>();
        foreach (var field in new[] { "status", "position", "eta_sec", "confidence" })
            Assert.NotNull(joined[field]);

        var (statusCode, status, _) = await bed.Client.StatusAsync(token);
        Assert.Equal(HttpStatusCode.OK, statusCode);
        Assert.Equal("ready", status["status"]!.GetValue<string>());
        Assert.True(status["ready_for_entry"]!.GetValue<bool>());
        foreach (var field in new[] { "position", "eta_sec", "confidence", "message", "waiting_time" })
            Assert.NotNull(status[field]);

        var (enterCode, entered, enterResponse) = await bed.Client.EnterAsync(token);
        Assert.Equal(HttpStatusCode.OK, enterCode);
        Assert.Equal("granted", entered["admission"]!.GetValue<string>());
        var admission = entered["reservation_token"]!.GetValue<string>();
        Assert.True(entered["ttl_sec"]!.GetValue<long>() > 0);
        var cookie = Assert.Single(enterResponse.Headers.GetValues("Set-Cookie"));
        Assert.Contains(admission, cookie, StringComparison.Ordinal);
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=lax", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("secure", cookie, StringComparison.OrdinalIgnoreCase); // plain HTTP here

        // by header
        using var byHeader = new HttpRequestMessage(HttpMethod.Get, $"/api/inventory/events/{bed.Room}/seats");
        byHeader.Headers.Add("X-Admission-Token", admission);
        using var viaHeader = await bed.Client.Http.SendAsync(byHeader);
        Assert.Equal(HttpStatusCode.OK, viaHeader.StatusCode);
        Assert.Contains("sections", await viaHeader.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // by cookie
        using var byCookie = new HttpRequestMessage(HttpMethod.Post, "/api/reservations")
        {
            Content = new StringContent($$"""{"event_id":"{{bed.Room}}","seats":["A1"]}""", System.Text.Encoding.UTF8, "application/json"),
        };
        byCookie.Headers.Add("Cookie", cookie.Split(';')[0]);
        using var viaCookie = await bed.Client.Http.SendAsync(byCookie);
        Assert.Equal(HttpStatusCode.Created, viaCookie.StatusCode);

        // enter again: same admission, no extra capacity
        var (againCode, again, _) = await bed.Client.EnterAsync(token);
        Assert.Equal(HttpStatusCode.OK, againCode);
        Assert.Equal(admission, again["reservation_token"]!.GetValue<string>());
        Assert.Equal("admitted", (await bed.Client.StatusAsync(token)).Body["status"]!.GetValue<string>());
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task UnadmittedApiRequest_Gets429AdmissionRequired_WithRetryAfterAndJoinUrl(string store)
    {
        await using var bed = await GatewayTestBed.StartAsync(redis.For(store));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/payments");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));

        using var response = await bed.Client.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter);
        var body = System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal("ADMISSION_REQUIRED", body["code"]!.GetValue<string>());
        Assert.Equal("/api/v1/queue/join", body["join_url"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(body["trace_id"]!.GetValue<string>()));
        Assert.Equal(0, bed.Backends.Stats("payment").Requests);
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task UnadmittedHtmlRequest_IsRedirectedToTheWaitingRoom_WithTheOriginalPathAndQuery(string store)
    {
        await using var bed = await GatewayTestBed.StartAsync(redis.For(store));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/inventory/events/x/seats?section=floor&n=2");
        request.Headers.Accept.ParseAdd("text/html,application/xhtml+xml,*/*;q=0.8");

        using var response = await bed.Client.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
        Assert.Equal($"/waiting-room/{bed.Room}?return={Uri.EscapeDataString("/api/inventory/events/x/seats?section=floor&n=2")}", response.Headers.Location!.OriginalString);
        Assert.Equal(0, bed.Backends.Stats("inventory").Requests);
    }

    [Fact]
    public async Task BadTokens_TamperedExpiredOtherRoomUnsignedGarbage_AllCountAsNone()
    {
        await using var bed = await GatewayTestBed.StartAsync(null, s =>
        {
            s["WaitingRoom:Rooms:other:Capacity"] = "10";
            s["WaitingRoom:Rooms:other:RefillPerSecond"] = "1";
        });
        var tokens = bed.Gateway.Services.GetRequiredService<AdmissionTokens>();
        var valid = await bed.Client.AdmitAsync(bed.Room);
        var payload = valid.Split('.')[0];
        var mac = valid.Split('.')[1];
        var flipped = (mac[0] == 'A' ? "B" : "A") + mac[1..];
        var forged = System.Buffers.Text.Base64Url.EncodeToString(System.Text.Encoding.ASCII.GetBytes($"1|{bed.Room}|someone|{DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds()}|test"));
        var bad = new Dictionary<string, string>
        {
            ["tampered mac"] = payload + "." + flipped,
            ["tampered payload"] = System.Buffers.Text.Base64Url.EncodeToString(System.Text.Encoding.ASCII.GetBytes($"1|{bed.Room}|x|{DateTimeOffset.UtcNow.AddDays(9).ToUnixTimeSeconds()}|test")) + "." + mac,
            ["expired"] = tokens.Issue(bed.Room, "subject", DateTimeOffset.UtcNow.AddSeconds(-5)),
            ["other room"] = tokens.Issue("other", "subject", DateTimeOffset.UtcNow.AddMinutes(5)),
            ["unsigned"] = forged,
            ["unsigned with dot"] = forged + ".",
            ["garbage"] = "not-a-token",
            ["empty mac"] = payload + ".",
            ["huge"] = new string('a', 5000),
        };

        using (var ok = new HttpRequestMessage(HttpMethod.Get, "/api/inventory"))
        {
            ok.Headers.Add("X-Admission-Token", valid);
            Assert.Equal(HttpStatusCode.OK, (await bed.Client.Http.SendAsync(ok)).StatusCode);
        }
        foreach (var (name, token) in bad)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/inventory");
            request.Headers.Add("X-Admission-Token", token);
            using var response = await bed.Client.Http.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.TooManyRequests, $"{name}: {response.StatusCode}");
        }
        Assert.Equal(1, bed.Backends.Stats("inventory").Requests);
    }

    [Fact]
    public async Task AdmissionCookie_SpelledInAnyCase_OpensTheGate_ButNeverReachesTheBackend()
    {
        await using var bed = await GatewayTestBed.StartAsync(null);
        var admission = await bed.Client.AdmitAsync(bed.Room);
        var (identity, _) = bed.Gateway.Services.GetRequiredService<CallerIdentity>().Mint();

        foreach (var name in new[] { "wr_adm_" + bed.Room, "WR_ADM_" + bed.Room.ToUpperInvariant(), "Wr_Adm_" + bed.Room })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/inventory/_backend/echo");
            request.Headers.Add("Cookie", $"theme=dark; {name}={admission}; WR_ID={identity}");
            using var response = await bed.Client.Http.SendAsync(request);

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var echoed = await response.Content.ReadAsStringAsync();
            Assert.DoesNotContain(admission, echoed, StringComparison.Ordinal);
            Assert.DoesNotContain(identity, echoed, StringComparison.Ordinal);
            Assert.Contains("theme=dark", echoed, StringComparison.Ordinal);
        }
    }

    /// <summary>The admission cookie beside a stale or planted one of the same name (another domain or path): either order, any case.</summary>
    [Theory]
    [InlineData("{name}={admission}; {name}=junk")]
    [InlineData("{name}=junk; {name}={admission}")]
    [InlineData("{name}={admission}; {NAME}=junk")]
    [InlineData("{name}=junk|{name}={admission}")]
    public async Task AdmissionCookie_SentTwice_OpensTheGateWhicheverCopyIsTheAdmission(string cookies)
    {
        await using var bed = await GatewayTestBed.StartAsync(null);
        var admission = await bed.Client.AdmitAsync(bed.Room);
        var name = "wr_adm_" + bed.Room;

        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/inventory/_backend/echo");
        foreach (var header in cookies.Replace("{name}", name).Replace("{NAME}", name.ToUpperInvariant()).Replace("{admission}", admission).Split('|'))
            request.Headers.Add("Cookie", header);
        using var response = await bed.Client.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain(admission, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    /// <summary>CONNECT cannot be forwarded: an admitted caller gets 405 in the error shape (not an empty 502), others the gate's answer.</summary>
    [Fact]
    public async Task Connect_ToAProxiedRoute_Is405InTheErrorShape_AfterTheGate()
    {
        await using var bed = await GatewayTestBed.StartAsync(null);
        var admission = await bed.Client.AdmitAsync(bed.Room);

        async Task<RawResponse> ConnectAsync(string? token)
        {
            var request = "CONNECT /api/inventory/_backend/echo HTTP/1.1\r\nHost: x\r\n" + (token is null ? "" : $"X-Admission-Token: {token}\r\n") + "Connection: close\r\n\r\n";
            return (await RawHttp.SendAsync(bed.Gateway.BaseAddress, System.Text.Encoding.ASCII.GetBytes(request), headRequest: false, TimeSpan.FromSeconds(30)))!;
        }

        var admitted = await ConnectAsync(admission);
        Assert.Equal(405, admitted.Status);
        Assert.Equal("METHOD_NOT_ALLOWED", System.Text.Json.Nodes.JsonNode.Parse(admitted.Text)!["error"]!["code"]!.GetValue<string>());
        Assert.Contains("GET", admitted.Headers["Allow"], StringComparison.Ordinal);
        Assert.Equal(429, (await ConnectAsync(null)).Status);
        Assert.Equal(0, bed.Backends.Stats("inventory").Requests);
    }

    [Fact]
    public void SameNameCookies_AreReadFromEveryCookieHeader_AndOthersAreSkipped()
    {
        var values = WaitingRoomGate.SameNameCookies(new StringValues(["a=1; wr_adm_r=x; b=2", "WR_ADM_R=\"y\"; wr_adm_rr=z", "noequals; =v"]), "wr_adm_r");

        Assert.Equal(["x", "y"], values);
    }

    [Fact]
    public async Task KeyRotation_TokensFromTheOldKeyStillVerify_WhileTheNewKeySigns()
    {
        var oldKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        await using var bed = await GatewayTestBed.StartAsync(null, s =>
        {
            s["WaitingRoom:SigningKeys:0:Id"] = "old";
            s["WaitingRoom:SigningKeys:0:Secret"] = oldKey;
        });
        var oldToken = await bed.Client.AdmitAsync(bed.Room);

        // rotate: a new key signs, the old one still verifies
        bed.Settings["WaitingRoom:SigningKeys:0:Id"] = "new";
        bed.Settings["WaitingRoom:SigningKeys:0:Secret"] = TestConfig.TestSecret;
        bed.Settings["WaitingRoom:SigningKeys:1:Id"] = "old";
        bed.Settings["WaitingRoom:SigningKeys:1:Secret"] = oldKey;
        await bed.Gateway.RewriteConfigAsync(bed.Settings);
        var tokens = bed.Gateway.Services.GetRequiredService<AdmissionTokens>();
        await Eventually.TrueAsync(() => Task.FromResult(DecodePayload(tokens.Issue(bed.Room, "s", DateTimeOffset.UtcNow.AddMinutes(1))).EndsWith("|new", StringComparison.Ordinal)));

        Assert.NotNull(tokens.Verify(oldToken, bed.Room));
        Assert.EndsWith("|new", DecodePayload(tokens.Issue(bed.Room, "s", DateTimeOffset.UtcNow.AddMinutes(1))), StringComparison.Ordinal);

        // retire the old key: its tokens stop working
        bed.Settings.Remove("WaitingRoom:SigningKeys:1:Id");
        bed.Settings.Remove("WaitingRoom:SigningKeys:1:Secret");
        await bed.Gateway.RewriteConfigAsync(bed.Settings);
        await Eventually.TrueAsync(() => Task.FromResult(tokens.Verify(oldToken, bed.Room) is null));
    }

    private static string DecodePayload(string token) =>
        System.Text.Encoding.ASCII.GetString(System.Buffers.Text.Base64Url.DecodeFromChars(token.Split('.')[0]));
}
