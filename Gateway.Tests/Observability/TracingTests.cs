using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Gateway.SampleBackends;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Observability;

/// <summary>
/// The spans the gateway exports and their parent-child shape, and W3C trace context reaching the backends.
/// Each test sends its own <c>traceparent</c> and looks only at spans of that trace.
/// </summary>
[Collection(ProcessWideTracing.Name)]
public sealed class TracingTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>
{
    [Fact]
    public async Task ProxiedRequest_RequestSpanHoldsGateAndForwarding_AndTheBackendGetsTheForwardingSpanAsParent()
    {
        await using var backends = await StartBackendsAsync();
        var room = "tr" + Guid.NewGuid().ToString("N")[..10];
        await using var gateway = await TracedGateway.StartAsync(redis.Server.ConnectionString, TestConfig.Gateway(backends, room, capacity: 5));
        using var http = gateway.CreateClient();
        var admission = await new QueueClient(http).AdmitAsync(room, "u");

        var (traceId, callerSpan) = (ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom());
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/inventory/_backend/echo");
        request.Headers.Add("traceparent", $"00-{traceId}-{callerSpan}-01");
        request.Headers.Add("X-Admission-Token", admission);
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var echoed = Header(JsonNode.Parse(await response.Content.ReadAsStringAsync())!, "traceparent");

        // The request span ends last, so once it is exported the whole trace is.
        var spans = await SpansAsync(gateway, traceId, s => s.Any(a => a.Kind == ActivityKind.Server && a.ParentSpanId == callerSpan));
        var server = Assert.Single(spans, s => s.Kind == ActivityKind.Server && s.ParentSpanId == callerSpan);
        var forwarder = Assert.Single(spans, s => s.OperationName == "proxy.forwarder");
        var gate = Assert.Single(spans, s => s.OperationName == "waitingroom gate");
        var outgoing = Assert.Single(spans, s => s.Kind == ActivityKind.Client && s.ParentSpanId == forwarder.SpanId);

        Assert.Equal(server.SpanId, forwarder.ParentSpanId);
        Assert.Equal(forwarder.SpanId, gate.ParentSpanId);
        Assert.Equal("allowed", gate.GetTagItem("waitingroom.decision"));
        Assert.Equal(room, gate.GetTagItem("waitingroom.room"));
        Assert.True(gate.StartTimeUtc + gate.Duration <= outgoing.StartTimeUtc, "the gate decides before forwarding starts");
        Assert.Equal("GET", outgoing.GetTagItem("http.request.method"));
        Assert.Equal(200, outgoing.GetTagItem("http.response.status_code"));

        // W3C trace context: same trace, and the backend's parent is the gateway's outgoing span.
        Assert.Equal($"00-{traceId}-{outgoing.SpanId}-01", echoed);
        Assert.DoesNotContain(spans, s => s.Tags.Any(t => t.Value?.Contains(admission, StringComparison.Ordinal) == true));
    }

    [Fact]
    public async Task QueueCalls_EachStoreCallIsAClientSpanUnderTheRequest_AndNoTokenIsRecorded()
    {
        await using var backends = await StartBackendsAsync();
        var room = "tr" + Guid.NewGuid().ToString("N")[..10];
        await using var gateway = await TracedGateway.StartAsync(redis.Server.ConnectionString, TestConfig.Gateway(backends, room, capacity: 1, refill: 0.01));
        using var http = gateway.CreateClient();
        var client = new QueueClient(http);
        await client.JoinAsync(room, "ahead");

        var traceId = ActivityTraceId.CreateRandom();
        using var join = new HttpRequestMessage(HttpMethod.Post, "/api/v1/queue/join")
        {
            Content = System.Net.Http.Json.JsonContent.Create(new Dictionary<string, string> { ["event_id"] = room, ["user_id"] = "u" }),
        };
        join.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01");
        using var joined = await http.SendAsync(join);
        var token = JsonNode.Parse(await joined.Content.ReadAsStringAsync())!["waiting_token"]!.GetValue<string>();
        var statusTrace = ActivityTraceId.CreateRandom();
        using (var status = new HttpRequestMessage(HttpMethod.Get, "/api/v1/queue/status?token=" + Uri.EscapeDataString(token)))
        {
            status.Headers.Add("traceparent", $"00-{statusTrace}-{ActivitySpanId.CreateRandom()}-01");
            using var polled = await http.SendAsync(status);
            Assert.Equal(HttpStatusCode.OK, polled.StatusCode);
        }

        var spans = await SpansAsync(gateway, traceId, s => s.Any(a => a.Kind == ActivityKind.Server));
        var server = Assert.Single(spans, s => s.Kind == ActivityKind.Server);
        var store = Assert.Single(spans, s => s.OperationName == "store join");
        Assert.Equal(ActivityKind.Client, store.Kind);
        Assert.Equal(server.SpanId, store.ParentSpanId);
        Assert.Equal("redis", store.GetTagItem("db.system"));
        Assert.Equal(room, store.GetTagItem("waitingroom.room"));
        var record = Assert.Single(spans, s => s.OperationName == "store record_eta");
        Assert.Equal(server.SpanId, record.ParentSpanId);

        var statusSpans = await SpansAsync(gateway, statusTrace, s => s.Any(a => a.Kind == ActivityKind.Server));
        var statusServer = Assert.Single(statusSpans, s => s.Kind == ActivityKind.Server);
        Assert.Equal(statusServer.SpanId, Assert.Single(statusSpans, s => s.OperationName == "store status").ParentSpanId);
        // The waiting token travels in the query string; the exported spans must not carry it.
        Assert.DoesNotContain(spans.Concat(statusSpans), s => s.Tags.Any(t => t.Value?.Contains(token, StringComparison.Ordinal) == true));
    }

