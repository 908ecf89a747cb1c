using Gateway.Admission.Hosting;
using Gateway.Proxy.Configuration;
using Gateway.Proxy.Diagnostics;
using Gateway.Proxy.Forwarding;
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
        GatewayTelemetry.Add(builder);

        var app = builder.Build();
        // Empty KnownProxies in ASP.NET Core means "trust every proxy", so the middleware runs only when the
        // operator names the proxies in front; otherwise a spoofed X-Forwarded-For is simply ignored.
        if (KnownProxies(builder.Configuration).Length > 0)
            app.UseForwardedHeaders();
        app.UseRouting();
        GatewayTelemetry.Use(app);

        app.MapGet("/healthz", () => Results.Text("ok", "text/plain"));
        app.MapMetrics("/metrics");
        app.MapWaitingRoom();
        app.MapReverseProxy(pipeline =>
        {
            pipeline.UseForwardingMetrics();
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
}
