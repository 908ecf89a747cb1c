using System.Net;
using System.Text.Json.Nodes;
using Gateway.Proxy.Forwarding;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Observability;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Proxy;

/// <summary>
/// Resilient forwarding per cluster (<c>Resilience:Clusters:&lt;id&gt;</c>): a circuit breaker that answers 503 with
/// Retry-After in the error shape while open, without the request reaching the backend; per-try timeouts;
/// retries of safe requests only. Real Kestrel gateway and backends on loopback.
/// </summary>
public sealed class ResilienceTests
{
    [Fact]
    public async Task AnOpenBreaker_Answers503WithRetryAfterInTheErrorShape_WithoutReachingTheBackend_AndClosesWhenTheBackendRecovers()
    {
        await using var bed = await GatewayTestBed.StartAsync(null, s =>
        {
            UngateAll(s);
            s["Resilience:Clusters:payment:FailureRatio"] = "0.5";
            s["Resilience:Clusters:payment:MinimumThroughput"] = "5";
            s["Resilience:Clusters:payment:SamplingDuration"] = "00:00:30";
            s["Resilience:Clusters:payment:BreakDuration"] = "00:00:02";
        });
        var http = bed.Client.Http;
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/payments")).StatusCode);

        // The backend turns everything away: after five failures the breaker opens.
        bed.Backends.SetCapacity("payment", 0.001);
        await Eventually.TrueAsync(async () => await ErrorCodeAsync(http) == "BACKEND_UNAVAILABLE", because: "the breaker opens");

        var reached = bed.Backends.Stats("payment").Requests;
        for (var i = 0; i < 5; i++)
        {
            using var response = await http.GetAsync("/api/payments");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.InRange(int.Parse(response.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture), 1, 2);
            var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
            Assert.Equal("BACKEND_UNAVAILABLE", error["code"]!.GetValue<string>());
            Assert.False(string.IsNullOrEmpty(error["message"]!.GetValue<string>()));
            Assert.False(string.IsNullOrEmpty(error["trace_id"]!.GetValue<string>()));
        }
        Assert.Equal(reached, bed.Backends.Stats("payment").Requests); // none of them reached the backend

        var open = await PrometheusText.ScrapeAsync(http);
        Assert.Equal(1, open.Sum("gateway_breaker_state", "cluster=payment", "state=open"));
        Assert.Equal(0, open.Sum("gateway_breaker_state", "cluster=payment", "state=closed"));
        Assert.True(open.Sum("gateway_breaker_rejections_total", "cluster=payment") >= 5);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/inventory")).StatusCode); // other clusters are not affected

        // The backend recovers: after the break one request probes it and the breaker closes.
        bed.Backends.SetCapacity("payment", 100_000);
        await Eventually.TrueAsync(async () => (await http.GetAsync("/api/payments")).StatusCode == HttpStatusCode.OK, because: "the probe succeeds");
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/payments")).StatusCode);
        var closed = await PrometheusText.ScrapeAsync(http);
        Assert.Equal(1, closed.Sum("gateway_breaker_state", "cluster=payment", "state=closed"));
    }

