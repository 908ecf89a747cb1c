using System.Text;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Proxy;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;

namespace Gateway.Tests.Observability;

/// <summary>
/// A gateway with nowhere to export spans does not register OpenTelemetry, yet every request keeps its trace
/// context: the backends get a <c>traceparent</c> of the caller's trace (its sampled flag passed on) and error bodies
/// carry that trace id. The tests' gateways have no logging providers, so none of this leans on logging being on.
/// Requests go over a raw socket: an HttpClient in this process would add trace headers of its own.
/// </summary>
[Collection(ProcessWideTracing.Name)]
public sealed class TraceContextTests
{
    [Theory]
    [InlineData("01")]
    [InlineData("00")]
    public async Task WithoutAnExporter_OpenTelemetryIsNotRegistered_YetTheBackendContinuesTheCallersTrace(string flags)
    {
        await using var bed = await GatewayTestBed.StartAsync(null, ProxyTests.UngateAll);
        Assert.Null(bed.Gateway.Services.GetService<TracerProvider>());

        var (trace, callerSpan) = ("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7");
        var echoed = await EchoedTraceparentAsync(bed, ("traceparent", $"00-{trace}-{callerSpan}-{flags}"));

        var parts = echoed.Split('-');
        Assert.Equal(["00", trace], parts[..2]);
        Assert.NotEqual(callerSpan, parts[2]); // the gateway's own span in between
        Assert.Matches("^[0-9a-f]{16}$", parts[2]);
        Assert.Equal(flags, parts[3]);
    }

    [Fact]
    public async Task WithoutAnExporter_ARequestWithoutTraceparent_StartsATrace_AndEachRequestItsOwn()
    {
        await using var bed = await GatewayTestBed.StartAsync(null, ProxyTests.UngateAll);

        var first = await EchoedTraceparentAsync(bed);
        var second = await EchoedTraceparentAsync(bed);

        Assert.Matches("^00-[0-9a-f]{32}-[0-9a-f]{16}-00$", first);
        Assert.DoesNotContain(new string('0', 32), first, StringComparison.Ordinal);
        Assert.NotEqual(first.Split('-')[1], second.Split('-')[1]);
    }

    [Fact]
    public async Task WithoutAnExporter_AnErrorBody_CarriesTheCallersTraceId()
    {
        await using var bed = await GatewayTestBed.StartAsync(null);
        const string trace = "0af7651916cd43dd8448eb211c80319c";

        var body = """{"event_id":"no-such-room"}""";
        var request = Encoding.ASCII.GetBytes(
            $"POST /api/v1/queue/join HTTP/1.1\r\nHost: gateway\r\ntraceparent: 00-{trace}-b7ad6b7169203331-01\r\n" +
            $"Content-Type: application/json\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n{body}");
        var response = await RawHttp.SendAsync(bed.Gateway.BaseAddress, request, headRequest: false, TimeSpan.FromSeconds(10));

        Assert.NotNull(response);
        Assert.InRange(response.Status, 400, 499);
        var error = JsonNode.Parse(response.Text)!["error"]!;
        Assert.Equal(trace, error["trace_id"]!.ToString());
    }

    [Fact]
    public void AnOtlpEndpointThatIsNotAUrl_RefusesToStart_NamingTheKey()
    {
        var error = Assert.Throws<InvalidOperationException>(() =>
            Gateway.Proxy.GatewayApp.Build(["--Telemetry:OtlpEndpoint", "otel-collector:4317", "--environment", "Development"]));
        Assert.Contains("Telemetry:OtlpEndpoint", error.Message, StringComparison.Ordinal);
        Assert.Contains("http://", error.Message, StringComparison.Ordinal);
    }

    private static async Task<string> EchoedTraceparentAsync(GatewayTestBed bed, params (string Name, string Value)[] headers)
    {
        var response = await RawHttp.GetAsync(bed.Gateway.BaseAddress, "/api/inventory/_backend/echo", headers);
        Assert.Contains(" 200 OK", response.Split("\r\n")[0], StringComparison.Ordinal);
        var echoed = JsonNode.Parse(response[response.IndexOf("\r\n\r\n", StringComparison.Ordinal)..])!["headers"]!.AsObject();
        return echoed["traceparent"]!.ToString();
    }
}
