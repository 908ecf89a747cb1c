using System.Collections.ObjectModel;
using System.Diagnostics;
using Gateway.Proxy.Diagnostics;
using Gateway.Tests.Infrastructure;
using OpenTelemetry.Trace;

namespace Gateway.Tests.Observability;

/// <summary>
/// The production gateway on Kestrel with tracing registered as an exporting gateway registers it, OpenTelemetry's
/// in-memory exporter in place of OTLP, so tests see exactly the spans a collector would receive. The tracer listens process-wide, so tests
/// pick their own spans by the trace id they send.
/// </summary>
internal sealed class TracedGateway : IAsyncDisposable
{
    private readonly GatewayHost _host;

    private TracedGateway(GatewayHost host, SpanCollection spans)
    {
        _host = host;
        Spans = spans;
    }

    public Uri BaseAddress => _host.BaseAddress;

    public SpanCollection Spans { get; }

    public static async Task<TracedGateway> StartAsync(string redis, IDictionary<string, string?> settings)
    {
        var spans = new SpanCollection();
        // An in-memory exporter instead of OTLP: sample as an exporting gateway does, unless the test says otherwise.
        settings.TryAdd("Telemetry:SamplingRatio", "1");
        var host = await GatewayHost.StartAsync(redis, settings, configure: builder =>
            GatewayTelemetry.AddTracing(builder, tracing => tracing.AddInMemoryExporter(spans)));
        var gateway = new TracedGateway(host, spans);
        using var http = gateway.CreateClient();
        await MetricsTests.WaitReadyAsync(http);
        return gateway;
    }

    /// <summary>A client that sends only the trace headers the test sets itself (see <see cref="GatewayHost.CreateClient"/>).</summary>
    public HttpClient CreateClient() => _host.CreateClient();

    public ValueTask DisposeAsync() => _host.DisposeAsync();

    /// <summary>The exporter's target: written from whichever thread ends a span.</summary>
    internal sealed class SpanCollection : Collection<Activity>
    {
        private readonly Lock _lock = new();

        public Activity[] Of(ActivityTraceId traceId) => Where(a => a.TraceId == traceId);

        public Activity[] Where(Func<Activity, bool> predicate)
        {
            lock (_lock)
                return [.. Items.Where(predicate)];
        }

        protected override void InsertItem(int index, Activity item)
        {
            lock (_lock)
                base.InsertItem(Count, item);
        }
    }
}
