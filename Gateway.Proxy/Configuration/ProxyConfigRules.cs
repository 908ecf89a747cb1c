using Yarp.ReverseProxy.Configuration;

namespace Gateway.Proxy.Configuration;

/// <summary>
/// Cluster rules YARP does not enforce itself, checked on the initial load and on every reload of
/// <c>ReverseProxy</c>. Throwing here fails start-up with the message, and on a reload makes YARP keep
/// the last good configuration and log why. (The waiting room adds its own rule: a gated route's room must exist.)
/// </summary>
internal sealed class ProxyConfigRules : IProxyConfigFilter
{
    public ValueTask<ClusterConfig> ConfigureClusterAsync(ClusterConfig cluster, CancellationToken cancel)
    {
        if (cluster.Destinations is null || cluster.Destinations.Count == 0)
            throw new InvalidOperationException(
                $"ReverseProxy:Clusters:{cluster.ClusterId} has no destinations; add at least one, e.g. \"Destinations\": {{ \"d1\": {{ \"Address\": \"http://127.0.0.1:5101/\" }} }}.");
        foreach (var (id, destination) in cluster.Destinations)
        {
            if (!Uri.TryCreate(destination.Address, UriKind.Absolute, out var address) || (address.Scheme != Uri.UriSchemeHttp && address.Scheme != Uri.UriSchemeHttps))
                throw new InvalidOperationException(
                    $"ReverseProxy:Clusters:{cluster.ClusterId}:Destinations:{id}:Address '{destination.Address}' is not an absolute http(s) URL, e.g. \"http://127.0.0.1:5101/\".");
        }
        return ValueTask.FromResult(cluster);
    }

    /// <summary>
    /// A route must name a cluster that exists: YARP accepts one that does not and answers its requests with an
    /// empty 503, so a typo in <c>ClusterId</c> would take a route down without a word in the log.
    /// </summary>
    public ValueTask<RouteConfig> ConfigureRouteAsync(RouteConfig route, ClusterConfig? cluster, CancellationToken cancel)
    {
        if (string.IsNullOrEmpty(route.ClusterId))
            throw new InvalidOperationException($"ReverseProxy:Routes:{route.RouteId}:ClusterId is missing; name one of the clusters under ReverseProxy:Clusters.");
        if (cluster is null)
            throw new InvalidOperationException(
                $"ReverseProxy:Routes:{route.RouteId}:ClusterId '{route.ClusterId}' names no cluster; ReverseProxy:Clusters has no '{route.ClusterId}'.");
        return ValueTask.FromResult(route);
    }
}
