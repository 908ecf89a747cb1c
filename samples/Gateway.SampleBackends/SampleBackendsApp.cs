using Gateway.SampleBackends.Hosting;
using Gateway.SampleBackends.Inventory;
using Gateway.SampleBackends.Payments;
using Gateway.SampleBackends.Reservations;

namespace Gateway.SampleBackends;

/// <summary>
/// The reservation, inventory and payment sample services, each on its own loopback port, running in
/// this process until disposed.
/// </summary>
public sealed class SampleBackendsApp : IAsyncDisposable
{
    private readonly IReadOnlyList<BackendHost> _hosts;

    private SampleBackendsApp(IReadOnlyList<BackendHost> hosts)
    {
        _hosts = hosts;
        ReservationUrl = Host(ReservationService.ServiceName).Url;
        InventoryUrl = Host(InventoryService.ServiceName).Url;
        PaymentUrl = Host(PaymentService.ServiceName).Url;
    }

    /// <summary>The reservation service's bound address, e.g. <c>http://127.0.0.1:5101/</c>.</summary>
    public Uri ReservationUrl { get; }

    /// <summary>The inventory service's bound address, e.g. <c>http://127.0.0.1:5102/</c>.</summary>
    public Uri InventoryUrl { get; }

    /// <summary>The payment service's bound address, e.g. <c>http://127.0.0.1:5103/</c>.</summary>
    public Uri PaymentUrl { get; }

    /// <summary>Starts the three services; a port of 0 picks a free one (read the chosen address from the <c>*Url</c> properties).</summary>
    /// <exception cref="ArgumentException">An option is invalid; the message says which and how to fix it.</exception>
    public static async Task<SampleBackendsApp> StartAsync(SampleBackendsOptions options, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var address = options.Validate();
        var time = TimeProvider.System;
        (IBackendService Service, int Port)[] services =
        [
            (new ReservationService(time), options.ReservationPort),
            (new InventoryService(), options.InventoryPort),
            (new PaymentService(time), options.PaymentPort),
        ];

        var started = new List<BackendHost>(services.Length);
        try
        {
            foreach (var (service, port) in services)
            {
                started.Add(await BackendHost.StartAsync(service, address, port, options, time, ct));
            }
        }
        catch
        {
            await Task.WhenAll(started.Select(h => h.DisposeAsync().AsTask()));
            throw;
        }

        return new SampleBackendsApp(started);
    }

    /// <summary>Counters of one service: <c>"reservation"</c>, <c>"inventory"</c> or <c>"payment"</c>.</summary>
    /// <exception cref="ArgumentException">The name is none of the three.</exception>
    public BackendStats Stats(string service) => Host(service).Stats();

    /// <summary>Changes how many requests per second one service admits, from now on (as <c>POST /_backend/capacity</c> does).</summary>
    /// <exception cref="ArgumentException">The name is none of the three, or the capacity is not positive.</exception>
    public void SetCapacity(string service, double perSecond)
    {
        if (!double.IsFinite(perSecond) || perSecond <= 0 || perSecond > SampleBackendsOptions.MaxCapacityPerSecond)
        {
            throw new ArgumentException($"The capacity must be greater than 0 and at most {SampleBackendsOptions.MaxCapacityPerSecond:N0}; got {perSecond}.", nameof(perSecond));
        }

        Host(service).SetCapacity(perSecond);
    }

    /// <summary>Stops all three services.</summary>
    public async ValueTask DisposeAsync() =>
        await Task.WhenAll(_hosts.Select(h => h.DisposeAsync().AsTask()));

    private BackendHost Host(string service) =>
        _hosts.FirstOrDefault(h => string.Equals(h.Name, service, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException(
            $"Unknown service '{service}'; use \"reservation\", \"inventory\" or \"payment\".", nameof(service));
}
