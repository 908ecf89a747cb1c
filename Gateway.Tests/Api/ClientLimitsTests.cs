using System.Net;
using System.Text;
using Gateway.Admission.Clients;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Api;

/// <summary>
/// One client may not hold many places or outrun the join limit by spreading over instances, and the client
/// is who the connection (or a named, trusted proxy) says: an IPv6 subscriber by its /64.
/// </summary>
public sealed class ClientLimitsTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>
{
    [Fact]
    public async Task PlacesPerClient_AreCapped_WithTooManyPlaces_AndFreedWhenOneLeaves()
    {
        await using var bed = await GatewayTestBed.StartAsync(redis.Server.ConnectionString, s => s["WaitingRoom:MaxPlacesPerClient"] = "2", capacity: 1, refill: 0.001);
        var first = await bed.Client.JoinAsync(bed.Room, "a");
        await bed.Client.JoinAsync(bed.Room, "b");

        var (status, body, response) = await bed.Client.JoinAsync(bed.Room, "c");
        Assert.Equal(HttpStatusCode.TooManyRequests, status);
        Assert.Equal("TOO_MANY_PLACES", body["error"]!["code"]!.GetValue<string>());
        Assert.NotNull(response.Headers.RetryAfter);

        await bed.Client.LeaveAsync(first.Body["waiting_token"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Accepted, (await bed.Client.JoinAsync(bed.Room, "c")).Status);
    }

    [Fact]
    public async Task JoinLimit_IsSharedByEveryInstance()
    {
        await using var bed = await GatewayTestBed.StartAsync(redis.Server.ConnectionString, s => s["WaitingRoom:JoinsPerClientPerMinute"] = "3");
        await using var second = await GatewayHost.StartAsync(redis.Server.ConnectionString, bed.Settings);
        var other = new QueueClient(second.CreateClient());

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
            statuses.Add((await (i % 2 == 0 ? bed.Client : other).JoinAsync(bed.Room, $"u{i}")).Status);

        // Each instance alone would allow 3; together they allow 3.
        Assert.Equal([HttpStatusCode.Accepted, HttpStatusCode.Accepted, HttpStatusCode.Accepted, HttpStatusCode.TooManyRequests], statuses);
    }

    [Fact]
    public async Task StatusAndEnter_HaveAPerClientLimit()
    {
        await using var bed = await GatewayTestBed.StartAsync(null, s => s["WaitingRoom:PollsPerClientPerMinute"] = "5");
        var token = (await bed.Client.JoinAsync(bed.Room, "u")).Body["waiting_token"]!.GetValue<string>();

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 7; i++)
            statuses.Add((await bed.Client.StatusAsync(token)).Status);

        Assert.Equal(5, statuses.Count(s => s == HttpStatusCode.OK));
        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[^1]);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await bed.Client.EnterAsync(token)).Status);
    }

    [Theory]
    [InlineData("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:3::1", "2001:db8:1:3::/64")]
    [InlineData("::ffff:203.0.113.9", "203.0.113.9")]
    [InlineData("203.0.113.9", "203.0.113.9")]
    public void ClientAddress_IPv6IsItsSlash64_IPv4ItsAddress(string address, string client) =>
        Assert.Equal(client, ClientAddress.Of(IPAddress.Parse(address)));

    [Fact]
    public async Task TrustedNetwork_ItsForwardedForAndProtoAreUsed_ForTheClientAndTheSecureCookie()
    {
        await using var bed = await GatewayTestBed.StartAsync(null, s =>
        {
            s["ForwardedHeaders:KnownNetworks:0"] = "127.0.0.0/8";
            s["WaitingRoom:MaxPlacesPerClient"] = "1";
        });

        var (first, firstCookie) = await JoinVia(bed, "203.0.113.1", "https");
        var (second, _) = await JoinVia(bed, "203.0.113.2", "http");
        var (third, _) = await JoinVia(bed, "203.0.113.1", "http");

        Assert.Equal(HttpStatusCode.Accepted, first);
        Assert.Equal(HttpStatusCode.Accepted, second); // another client behind the same proxy
        Assert.Equal(HttpStatusCode.TooManyRequests, third); // the first client again: its one place is taken
        Assert.Contains("secure", firstCookie, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task UntrustedConnection_ItsForwardedHeadersAreIgnored()
    {
        await using var bed = await GatewayTestBed.StartAsync(null, s => s["WaitingRoom:MaxPlacesPerClient"] = "1");

        var (first, cookie) = await JoinVia(bed, "203.0.113.1", "https");
        var (second, _) = await JoinVia(bed, "203.0.113.2", "https");

        Assert.Equal(HttpStatusCode.Accepted, first);
        Assert.Equal(HttpStatusCode.TooManyRequests, second); // both are 127.0.0.1, whatever they claim
        Assert.DoesNotContain("secure", cookie, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task CookieSecureAlways_MarksTheCookiesSecure_EvenOverPlainHttp()
    {
        await using var bed = await GatewayTestBed.StartAsync(null, s => s["WaitingRoom:Cookie:Secure"] = "Always");

        var (_, cookie) = await JoinVia(bed, null, null);

        Assert.Contains("secure", cookie, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("ForwardedHeaders:KnownProxies:0", "10.0.0.0/8", "ForwardedHeaders:KnownProxies:0 is '10.0.0.0/8', a network")]
    [InlineData("ForwardedHeaders:KnownProxies:0", "proxy.internal", "ForwardedHeaders:KnownProxies:0 is 'proxy.internal', not an IP address")]
    [InlineData("ForwardedHeaders:KnownNetworks:0", "10.0.0.0/99", "ForwardedHeaders:KnownNetworks:0 is '10.0.0.0/99', not a network in CIDR notation")]
    public async Task BadTrustedProxyEntry_FailsStartup_NamingTheKey(string key, string value, string message)
    {
        await using var backends = await Gateway.SampleBackends.SampleBackendsApp.StartAsync(new Gateway.SampleBackends.SampleBackendsOptions { ReservationPort = 0, InventoryPort = 0, PaymentPort = 0 });
        var settings = TestConfig.Gateway(backends);
        settings[key] = value;

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => GatewayHost.StartAsync(null, settings));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    private static async Task<(HttpStatusCode Status, string Cookie)> JoinVia(GatewayTestBed bed, string? forwardedFor, string? proto)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/queue/join")
        {
            Content = new StringContent($$"""{"event_id":"{{bed.Room}}"}""", Encoding.UTF8, "application/json"),
        };
        if (forwardedFor is not null)
            request.Headers.Add("X-Forwarded-For", forwardedFor);
        if (proto is not null)
            request.Headers.Add("X-Forwarded-Proto", proto);
        using var response = await bed.Client.Http.SendAsync(request);
        var cookie = response.Headers.TryGetValues("Set-Cookie", out var values) ? values.FirstOrDefault(v => v.StartsWith("wr_id=", StringComparison.Ordinal)) ?? "" : "";
        return (response.StatusCode, cookie);
    }
}
