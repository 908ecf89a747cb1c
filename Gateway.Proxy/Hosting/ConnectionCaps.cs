using System.Diagnostics.Metrics;
using Gateway.Proxy.Diagnostics;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;

namespace Gateway.Proxy.Hosting;

/// <summary>
/// The cap on open client connections (<c>Kestrel:Limits:MaxConcurrentConnections</c>), counted on the public
/// listeners only. Kestrel's own cap counts every listener together, so a pod whose public port filled up also
/// refused the kubelet's probes and Prometheus on the admin port (<c>Admin:Urls</c>), and was restarted by its
/// liveness probe with all its connections. Here the public listeners share the configured cap and the admin ones
/// have their own (<c>Admin:MaxConcurrentConnections</c>, 1,000): a full public port never closes the way in for
/// probes and operators. A connection over its cap is closed before a byte is read (before TLS, too), as Kestrel does,
/// and counted in <c>gateway_connections_rejected_total{listener}</c>; <c>gateway_connections_open{listener}</c> is
/// what is open. An upgraded connection (a WebSocket) gives its place back, as with Kestrel's own cap: those count
/// against <c>Kestrel:Limits:MaxConcurrentUpgradedConnections</c>. TCP listeners only: HTTP/3 (QUIC) connections,
/// which this gateway does not enable, would not be counted.
/// </summary>
internal sealed partial class ConnectionCaps
{
    private static readonly TimeSpan LogEvery = TimeSpan.FromSeconds(10);

    private readonly Listener _public;
    private readonly Listener _admin;
    private readonly IReadOnlySet<int> _adminPorts;

    public ConnectionCaps(IReadOnlySet<int> adminPorts, int adminCap, IMeterFactory meterFactory, ILogger<ConnectionCaps> logger, TimeProvider time)
    {
        _adminPorts = adminPorts;
        _public = new Listener("public", logger, time);
        _admin = new Listener("admin", logger, time) { Cap = adminCap };
        var meter = meterFactory.Create(ForwardingMetrics.MeterName);
        var rejected = meter.CreateCounter<long>("gateway.connections.rejected", description: "Client connections closed on arrival because their listener's connection cap was reached, by listener (public, admin).");
        _public.Rejected = rejected;
        _admin.Rejected = rejected;
        // Both series exist from the start (at 0), so a rate() or an alert on them needs no "or vector(0)".
        rejected.Add(0, new KeyValuePair<string, object?>("listener", _public.Name));
        rejected.Add(0, new KeyValuePair<string, object?>("listener", _admin.Name));
        meter.CreateObservableGauge("gateway.connections.open", Observe, description: "Client connections open, by listener (public, admin).");
    }

    /// <summary>
    /// Takes the cap off Kestrel's limits (bound from <c>Kestrel:Limits</c> before this runs) and puts it on every
    /// public listener Kestrel will open, from <c>--urls</c>, <c>Admin:Urls</c> or <c>Kestrel:Endpoints</c> alike.
    /// </summary>
    public void Apply(KestrelServerOptions kestrel)
    {
        _public.Cap = kestrel.Limits.MaxConcurrentConnections;
        kestrel.Limits.MaxConcurrentConnections = null;
        // The gateway's only endpoint defaults: ConfigureEndpointDefaults replaces any earlier ones.
        kestrel.ConfigureEndpointDefaults(listen =>
        {
            var listener = IsAdmin(listen) ? _admin : _public;
            listen.Use(next => connection => listener.ServeAsync(connection, next));
        });
    }

    /// <summary>The cap of the public listeners (null: none).</summary>
    public long? PublicCap => _public.Cap;

    /// <summary>The cap of the admin listeners.</summary>
    public long? AdminCap => _admin.Cap;

    private bool IsAdmin(ListenOptions listen) => listen.IPEndPoint is { } endpoint && _adminPorts.Contains(endpoint.Port);

    private IEnumerable<Measurement<long>> Observe()
    {
        yield return new Measurement<long>(_public.Open, new KeyValuePair<string, object?>("listener", _public.Name));
        yield return new Measurement<long>(_admin.Open, new KeyValuePair<string, object?>("listener", _admin.Name));
    }

    /// <summary>One kind of listener's count of open connections against its cap.</summary>
    private sealed class Listener(string name, ILogger logger, TimeProvider time)
    {
        private long _open;
        private long _rejectedSinceLog;
        private long _lastLog = long.MinValue;

        public string Name => name;
        public long? Cap { get; set; }
        public Counter<long>? Rejected { get; set; }
        public long Open => Volatile.Read(ref _open);

        public async Task ServeAsync(ConnectionContext connection, ConnectionDelegate next)
        {
            if (!TryTake())
            {
                Reject();
                // Returning without reading closes the connection (Kestrel disposes it), as its own cap does.
                return;
            }
            // Kestrel releases an upgraded connection's place through this feature, which its own cap sets.
            var place = new Place(this);
            connection.Features.Set<IDecrementConcurrentConnectionCountFeature>(place);
            try
            {
                await next(connection);
            }
            finally
            {
                place.ReleaseConnection();
            }
        }

        /// <summary>One connection's place under the cap, given back once: on upgrade or when the connection ends.</summary>
        private sealed class Place(Listener listener) : IDecrementConcurrentConnectionCountFeature
        {
            private int _released;

            public void ReleaseConnection()
            {
                if (Interlocked.Exchange(ref _released, 1) == 0)
                    Interlocked.Decrement(ref listener._open);
            }
        }

        /// <summary>One more open connection, unless that would pass the cap (never over it, not even for a moment).</summary>
        private bool TryTake()
        {
            while (true)
            {
                var open = Volatile.Read(ref _open);
                if (open >= Cap)
                    return false;
                if (Interlocked.CompareExchange(ref _open, open + 1, open) == open)
                    return true;
            }
        }

        /// <summary>Counts the rejection; logs at most once per <see cref="LogEvery"/>, with how many since (a full pod sees thousands a second).</summary>
        private void Reject()
        {
            Rejected?.Add(1, new KeyValuePair<string, object?>("listener", name));
            Interlocked.Increment(ref _rejectedSinceLog);
            var now = time.GetTimestamp();
            var last = Interlocked.Read(ref _lastLog);
            if ((last != long.MinValue && time.GetElapsedTime(last, now) < LogEvery) || Interlocked.CompareExchange(ref _lastLog, now, last) != last)
                return;
            LogRejected(logger, name, Cap ?? 0, Interlocked.Exchange(ref _rejectedSinceLog, 0));
        }
    }

    [LoggerMessage(102, LogLevel.Warning, "The {Listener} listeners are at their cap of {Cap} open connections: {Rejected} new connection(s) closed since the last report (gateway_connections_rejected_total).")]
    private static partial void LogRejected(ILogger logger, string listener, long cap, long rejected);
}
