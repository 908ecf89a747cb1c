using System.Net;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Observability;

/// <summary>
/// After real traffic through a real gateway, a real scrape of <c>/metrics</c> has every metric of
/// docs/OBSERVABILITY.md with the right type and labels. Rooms and clusters are unique per test, because the
/// Prometheus registry is shared by every gateway in the test process.
/// </summary>
public sealed class MetricsTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>
{
    [Fact]
    public async Task StatusOfAPlaceThatIsGone_IsCountedAsADenial_NotFound()
    {
        await using var bed = await GatewayTestBed.StartAsync(null);
        var waiting = (await bed.Client.JoinAsync(bed.Room, "u")).Body["waiting_token"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.NoContent, await bed.Client.LeaveAsync(waiting));

        for (var i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.NotFound, (await bed.Client.StatusAsync(waiting)).Status);

        var scrape = await PrometheusText.ScrapeAsync(bed.Client.Http);
        Assert.Equal(3, scrape.Sum("waitingroom_denials_total", $"room={bed.Room}", "reason=not_found"));
    }

    [Fact]
    public async Task Scrape_AfterTrafficThroughQueueGateAndProxy_HasEveryMetricWithItsLabels()
    {
        var dead = "dead" + Guid.NewGuid().ToString("N")[..8];
        // One token of burst, one more every 2 s: the second user waits about 2 s, so their first ETA is scored.
        await using var bed = await GatewayTestBed.StartAsync(redis.Server.ConnectionString, settings =>
        {
            settings[$"ReverseProxy:Routes:{dead}:ClusterId"] = dead;
            settings[$"ReverseProxy:Routes:{dead}:Match:Path"] = "/" + dead + "/{**rest}";
            settings[$"ReverseProxy:Clusters:{dead}:Destinations:d1:Address"] = $"http://127.0.0.1:{RedisServer.FreePort()}/";
        }, capacity: 1, refill: 0.5);
        var room = bed.Room;
        var client = bed.Client;
        using var http = bed.Gateway.CreateClient();
        await WaitReadyAsync(http);

        var first = await client.AdmitAsync(room, "first");
        var (_, second, _) = await client.JoinAsync(room, "second");
        Assert.Equal(1, second["position"]!.GetValue<long>());
        var admission = await client.AdmitAsync(room, "second");

        using (var rejected = await http.GetAsync("/api/inventory/items"))
            Assert.Equal(HttpStatusCode.TooManyRequests, rejected.StatusCode);
        using (var allowed = new HttpRequestMessage(HttpMethod.Get, "/api/inventory/_backend/echo"))
        {
            allowed.Headers.Add("X-Admission-Token", admission);
            using var response = await http.SendAsync(allowed);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        using (var broken = await http.GetAsync($"/{dead}/anything"))
            Assert.Equal(HttpStatusCode.BadGateway, broken.StatusCode);
        Assert.NotEmpty(first);

        PrometheusText scrape = null!;
        await Eventually.TrueAsync(
            async () => (scrape = await PrometheusText.ScrapeAsync(http)).Sum("waitingroom_eta_accuracy_ratio_count", $"room={room}") >= 1,
            because: "the second user's first ETA is scored when they enter");

        // The original's four: request totals, queue positions, ETA accuracy, admissions (rate via rate()).
        Assert.Equal("counter", scrape.Types["http_requests_received_total"]);
        Assert.True(scrape.Sum("http_requests_received_total", "route=/api/v1/queue/join", "method=POST", "code=202") >= 2);
        Assert.True(scrape.Sum("http_requests_received_total", "route=inventory", "method=GET", "code=429") >= 1);
        Assert.True(scrape.Sum("http_requests_received_total", "route=inventory", "method=GET", "code=200") >= 1);
        Assert.True(scrape.Sum("http_requests_received_total", $"route={dead}", "code=502") >= 1);
        Assert.Equal("histogram", scrape.Types["http_request_duration_seconds"]);
        Assert.NotEmpty(scrape.Find("http_request_duration_seconds_bucket", "route=inventory", "le=+Inf"));

        Assert.Equal("histogram", scrape.Types["waitingroom_queue_position"]);
        var positions = scrape.Sum("waitingroom_queue_position_count", $"room={room}");
        Assert.True(positions >= 1);
        Assert.Equal(positions, scrape.Sum("waitingroom_queue_position_bucket", $"room={room}", "le=1")); // only ever first in line

        Assert.Equal("histogram", scrape.Types["waitingroom_eta_accuracy_ratio"]);
        var accuracyCount = scrape.Sum("waitingroom_eta_accuracy_ratio_count", $"room={room}");
        Assert.InRange(scrape.Sum("waitingroom_eta_accuracy_ratio_sum", $"room={room}"), 0, accuracyCount);
        Assert.NotEmpty(scrape.Find("waitingroom_eta_accuracy_ratio_bucket", $"room={room}", "le=0.95"));

        Assert.Equal("counter", scrape.Types["waitingroom_admissions_total"]);
        Assert.Equal(2, scrape.Sum("waitingroom_admissions_total", $"room={room}"));
        Assert.Equal("counter", scrape.Types["waitingroom_promotions_total"]);
        Assert.Equal(2, scrape.Sum("waitingroom_promotions_total", $"room={room}"));

        // And the rest: queue length, bucket tokens vs configured rate, store latency, gate decisions, forwarding errors.
        Assert.Equal("gauge", scrape.Types["waitingroom_queue_length"]);
        Assert.Single(scrape.Find("waitingroom_queue_length", $"room={room}"));
        Assert.Single(scrape.Find("waitingroom_bucket_tokens", $"room={room}"));
        Assert.Equal(0.5, scrape.Sum("waitingroom_refill_rate_per_second", $"room={room}"));
        Assert.Equal("counter", scrape.Types["waitingroom_joins_total"]);
        Assert.Equal(2, scrape.Sum("waitingroom_joins_total", $"room={room}", "outcome=created"));
        Assert.Equal("histogram", scrape.Types["waitingroom_store_duration_seconds"]);
        Assert.True(scrape.Sum("waitingroom_store_duration_seconds_count", "operation=join") >= 2);
        Assert.NotEmpty(scrape.Find("waitingroom_store_duration_seconds_bucket", "operation=enter", "le=0.001"));
        Assert.Equal(1, scrape.Sum("waitingroom_gate_decisions_total", $"room={room}", "outcome=rejected"));
        Assert.Equal(1, scrape.Sum("waitingroom_gate_decisions_total", $"room={room}", "outcome=allowed"));
        Assert.Equal("counter", scrape.Types["gateway_forward_errors_total"]);
        Assert.Equal(1, scrape.Sum("gateway_forward_errors_total", $"cluster={dead}", "error=Request"));

        // Exported once, under our names only (prometheus-net's adapter would add gateway_waitingroom_waitingroom_*).
        Assert.DoesNotContain(scrape.Samples, s => s.Name.StartsWith("gateway_waitingroom_", StringComparison.Ordinal) || s.Name.StartsWith("gateway_proxy_", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Scrape_StoreDown_CountsStoreErrorsByOperation()
    {
        await using var own = await RedisServer.StartNewAsync();
        await using var bed = await GatewayTestBed.StartAsync(own.ConnectionString);
        using var http = bed.Gateway.CreateClient();
        await WaitReadyAsync(http);
        var before = (await PrometheusText.ScrapeAsync(http)).Sum("waitingroom_store_errors_total", "operation=join");

        await own.StopAsync();
        var (status, _, _) = await bed.Client.JoinAsync(bed.Room, "u");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        var after = await PrometheusText.ScrapeAsync(http);
        Assert.Equal("counter", after.Types["waitingroom_store_errors_total"]);
        Assert.True(after.Sum("waitingroom_store_errors_total", "operation=join") >= before + 1);
        Assert.True(after.Sum("waitingroom_joins_total", $"room={bed.Room}", "outcome=unavailable") >= 1);
    }

    internal static Task WaitReadyAsync(HttpClient http) => Eventually.TrueAsync(async () =>
    {
        using var ready = await http.GetAsync("/readyz");
        return ready.IsSuccessStatusCode;
    }, because: "the gateway reaches its store");

    [Fact]
    public void MetricNames_FollowPrometheusConventions()
    {
        var names = new Dictionary<string, (string Name, string? Unit, bool Counter)>
        {
            ["waitingroom_store_duration_seconds"] = ("waitingroom.store.duration", "s", false),
            ["waitingroom_eta_accuracy_ratio"] = ("waitingroom.eta.accuracy", "1", false),
            ["waitingroom_refill_rate_per_second"] = ("waitingroom.refill.rate", "{admission}/s", false),
            ["waitingroom_joins_total"] = ("waitingroom.joins", null, true),
        };
        using var meter = new System.Diagnostics.Metrics.Meter("naming-test");
        foreach (var (expected, (name, unit, counter)) in names)
        {
            System.Diagnostics.Metrics.Instrument instrument = counter
                ? meter.CreateCounter<long>(name, unit)
                : meter.CreateHistogram<double>(name, unit);
            Assert.Equal(expected, Gateway.Proxy.Diagnostics.PrometheusMeterExport.PrometheusName(instrument));
        }
    }
}
