using Gateway.Admission.Diagnostics;
using Gateway.Admission.Hosting;
using Gateway.Proxy.Configuration;
using Gateway.Proxy.Forwarding;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Prometheus;

namespace Gateway.Proxy;

/// <summary>
/// Composes the gateway: YARP from <c>ReverseProxy</c> (reloaded on file change), the waiting room in
/// front of gated routes, operations endpoints and telemetry. The host stays thin; the waiting room
/// lives in Gateway.Admission.
/// </summary>
public static class GatewayApp
{
    /// <summary>Builds the gateway from command-line arguments and standard ASP.NET Core configuration.</summary>
    /// <param name="args">Command-line arguments (e.g. <c>--urls http://127.0.0.1:5000</c>).</param>
    /// <param name="configure">Lets a host (the demo, tests) add configuration or services before build.</param>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        configure?.Invoke(builder);

        builder.Logging.Configure(o => o.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId | ActivityTrackingOptions.ParentId);
        builder.Services.AddWaitingRoom(builder.Configuration);
        AddProxy(builder);
        AddTracing(builder);

        var app = builder.Build();
        // Empty KnownProxies in ASP.NET Core means "trust every proxy", so the middleware runs only when the
        // operator names the proxies in front; otherwise a spoofed X-Forwarded-For is simply ignored.
        if (KnownProxies(builder.Configuration).Length > 0)
            app.UseForwardedHeaders();
        app.UseRouting();
        app.UseHttpMetrics();

        app.MapGet("/healthz", () => Results.Text("ok", "text/plain"));
        app.MapMetrics("/metrics");
        app.MapWaitingRoom();
        app.MapReverseProxy(pipeline =>
        {
            // The gate comes first: a request without an admission never costs a load-balancing decision.
            pipeline.UseWaitingRoomGate();
            pipeline.UseSessionAffinity();
            pipeline.UseLoadBalancing();
            pipeline.UsePassiveHealthChecks();
        });
        return app;
    }

    private static void AddProxy(WebApplicationBuilder builder)
    {
        var forwarding = builder.Configuration.GetSection(ForwardingOptions.SectionName).Get<ForwardingOptions>() ?? new ForwardingOptions();
        builder.Services.AddReverseProxy()
            .LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"))
            .AddConfigFilter<ProxyConfigRules>()
            .ConfigureHttpClient((context, handler) =>
            {
                handler.ConnectTimeout = forwarding.ConnectTimeout;
                handler.PooledConnectionIdleTimeout = forwarding.PooledConnectionIdleTimeout;
                handler.PooledConnectionLifetime = forwarding.PooledConnectionLifetime;
                if (context.NewConfig.MaxConnectionsPerServer is null)
                    handler.MaxConnectionsPerServer = forwarding.MaxConnectionsPerServer;
            });

        // The client address comes from the connection unless the operator names the proxies in front
        // of the gateway (ForwardedHeaders:KnownProxies).
        builder.Services.Configure<ForwardedHeadersOptions>(o =>
        {
            o.ForwardedHeaders = Microsoft.AspNetCore.HttpOverrides.ForwardedHeaders.XForwardedFor | Microsoft.AspNetCore.HttpOverrides.ForwardedHeaders.XForwardedProto;
            o.KnownIPNetworks.Clear();
            o.KnownProxies.Clear();
            foreach (var proxy in KnownProxies(builder.Configuration))
                o.KnownProxies.Add(proxy);
        });
    }

    private static System.Net.IPAddress[] KnownProxies(ConfigurationManager configuration) =>
        [.. (configuration.GetSection("ForwardedHeaders:KnownProxies").Get<string[]>() ?? []).Select(System.Net.IPAddress.Parse)];

    /// <summary>
    /// Traces are always created (so <c>traceparent</c> reaches the backends and logs carry trace ids) and
    /// exported over OTLP only when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> or <c>Telemetry:OtlpEndpoint</c> is set.
    /// </summary>
    private static void AddTracing(WebApplicationBuilder builder)
    {
        var endpoint = builder.Configuration["Telemetry:OtlpEndpoint"] ?? builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"];
        var ratio = builder.Configuration.GetValue("Telemetry:SamplingRatio", 1.0);
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("waiting-room-gateway"))
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
