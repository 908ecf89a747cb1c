using Gateway.Admission.Diagnostics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Gateway.Proxy.Diagnostics;

/// <summary>
/// The gateway's telemetry in one place (see docs/OBSERVABILITY.md): Prometheus metrics on <c>/metrics</c>,
/// OpenTelemetry traces exported over OTLP when an endpoint is configured, JSON console logs carrying trace
/// ids (<see cref="JsonLogFormatter"/>).
/// </summary>
internal static class GatewayTelemetry
{
    /// <summary>The OpenTelemetry service name of the gateway.</summary>
    public const string ServiceName = "waiting-room-gateway";

    public static void Add(WebApplicationBuilder builder)
    {
        PrometheusMeterExport.ExcludeOwnMetersFromDefaultAdapter();
        builder.Services.AddSingleton<PrometheusMeterExport>();
        builder.Services.AddSingleton<ForwardingMetrics>();
        builder.Logging.AddConsoleFormatter<JsonLogFormatter, JsonLogFormatterOptions>();
        AddTracing(builder);
    }

    /// <summary>Starts the meter export before anything records, and counts every request by route, method and status.</summary>
    public static void Use(WebApplication app)
    {
        app.Services.GetRequiredService<PrometheusMeterExport>();
        app.UseMiddleware<HttpRequestMetrics>();
    }

    /// <summary>
    /// Traces are always created (so <c>traceparent</c> reaches the backends and logs carry trace ids) and
    /// exported over OTLP only when <c>Telemetry:OtlpEndpoint</c> or <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set.
    /// Sampling: <c>Telemetry:SamplingRatio</c> (or <c>OTEL_TRACES_SAMPLER_ARG</c>) of new traces, parent-based,
    /// so a caller's sampling decision is followed; by default all of them when exporting, none otherwise.
    /// </summary>
    private static void AddTracing(WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var endpoint = configuration["Telemetry:OtlpEndpoint"] ?? configuration["OTEL_EXPORTER_OTLP_ENDPOINT"];
        // With nowhere to send spans, recording them is pure cost (a quarter of a proxied request's CPU, measured in
        // docs/BENCHMARKS.md): new traces are then not sampled, yet still get ids that reach the backends and the logs.
        var defaultRatio = string.IsNullOrWhiteSpace(endpoint) ? 0.0 : 1.0;
        var ratio = configuration.GetValue<double?>("Telemetry:SamplingRatio") ?? configuration.GetValue("OTEL_TRACES_SAMPLER_ARG", defaultRatio);
        if (ratio is < 0 or > 1)
            throw new InvalidOperationException($"Telemetry:SamplingRatio is {ratio}; it must be between 0 and 1 (e.g. 0.1 to keep one trace in ten).");
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(ServiceName))
            .WithTracing(tracing =>
            {
                tracing.SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(ratio)))
                    .AddSource(WaitingRoomTelemetry.SourceName)
                    .AddSource("Yarp.ReverseProxy")
                    .AddAspNetCoreInstrumentation(o => o.Filter = c => c.Request.Path != "/metrics" && c.Request.Path != "/healthz")
                    .AddHttpClientInstrumentation();
                if (!string.IsNullOrWhiteSpace(endpoint))
                    tracing.AddOtlpExporter(o => o.Endpoint = new Uri(endpoint));
            });
    }
}