    /// <remarks>
    /// Only caller-decided traces are asserted: ActivitySource sampling is process-wide, so a brand-new trace
    /// here may be recorded because another gateway of the test run (ratio 1) samples it.
    /// </remarks>
    [Fact]
    public async Task Sampling_RatioZero_FollowsTheCallersDecision()
    {
        await using var backends = await StartBackendsAsync();
        var room = "tr" + Guid.NewGuid().ToString("N")[..10];
        var settings = TestConfig.Gateway(backends, room);
        settings["Telemetry:SamplingRatio"] = "0";
        await using var gateway = await TracedGateway.StartAsync(redis.Server.ConnectionString, settings);
        using var http = gateway.CreateClient();

        var unsampledCaller = ActivityTraceId.CreateRandom();
        var sampledCaller = ActivityTraceId.CreateRandom();
        foreach (var (trace, flags) in new[] { (unsampledCaller, "00"), (sampledCaller, "01") })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/inventory/items");
            request.Headers.Add("traceparent", $"00-{trace}-{ActivitySpanId.CreateRandom()}-{flags}");
            using var response = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        }

        var sampled = await SpansAsync(gateway, sampledCaller, s => s.Any(a => a.Kind == ActivityKind.Server));
        Assert.Contains(sampled, s => s.OperationName == "waitingroom gate");
        Assert.Empty(gateway.Spans.Of(unsampledCaller));
    }

    [Theory]
    [InlineData("-0.1")]
    [InlineData("1.5")]
    public void Sampling_RatioOutsideZeroToOne_RefusesToStart(string ratio)
    {
        var error = Assert.Throws<InvalidOperationException>(() => Gateway.Proxy.GatewayApp.Build(["--Telemetry:SamplingRatio", ratio, "--environment", "Development"]));
        Assert.Contains("Telemetry:SamplingRatio", error.Message, StringComparison.Ordinal);
    }

    private static Task<SampleBackendsApp> StartBackendsAsync() =>
        SampleBackendsApp.StartAsync(new SampleBackendsOptions { ReservationPort = 0, InventoryPort = 0, PaymentPort = 0, CapacityPerSecond = 100_000 });

    /// <summary>The spans of a trace once <paramref name="complete"/> says they are there (spans end after the response is sent).</summary>
    private static async Task<Activity[]> SpansAsync(TracedGateway gateway, ActivityTraceId traceId, Func<Activity[], bool> complete)
    {
        Activity[] spans = [];
        await Eventually.TrueAsync(() => Task.FromResult(complete(spans = gateway.Spans.Of(traceId))), TimeSpan.FromSeconds(10), "spans of trace " + traceId);
        return spans;
    }

    private static string? Header(JsonNode echo, string name)
    {
        var headers = echo.AsObject().First(p => string.Equals(p.Key, "headers", StringComparison.OrdinalIgnoreCase)).Value!.AsObject();
        return headers[name]?.GetValue<string>();
    }
}
