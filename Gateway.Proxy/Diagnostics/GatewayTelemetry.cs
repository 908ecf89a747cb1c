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
        AddTracingWhenExporting(builder);
    }

    /// <summary>
    /// Starts the meter export before anything records, the requests' trace context when OpenTelemetry is not
    /// registered, and counts every request by route, method and status.
    /// </summary>
    public static void Use(WebApplication app)
    {
        app.Services.GetRequiredService<PrometheusMeterExport>();
        if (app.Services.GetService<TracerProvider>() is null)
            app.Services.GetRequiredService<RequestActivities>();
        app.UseMiddleware<HttpRequestMetrics>();
    }

    /// <summary>
    /// Every request gets a trace context, so <c>traceparent</c> reaches the backends and logs and errors carry trace
    /// ids; spans are recorded and exported over OTLP only when <c>Telemetry:OtlpEndpoint</c> or
    /// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set. Without one, OpenTelemetry is not registered at all: its listeners
    /// (ASP.NET Core's, HttpClient's, YARP's) cost 10-20% of a proxied request even with nothing sampled
    /// (docs/BENCHMARKS.md), and <see cref="RequestActivities"/> keeps the request's trace context instead.
    /// </summary>
    private static void AddTracingWhenExporting(WebApplicationBuilder builder)
    {
        var endpoint = OtlpEndpoint(builder.Configuration);
        // Checked even when nothing exports: a typo in the ratio should stop the start-up, not wait for the day an
        // endpoint is set.
        SamplingRatio(builder.Configuration);
        builder.Services.AddSingleton<RequestActivities>();
        if (endpoint is not null)
            AddTracing(builder, tracing => tracing.AddOtlpExporter(o => o.Endpoint = endpoint));
    }

    /// <summary>
    /// Registers OpenTelemetry tracing with <paramref name="export"/> adding the exporter (OTLP in production, an
    /// in-memory one in tests). Sampling: <c>Telemetry:SamplingRatio</c> (or <c>OTEL_TRACES_SAMPLER_ARG</c>) of new
    /// traces, parent-based, so a caller's sampling decision is followed; all of them by default.
    /// </summary>
    internal static void AddTracing(WebApplicationBuilder builder, Action<TracerProviderBuilder> export)
    {
        var ratio = SamplingRatio(builder.Configuration);
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(ServiceName))
            .WithTracing(tracing =>
            {
                tracing.SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(ratio)))
                    .AddSource(WaitingRoomTelemetry.SourceName)
                    .AddSource("Yarp.ReverseProxy")
                    .AddAspNetCoreInstrumentation(o => o.Filter = c => c.Request.Path != "/metrics" && c.Request.Path != "/healthz")
                    .AddHttpClientInstrumentation();
                export(tracing);
            });
    }

    private static Uri? OtlpEndpoint(ConfigurationManager configuration)
    {
        var endpoint = configuration["Telemetry:OtlpEndpoint"] ?? configuration["OTEL_EXPORTER_OTLP_ENDPOINT"];
        if (string.IsNullOrWhiteSpace(endpoint))
            return null;
        return Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? uri
            : throw new InvalidOperationException($"Telemetry:OtlpEndpoint (or OTEL_EXPORTER_OTLP_ENDPOINT) is '{endpoint}'; it must be an http or https URL (e.g. http://otel-collector:4317).");
    }

    private static double SamplingRatio(ConfigurationManager configuration)
    {
        var ratio = configuration.GetValue<double?>("Telemetry:SamplingRatio") ?? configuration.GetValue("OTEL_TRACES_SAMPLER_ARG", 1.0);
        return ratio is < 0 or > 1
            ? throw new InvalidOperationException($"Telemetry:SamplingRatio is {ratio}; it must be between 0 and 1 (e.g. 0.1 to keep one trace in ten).")
            : ratio;
    }
}
