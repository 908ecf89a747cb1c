using Gateway.Admission.Hosting;
using Gateway.Proxy.Configuration;
using Gateway.Proxy.Diagnostics;
using Gateway.Proxy.Forwarding;
using Gateway.Proxy.Hosting;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Prometheus;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Proxy;

/// <summary>
/// Composes the gateway: YARP from <c>ReverseProxy</c> (reloaded on file change) with the waiting room added
/// to it, operations endpoints, telemetry, the client address and graceful stopping. The host stays thin;
/// the waiting room lives in Gateway.Admission.
/// </summary>
public static class GatewayApp
{
    /// <summary>Builds the gateway from command-line arguments and standard ASP.NET Core configuration.</summary>
    /// <param name="args">Command-line arguments (e.g. <c>--urls http://127.0.0.1:5000</c>).</param>
    /// <param name="configure">Lets a host (the demo, tests) add configuration or services before build.</param>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = ContentRoot(args, Directory.GetCurrentDirectory()) });
        LastGoodJsonFiles.Apply(builder.Configuration);
        var configFile = ConfigFile.Add(builder.Configuration);
        configure?.Invoke(builder);
        // The file's own view shares its provider with the whole configuration; a host that rebuilt the providers
        // (replacing or removing a source) would leave that view reading a disposed provider that never reloads.
        if (configFile is IConfigurationRoot view && !((IConfigurationRoot)builder.Configuration).Providers.Contains(view.Providers.Single()))
            throw new InvalidOperationException($"The host replaced configuration sources after {ConfigFile.Key} was added; add sources instead of replacing them.");

        builder.Logging.Configure(o => o.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId | ActivityTrackingOptions.ParentId);
        AddProxy(builder, configFile);
#if EMBEDDED_STORE
        Gateway.Admission.Embedded.EmbeddedStoreExtensions.AddEmbeddedStore(builder.Services);
#endif
        AddHosting(builder);
        AddAdminListener(builder);
        GatewayTelemetry.Add(builder);

