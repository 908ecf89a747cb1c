using System.Net;

namespace Gateway.SampleBackends;

/// <summary>
/// Where the sample backends listen and how much load each one takes. Bound from the <c>Backends</c>
/// configuration section when run from the command line.
/// </summary>
public sealed record SampleBackendsOptions
{
    // Counts per window are packed into 32 bits (see CapacityGate); a billion a second is far beyond any test.
    internal const double MaxCapacityPerSecond = 1_000_000_000;

    /// <summary>Loopback address every service binds to (an IP literal or <c>localhost</c>).</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>Port of the reservation service; 0 picks a free port.</summary>
    public int ReservationPort { get; init; } = 5101;

    /// <summary>Port of the inventory service; 0 picks a free port.</summary>
    public int InventoryPort { get; init; } = 5102;

    /// <summary>Port of the payment service; 0 picks a free port.</summary>
    public int PaymentPort { get; init; } = 5103;

    /// <summary>
    /// Requests each service admits per one-second window (fractions allowed, e.g. 0.5); the rest get
    /// 503 with <c>Retry-After: 1</c>.
    /// </summary>
    public double CapacityPerSecond { get; init; } = 500;

    /// <summary>Artificial delay added to every admitted request.</summary>
    public TimeSpan Latency { get; init; } = TimeSpan.Zero;

    /// <summary>Checks every value and returns the loopback address to bind, or says what to fix.</summary>
    internal IPAddress Validate()
    {
        var address = string.Equals(Host, "localhost", StringComparison.OrdinalIgnoreCase)
            ? IPAddress.Loopback
            : IPAddress.TryParse(Host, out var parsed) ? parsed : null;
        if (address is null || !IPAddress.IsLoopback(address))
        {
            throw new ArgumentException(
                $"Backends:Host '{Host}' is not a loopback address; the sample backends only listen on loopback (e.g. 127.0.0.1 or ::1).");
        }

        int[] ports = [ReservationPort, InventoryPort, PaymentPort];
        if (ports.Any(p => p is < 0 or > IPEndPoint.MaxPort))
        {
            throw new ArgumentException($"Backends ports must be between 0 and {IPEndPoint.MaxPort}; 0 picks a free port.");
        }

        if (ports.Where(p => p != 0).GroupBy(p => p).Any(g => g.Count() > 1))
        {
            throw new ArgumentException("Backends:ReservationPort, InventoryPort and PaymentPort must differ (or be 0).");
        }

        if (!double.IsFinite(CapacityPerSecond) || CapacityPerSecond <= 0 || CapacityPerSecond > MaxCapacityPerSecond)
        {
            throw new ArgumentException(
                $"Backends:CapacityPerSecond must be greater than 0 and at most {MaxCapacityPerSecond:N0}; got {CapacityPerSecond}.");
        }

        if (Latency < TimeSpan.Zero)
        {
            throw new ArgumentException($"Backends:Latency must not be negative; got {Latency}.");
        }

        return address;
    }
}