    [Fact]
    public async Task ASafeRequest_IsRetriedAfterAPerTryTimeout_APostNever()
    {
        await using var slow = await SlowBackend.StartAsync(TimeSpan.FromSeconds(3));
        await using var bed = await GatewayTestBed.StartAsync(null, s =>
        {
            UngateAll(s);
            s["ReverseProxy:Routes:slow:ClusterId"] = "slow";
            s["ReverseProxy:Routes:slow:Match:Path"] = "/slow/{**rest}";
            s["ReverseProxy:Clusters:slow:Destinations:slow-1:Address"] = slow.Address.ToString();
            s["Resilience:Clusters:slow:AttemptTimeout"] = "00:00:00.300";
            s["Resilience:Clusters:slow:MaxRetries"] = "1";
            // Never open during this test: four attempts are below the minimum throughput.
            s["Resilience:Clusters:slow:MinimumThroughput"] = "100";
        });
        var http = bed.Client.Http;

        using var get = await http.GetAsync("/slow/a");
        using var post = await http.PostAsync("/slow/b", new StringContent("{}", System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadGateway, get.StatusCode);
        Assert.Equal(HttpStatusCode.BadGateway, post.StatusCode);
        Assert.Equal(2, slow.Count("GET"));
        Assert.Equal(1, slow.Count("POST"));
        var metrics = await PrometheusText.ScrapeAsync(http);
        Assert.Equal(3, metrics.Sum("gateway_forward_attempt_timeouts_total", "cluster=slow"));
        Assert.Equal(1, metrics.Sum("gateway_forward_retries_total", "cluster=slow"));
    }

    [Fact]
    public async Task InvalidResilienceSettings_FailStartup_NamingTheKeyWithAnExample()
    {
        await using var backends = await Gateway.SampleBackends.SampleBackendsApp.StartAsync(new() { ReservationPort = 0, InventoryPort = 0, PaymentPort = 0 });
        var settings = TestConfig.Gateway(backends);
        settings["Resilience:Clusters:payment:FailureRatio"] = "2";
        settings["Resilience:Clusters:payment:BreakDuration"] = "00:00:00.1";

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => GatewayHost.StartAsync(null, settings));

        Assert.Contains("Resilience:Clusters:payment:FailureRatio is 2", error.Message, StringComparison.Ordinal);
        Assert.Contains("Resilience:Clusters:payment:BreakDuration is 00:00:00.1000000", error.Message, StringComparison.Ordinal);
        Assert.Contains("e.g. 0.5", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnInvalidResilienceEdit_IsRefused_AndTheLastGoodSettingsStay()
    {
        await using var bed = await GatewayTestBed.StartAsync(null, s => s["Resilience:Clusters:payment:BreakDuration"] = "00:00:02");
        var current = bed.Gateway.Services.GetRequiredService<IOptionsMonitor<ResilienceOptions>>();

        bed.Settings["Resilience:Clusters:payment:BreakDuration"] = "-00:00:01";
        await bed.Gateway.RewriteConfigAsync(bed.Settings);
        await Task.Delay(TimeSpan.FromSeconds(2)); // the file watcher fires within ~1 s; give the reload time to be refused
        Assert.Equal(TimeSpan.FromSeconds(2), current.CurrentValue.Clusters["payment"].BreakDuration);

        bed.Settings["Resilience:Clusters:payment:BreakDuration"] = "00:00:07";
        await bed.Gateway.RewriteConfigAsync(bed.Settings);
        await Eventually.TrueAsync(() => Task.FromResult(current.CurrentValue.Clusters["payment"].BreakDuration == TimeSpan.FromSeconds(7)), because: "a good edit applies");
    }

    private static async Task<string?> ErrorCodeAsync(HttpClient http)
    {
        using var response = await http.GetAsync("/api/payments");
        var body = await response.Content.ReadAsStringAsync();
        return response.StatusCode == HttpStatusCode.ServiceUnavailable && body.Length > 0 ? JsonNode.Parse(body)?["error"]?["code"]?.GetValue<string>() : null;
    }

    private static void UngateAll(Dictionary<string, string?> settings)
    {
        foreach (var key in settings.Keys.Where(k => k.EndsWith(":Metadata:WaitingRoom", StringComparison.Ordinal)).ToList())
            settings.Remove(key);
    }

    /// <summary>A backend that answers every request after a delay and counts requests by method.</summary>
    private sealed class SlowBackend : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _counts;

        private SlowBackend(WebApplication app, Uri address, System.Collections.Concurrent.ConcurrentDictionary<string, int> counts)
        {
            _app = app;
            Address = address;
            _counts = counts;
        }

        public Uri Address { get; }

        public int Count(string method) => _counts.GetValueOrDefault(method);

        public static async Task<SlowBackend> StartAsync(TimeSpan delay)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            var app = builder.Build();
            var counts = new System.Collections.Concurrent.ConcurrentDictionary<string, int>(StringComparer.Ordinal);
            app.Run(async context =>
            {
                counts.AddOrUpdate(context.Request.Method, 1, (_, n) => n + 1);
                try
                {
                    await Task.Delay(delay, context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                context.Response.StatusCode = StatusCodes.Status200OK;
            });
            await app.StartAsync();
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            return new SlowBackend(app, new Uri(address + "/"), counts);
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
