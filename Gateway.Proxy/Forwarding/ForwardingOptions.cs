namespace Gateway.Proxy.Forwarding;

/// <summary>
/// The <c>Forwarding</c> section: how the shared, pooled <see cref="System.Net.Http.SocketsHttpHandler"/> that
/// YARP forwards with talks to the backends. Per-cluster settings in <c>ReverseProxy:Clusters:*:HttpClient</c>
/// (e.g. MaxConnectionsPerServer) and <c>HttpRequest:ActivityTimeout</c> still apply on top.
/// </summary>
public sealed class ForwardingOptions
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "Forwarding";

    /// <summary>How long to wait for a TCP connection to a backend.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Idle keep-alive connections are closed after this long.</summary>
    public TimeSpan PooledConnectionIdleTimeout { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Connections are recycled after this long so DNS changes and rebalanced backends are picked up.</summary>
    public TimeSpan PooledConnectionLifetime { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Default connection limit per backend when a cluster does not set its own.</summary>
    public int MaxConnectionsPerServer { get; init; } = 1024;
}