        var app = builder.Build();
        LastGoodJsonFiles.Report(app.Configuration, app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(LastGoodJsonFiles).FullName!));
        // The request metrics outermost, so they count the answer the client got (an unhandled error's 500, routing's
        // refusals in the error shape).
        GatewayTelemetry.Use(app);
        app.UseMiddleware<UnhandledErrors>();
        app.UseMiddleware<RoutingRefusals>();
        // Empty KnownProxies/KnownNetworks in ASP.NET Core means "trust every proxy", so the middleware runs only
        // when the operator names the proxies in front; otherwise a spoofed X-Forwarded-For is simply ignored.
        if (app.Services.GetRequiredService<IOptions<ForwardedHeadersSettings>>().Value.Any)
            app.UseForwardedHeaders();
        app.UseRouting();

        app.MapGet("/healthz", () => Results.Text("ok", "text/plain"));
        // prometheus-net answers any method; a scrape is a GET (or HEAD), anything else 405 in the error shape.
        app.MapMetrics("/metrics").WithMetadata(new HttpMethodMetadata([HttpMethods.Get, HttpMethods.Head]));
        app.MapWaitingRoom();
        app.MapReverseProxy(pipeline =>
        {
            pipeline.UseForwardingMetrics();
            // The gate comes first: a request without an admission never costs a load-balancing decision.
            pipeline.UseWaitingRoomGate();
            pipeline.UseUnforwardableMethods();
            // An open breaker answers 503 before a destination is even chosen.
            pipeline.UseBreakerGate();
            pipeline.UseSessionAffinity();
            pipeline.UseLoadBalancing();
            pipeline.UsePassiveHealthChecks();
        });
        return app;
    }

    /// <summary>
    /// Where <c>appsettings*.json</c> (and a relative page template) are read from: <c>--contentRoot</c> (or
    /// <c>ASPNETCORE_CONTENTROOT</c>, <c>DOTNET_CONTENTROOT</c>) when given, else the current directory when it holds
    /// an <c>appsettings.json</c> (<c>dotnet run</c>, the image's <c>/app</c>), else the directory of the gateway's
    /// own files. ASP.NET Core alone would take the current directory whatever it holds, and a gateway started as
    /// <c>dotnet /opt/gateway/Gateway.Proxy.dll</c> from anywhere else would run without the shipped settings: no
    /// request limits of ours, every request logged at Information.
    /// </summary>
    internal static string? ContentRoot(string[] args, string currentDirectory)
    {
        var given = new ConfigurationBuilder()
            .AddEnvironmentVariables("DOTNET_")
            .AddEnvironmentVariables("ASPNETCORE_")
            .AddCommandLine(args)
            .Build()[HostDefaults.ContentRootKey];
        if (!string.IsNullOrWhiteSpace(given))
            return null;
        return File.Exists(Path.Combine(currentDirectory, "appsettings.json")) ? null : AppContext.BaseDirectory;
    }

    private static void AddProxy(WebApplicationBuilder builder, IConfiguration? configFile)
    {
        builder.Services.AddValidatedOptions<ForwardingOptions, ForwardingOptionsValidator>(ForwardingOptions.SectionName);
        if (configFile is not null)
        {
            // The operator's file alone names the rooms (as it alone names the routes, below).
            builder.Services.PostConfigure<Admission.Rooms.WaitingRoomOptions>(o =>
            {
                o.Rooms.Clear();
                configFile.GetSection("WaitingRoom:Rooms").Bind(o.Rooms);
            });
        }
        builder.Services.AddValidatedOptions<ResilienceOptions, ResilienceOptionsValidator>(ResilienceOptions.SectionName);
        builder.Services.AddSingleton<ClusterBreakers>();
        builder.Services.AddReverseProxy()
            .LoadFromConfig((configFile ?? builder.Configuration).GetSection("ReverseProxy"))
            .AddConfigFilter<ProxyConfigRules>()
            .AddWaitingRoom();
        // YARP's own factory, plus the Forwarding settings and each cluster's resilience pipeline.
        builder.Services.Replace(ServiceDescriptor.Singleton<IForwarderHttpClientFactory, GatewayForwarderHttpClientFactory>());
    }

    /// <summary>
    /// With <c>Admin:Urls</c> Kestrel listens there too (the admin API answers only there): the public URLs
    /// (<c>--urls</c>, <c>ASPNETCORE_URLS</c>, else <c>HTTP_PORTS</c>/<c>HTTPS_PORTS</c>, else ASP.NET Core's
    /// default) plus the admin ones. Endpoints configured under <c>Kestrel:Endpoints</c> replace all of these.
    /// </summary>
    private static void AddAdminListener(WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var publicUrls = configuration[WebHostDefaults.ServerUrlsKey];
        if (string.IsNullOrWhiteSpace(publicUrls))
        {
            var ports = (configuration["HTTP_PORTS"] ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(p => "http://*:" + p)
                .Concat((configuration["HTTPS_PORTS"] ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(p => "https://*:" + p));
            publicUrls = string.Join(';', ports);
            if (publicUrls.Length == 0)
                publicUrls = "http://localhost:5000";
        }
        if (WaitingRoomExtensions.AdminListenUrls(configuration, publicUrls) is { } urls)
            builder.WebHost.UseUrls(urls);
    }

    private static void AddHosting(WebApplicationBuilder builder)
    {
        // The client address and scheme come from the connection unless the operator names the proxies in
        // front of the gateway (ForwardedHeaders:KnownProxies / KnownNetworks).
        builder.Services.AddValidatedOptions<ForwardedHeadersSettings, ForwardedHeadersSettingsValidator>(ForwardedHeadersSettings.SectionName);
        builder.Services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<ForwardedHeadersSettings>>((o, settings) =>
        {
            o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            o.KnownIPNetworks.Clear();
            o.KnownProxies.Clear();
            foreach (var proxy in settings.Value.Proxies())
                o.KnownProxies.Add(proxy);
            foreach (var network in settings.Value.Networks())
                o.KnownIPNetworks.Add(network);
        });

        // Kestrel reads only its endpoints from configuration by itself: Kestrel:Limits apply through KestrelLimits, once,
        // when the server starts. The connection cap then moves onto the public listeners alone (ConnectionCaps), so a
        // full public port leaves the admin port open.
        builder.Services.AddSingleton(sp => new ConnectionCaps(WaitingRoomExtensions.AdminPorts(builder.Configuration),
            sp.GetRequiredService<IOptions<Admission.Admin.AdminOptions>>().Value.MaxConcurrentConnections, sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), sp.GetRequiredService<ILogger<ConnectionCaps>>(), sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddOptions<KestrelServerOptions>().Configure<ConnectionCaps>((kestrel, caps) =>
        {
            KestrelLimits.Bind(builder.Configuration.GetSection("Kestrel:Limits"), kestrel.Limits);
            caps.Apply(kestrel);
        });

        builder.Services.AddValidatedOptions<ShutdownOptions, ShutdownOptionsValidator>(ShutdownOptions.SectionName);
        builder.Services.AddOptions<HostOptions>().Configure<IOptions<ShutdownOptions>>((host, shutdown) =>
            host.ShutdownTimeout = shutdown.Value.DrainDelay + shutdown.Value.Timeout);
        builder.Services.AddSingleton<Draining>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<Draining>());
        builder.Services.AddHealthChecks().AddCheck<Draining>("draining", tags: [WaitingRoomExtensions.ReadinessTag]);
    }
}
