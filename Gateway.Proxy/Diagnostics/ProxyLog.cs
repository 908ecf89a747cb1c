namespace Gateway.Proxy.Diagnostics;

/// <summary>The proxy's own log events (the waiting room's are in Gateway.Admission's Log; Draining logs 101, ConnectionCaps 102).</summary>
internal static partial class ProxyLog
{
    [LoggerMessage(110, LogLevel.Warning, "Circuit breaker of cluster {Cluster} opened for {BreakDuration} (last failure: {Failure}); requests to it get 503 with Retry-After until a probe succeeds.")]
    public static partial void BreakerOpened(ILogger logger, string cluster, TimeSpan breakDuration, string failure);

    [LoggerMessage(111, LogLevel.Information, "Circuit breaker of cluster {Cluster} is half-open: one request probes the cluster.")]
    public static partial void BreakerHalfOpened(ILogger logger, string cluster);

    [LoggerMessage(112, LogLevel.Information, "Circuit breaker of cluster {Cluster} closed: requests flow again.")]
    public static partial void BreakerClosed(ILogger logger, string cluster);
}
