using System.Net;
using System.Text.Json;
using Gateway.SampleBackends.Capacity;
using Gateway.SampleBackends.Diagnostics;
using Gateway.SampleBackends.Http;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;

namespace Gateway.SampleBackends.Hosting;

/// <summary>One service running on its own Kestrel listener, with its capacity gate and counters.</summary>
internal sealed class BackendHost : IAsyncDisposable
{
    // Long enough for in-flight requests with artificial latency to finish, short enough that tests
    // disposing the backends do not wait the host's default 30 s.
    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(2);

    private readonly WebApplication _app;
    private readonly CapacityGate _gate;
    private readonly BackendCounters _counters;

    private BackendHost(string name, Uri url, WebApplication app, CapacityGate gate, BackendCounters counters)
    {
        Name = name;
        Url = url;
        _app = app;
        _gate = gate;
        _counters = counters;
    }

    public string Name { get; }

    public Uri Url { get; }

    public static async Task<BackendHost> StartAsync(
        IBackendService service, IPAddress address, int port, SampleBackendsOptions options, TimeProvider time, CancellationToken ct)
    {
        // The empty builder reads no appsettings, environment or Kestrel section, so a host process that
        // embeds the backends (tests, the demo) cannot reconfigure or rebind them by accident.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(BackendHost).Assembly.GetName().Name,
        });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(address, port);
        });
        builder.Services.AddRoutingCore();
        builder.Services.ConfigureHttpJsonOptions(json => json.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower);
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = ShutdownTimeout);
        // Warning and up only: the load tool drives tens of thousands of requests a second through here.
        builder.Logging.AddConsole().SetMinimumLevel(LogLevel.Warning);

        var app = builder.Build();
        var gate = new CapacityGate(options.CapacityPerSecond, time);
        var counters = new BackendCounters();

        app.UseRouting();
        app.Use(new CapacityMiddleware(gate, counters, options.Latency, time).InvokeAsync);
        DiagnosticsEndpoints.Map(app, service, gate, counters);
        service.MapEndpoints(app);
        app.MapFallback(static (HttpContext context) =>
            ApiErrors.NotFound(context, "NOT_FOUND", $"No resource at {context.Request.Method} {context.Request.Path}."));

        try
        {
            await app.StartAsync(ct);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        var bound = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        return new BackendHost(service.Name, new Uri(bound + "/"), app, gate, counters);
    }

    public BackendStats Stats() => _counters.Snapshot(_gate);

    public void SetCapacity(double perSecond) => _gate.PerSecond = perSecond;

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
