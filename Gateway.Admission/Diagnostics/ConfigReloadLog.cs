using System.Globalization;
using Gateway.Admission.Gate;
using Gateway.Admission.Rooms;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Configuration;

namespace Gateway.Admission.Diagnostics;

/// <summary>
/// Says in the log when configuration changes take effect (or fail to): the <c>WaitingRoom</c> section with
/// each room's bucket, and YARP's routes and clusters. Secrets (signing keys) are never described.
/// </summary>
internal sealed class ConfigReloadLog : IConfigChangeListener, IDisposable
{
    private readonly ILogger<ConfigReloadLog> _logger;
    private readonly IDisposable? _subscription;

    public ConfigReloadLog(IOptionsMonitor<WaitingRoomOptions> options, ILogger<ConfigReloadLog> logger)
    {
        _logger = logger;
        _subscription = options.OnChange(o => Log.RoomsReloaded(logger, o.Rooms.Count, Describe(o)));
    }

    public void ConfigurationApplied(IReadOnlyList<IProxyConfig> proxyConfigs)
    {
        var routes = proxyConfigs.SelectMany(c => c.Routes).ToArray();
        var gated = routes.Count(r => r.Metadata?.ContainsKey(WaitingRoomGate.MetadataKey) == true);
        Log.ProxyConfigApplied(_logger, routes.Length, gated, proxyConfigs.Sum(c => c.Clusters.Count));
    }

    public void ConfigurationApplyingFailed(IReadOnlyList<IProxyConfig> proxyConfigs, Exception exception) =>
        Log.ProxyConfigRejected(_logger, exception.Message);

    public void ConfigurationLoaded(IReadOnlyList<IProxyConfig> proxyConfigs)
    {
        // Loading is followed by applying (or rejecting); that outcome is what takes effect, and is logged.
    }

    public void ConfigurationLoadingFailed(IProxyConfigProvider configProvider, Exception exception) =>
        Log.ProxyConfigLoadFailed(_logger, exception.Message);

    public void Dispose() => _subscription?.Dispose();

    private static string Describe(WaitingRoomOptions options) => string.Join(", ", options.Rooms
        .OrderBy(r => r.Key, StringComparer.Ordinal)
        .Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.Key}: burst {r.Value.Capacity}, {r.Value.RefillPerSecond}/s")));
}
