using Gateway.SampleBackends;

namespace Gateway.Tests.Infrastructure;

/// <summary>Sample backends plus one gateway over a given store, started per test and torn down after.</summary>
public sealed class GatewayTestBed : IAsyncDisposable
{
    private GatewayTestBed(SampleBackendsApp backends, GatewayHost gateway, Dictionary<string, string?> settings, string room)
    {
        Room = room;
        Backends = backends;
        Gateway = gateway;
        Settings = settings;
        Client = new QueueClient(gateway.CreateClient());
    }

    /// <summary>The room gating all three routes; unique per test bed so tests sharing a Redis never meet.</summary>
    public string Room { get; }

    public SampleBackendsApp Backends { get; }

    public GatewayHost Gateway { get; }

    /// <summary>The settings the gateway's watched appsettings.json was written from; edit and call <see cref="GatewayHost.RewriteConfigAsync"/>.</summary>
    public Dictionary<string, string?> Settings { get; }

    public QueueClient Client { get; }

    /// <summary>Starts the backends and a gateway; <paramref name="host"/> may add to the gateway's builder (e.g. a log provider).</summary>
    public static async Task<GatewayTestBed> StartAsync(string? redis, Action<Dictionary<string, string?>>? configure = null, int capacity = 100, double refill = 10,
        Action<Microsoft.AspNetCore.Builder.WebApplicationBuilder>? host = null)
    {
        var backends = await SampleBackendsApp.StartAsync(new SampleBackendsOptions { ReservationPort = 0, InventoryPort = 0, PaymentPort = 0, CapacityPerSecond = 100_000 });
        var room = "r" + Guid.NewGuid().ToString("N")[..10];
        var settings = TestConfig.Gateway(backends, room, capacity, refill);
        configure?.Invoke(settings);
        var gateway = await GatewayHost.StartAsync(redis, settings, configure: host);
        return new GatewayTestBed(backends, gateway, settings, room);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Http.Dispose();
        await Gateway.DisposeAsync();
        await Backends.DisposeAsync();
    }
}
