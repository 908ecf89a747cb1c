using System.Collections.ObjectModel;
using System.Diagnostics;
using Gateway.Proxy;
using Gateway.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Trace;

namespace Gateway.Tests.Observability;

/// <summary>
/// The production gateway on Kestrel with OpenTelemetry's in-memory exporter added to its tracer provider,
/// so tests see exactly the spans an OTLP collector would receive. The tracer listens process-wide, so tests
/// pick their own spans by the trace id they send.
/// </summary>
internal sealed class TracedGateway : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _dir;

    private TracedGateway(WebApplication app, string dir, SpanCollection spans)
    {
        _app = app;
        _dir = dir;
        Spans = spans;
        BaseAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
    }

    public Uri BaseAddress { get; }

    public SpanCollection Spans { get; }

    public static async Task<TracedGateway> StartAsync(string redis, IDictionary<string, string?> settings)
    {
        var dir = Directory.CreateTempSubdirectory("wr-traced-").FullName;
        await File.WriteAllTextAsync(Path.Combine(dir, "appsettings.json"), TestConfig.ToJson(settings));
        var spans = new SpanCollection();
        var app = GatewayApp.Build(["--contentRoot", dir, "--environment", "Development", "--urls", "http://127.0.0.1:0", "--ConnectionStrings:Redis", redis], builder =>
        {
            builder.Logging.ClearProviders();
            builder.WebHost.UseShutdownTimeout(TimeSpan.FromSeconds(2));
            builder.Services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(spans));
        });
        await app.StartAsync();
        var gateway = new TracedGateway(app, dir, spans);
        using var http = gateway.CreateClient();
        await MetricsTests.WaitReadyAsync(http);
        return gateway;
    }

    /// <summary>
    /// A client that sends only the trace headers the test sets itself. Without a propagator the handler makes no
    /// span of its own, so neither it nor OpenTelemetry's HttpClient instrumentation (listening in this process
    /// for the gateway) rewrites the test's <c>traceparent</c>.
    /// </summary>
    public HttpClient CreateClient() => new(new SocketsHttpHandler
    {
        UseProxy = false,
        UseCookies = false,
        ActivityHeadersPropagator = null,
    })
    {
        BaseAddress = BaseAddress,
        Timeout = TimeSpan.FromSeconds(30),
    };

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

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
