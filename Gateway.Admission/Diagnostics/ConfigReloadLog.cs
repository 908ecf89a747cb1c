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
        Log.ProxyConfigRejected(_logger, Messages(exception));

    public void ConfigurationLoaded(IReadOnlyList<IProxyConfig> proxyConfigs)
    {
        // Loading is followed by applying (or rejecting); that outcome is what takes effect, and is logged.
    }

    public void ConfigurationLoadingFailed(IProxyConfigProvider configProvider, Exception exception) =>
        Log.ProxyConfigLoadFailed(_logger, exception.Message);

    public void Dispose() => _subscription?.Dispose();

    /// <summary>
    /// The exception's message with those of the exceptions inside it: YARP wraps what a config filter threw ("An
    /// exception was thrown from the configuration callbacks for route 'x'"), and only the inner message names the key.
    /// </summary>
    internal static string Messages(Exception exception)
    {
        var messages = new List<string>();
        var pending = new Queue<Exception>([exception]);
        while (pending.TryDequeue(out var next) && messages.Count < 10)
        {
            if (!messages.Contains(next.Message))
                messages.Add(next.Message);
            foreach (var inner in next is AggregateException aggregate ? aggregate.InnerExceptions : next.InnerException is { } one ? [one] : [])
                pending.Enqueue(inner);
        }
        return string.Join(" -> ", messages);
    }

    private static string Describe(WaitingRoomOptions options) => string.Join(", ", options.Rooms
        .OrderBy(r => r.Key, StringComparer.Ordinal)
        .Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.Key}: burst {r.Value.Capacity}, {r.Value.RefillPerSecond}/s")));
}
