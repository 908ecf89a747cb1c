using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Proxy;

/// <summary>The ingress itself: routes from appsettings to the three clusters, live reload, headers to the backends.</summary>
public sealed class ProxyTests
{
    [Fact]
    public async Task EachCluster_IsReachableThroughTheGateway()
    {
        await using var bed = await GatewayTestBed.StartAsync(null, UngateAll);

        using var inventory = await bed.Client.Http.GetAsync("/api/inventory/events/concert/seats");
        using var reservations = await bed.Client.Http.GetAsync("/api/reservations");
        using var payments = await bed.Client.Http.GetAsync("/api/payments");

        Assert.Equal(HttpStatusCode.OK, inventory.StatusCode);
        Assert.Equal(HttpStatusCode.OK, reservations.StatusCode);
        Assert.Equal(HttpStatusCode.OK, payments.StatusCode);
        Assert.Equal(1, bed.Backends.Stats("inventory").Served);
        Assert.Equal(1, bed.Backends.Stats("reservation").Served);
        Assert.Equal(1, bed.Backends.Stats("payment").Served);
    }

    [Fact]
    public async Task Forwarding_TraceparentAndForwardedHeaders_ReachTheBackend()
    {
        await using var bed = await GatewayTestBed.StartAsync(null, UngateAll);

        // Sent over a raw socket: an HttpClient in this process would start its own trace, since the
        // gateway's tracing listens process-wide.
        var response = await RawHttp.GetAsync(bed.Gateway.BaseAddress, "/api/inventory/_backend/echo",
            ("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"));

        Assert.Contains(" 200 OK", response.Split("\r\n")[0], StringComparison.Ordinal);
        var headers = JsonNode.Parse(response[response.IndexOf("\r\n\r\n", StringComparison.Ordinal)..])!["headers"]!.AsObject();
        var traceparent = headers["traceparent"]!.ToString();
        Assert.StartsWith("00-0af7651916cd43dd8448eb211c80319c-", traceparent, StringComparison.Ordinal); // same trace
        Assert.DoesNotContain("b7ad6b7169203331", traceparent, StringComparison.Ordinal); // a new parent span: the gateway's
        Assert.Equal("127.0.0.1", headers["x-forwarded-for"]!.ToString());
        Assert.Equal("http", headers["x-forwarded-proto"]!.ToString());
        Assert.NotNull(headers["x-forwarded-host"]);
    }

    [Fact]
    public async Task ConfigFileEdit_AddsAndChangesRoutes_WithoutRestart()
    {
        await using var bed = await GatewayTestBed.StartAsync(null, UngateAll);
        using (var before = await bed.Client.Http.GetAsync("/shop/inventory"))
            Assert.Equal(HttpStatusCode.NotFound, before.StatusCode);

        bed.Settings["ReverseProxy:Routes:shop:ClusterId"] = "inventory";
        bed.Settings["ReverseProxy:Routes:shop:Match:Path"] = "/shop/{**rest}";
        bed.Settings["ReverseProxy:Routes:shop:Transforms:0:PathPattern"] = "/api/{**rest}";
        await bed.Gateway.RewriteConfigAsync(bed.Settings);

        await Eventually.TrueAsync(async () => (await bed.Client.Http.GetAsync("/shop/inventory")).StatusCode == HttpStatusCode.OK, because: "the new route serves");
    }

    [Fact]
    public async Task NonAsciiHeaderValue_IsForwardedAsSent_NotA502AgainstTheBackend()
    {
        await using var bed = await GatewayTestBed.StartAsync(null, UngateAll);
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false, RequestHeaderEncodingSelector = (_, _) => System.Text.Encoding.UTF8 })
        {
            BaseAddress = bed.Gateway.BaseAddress,
        };

        for (var i = 0; i < 20; i++) // more than a passive health check's failure threshold
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/inventory/_backend/echo");
            request.Headers.TryAddWithoutValidation("X-Name", "Jos\u00e9 \uc548\ub155");
            using var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var echo = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            Assert.Equal("Jos\u00e9 \uc548\ub155", echo["headers"]!["x-name"]!.GetValue<string>());
        }
        Assert.Equal(HttpStatusCode.OK, (await bed.Client.Http.GetAsync("/api/inventory")).StatusCode);
    }

    [Fact]
    public async Task BrokenConfigEdit_KeepsTheLastGoodConfig()
    {
        await using var bed = await GatewayTestBed.StartAsync(null, UngateAll);
        Assert.Equal(HttpStatusCode.OK, (await bed.Client.Http.GetAsync("/api/payments")).StatusCode);

        // a cluster without destinations, plus a new route that would only exist if the edit applied
        var broken = new Dictionary<string, string?>(bed.Settings.Where(kv => !kv.Key.StartsWith("ReverseProxy:Clusters:payment:Destinations", StringComparison.Ordinal)))
        {
            ["ReverseProxy:Clusters:payment:LoadBalancingPolicy"] = "PowerOfTwoChoices",
            ["ReverseProxy:Routes:marker:ClusterId"] = "inventory",
            ["ReverseProxy:Routes:marker:Match:Path"] = "/marker/{**rest}",
        };
        await bed.Gateway.RewriteConfigAsync(broken);
        await Task.Delay(TimeSpan.FromSeconds(2)); // the file watcher fires within ~1 s; give the reload time to be rejected

        Assert.Equal(HttpStatusCode.NotFound, (await bed.Client.Http.GetAsync("/marker/x")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await bed.Client.Http.GetAsync("/api/payments")).StatusCode);

        // and a good edit afterwards applies
        bed.Settings["ReverseProxy:Routes:marker:ClusterId"] = "inventory";
        bed.Settings["ReverseProxy:Routes:marker:Match:Path"] = "/marker/{**rest}";
        bed.Settings["ReverseProxy:Routes:marker:Transforms:0:PathPattern"] = "/api/inventory";
        await bed.Gateway.RewriteConfigAsync(bed.Settings);
        await Eventually.TrueAsync(async () => (await bed.Client.Http.GetAsync("/marker/x")).StatusCode == HttpStatusCode.OK);
    }

    [Fact]
    public async Task OperationsEndpoints_HealthzReadyzMetrics_Answer()
    {
        await using var bed = await GatewayTestBed.StartAsync(null, UngateAll);
        await bed.Client.Http.GetAsync("/api/inventory");

        Assert.Equal(HttpStatusCode.OK, (await bed.Client.Http.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await bed.Client.Http.GetAsync("/readyz")).StatusCode);
        var metrics = await bed.Client.Http.GetStringAsync("/metrics");
        Assert.Contains("http_requests_received_total", metrics, StringComparison.Ordinal);
        Assert.Matches("http_requests_received_total\\{code=\"200\",method=\"GET\",route=\"inventory\"\\}", metrics);
    }

    internal static void UngateAll(Dictionary<string, string?> settings)
    {
        foreach (var key in settings.Keys.Where(k => k.EndsWith(":Metadata:WaitingRoom", StringComparison.Ordinal)).ToList())
            settings.Remove(key);
    }
}
