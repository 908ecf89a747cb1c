using Gateway.Admission.Rooms;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Configuration;

namespace Gateway.Proxy.Configuration;

/// <summary>
/// Rules YARP does not enforce itself, checked on the initial load and on every reload of
/// <c>ReverseProxy</c>. Throwing here fails start-up with the message, and on a reload makes YARP keep
/// the last good configuration and log why.
/// </summary>
internal sealed class ProxyConfigRules(IOptionsMonitor<WaitingRoomOptions> waitingRoom) : IProxyConfigFilter
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

    public ValueTask<RouteConfig> ConfigureRouteAsync(RouteConfig route, ClusterConfig? cluster, CancellationToken cancel)
    {
        if (route.Metadata is not null && route.Metadata.TryGetValue(Admission.Middleware.WaitingRoomGate.MetadataKey, out var room) &&
            !waitingRoom.CurrentValue.Rooms.ContainsKey(room))
            throw new InvalidOperationException(
                $"ReverseProxy:Routes:{route.RouteId}:Metadata:WaitingRoom names room '{room}', which is not configured; add WaitingRoom:Rooms:{room} or fix the name (configured: {string.Join(", ", waitingRoom.CurrentValue.Rooms.Keys)}).");
        return ValueTask.FromResult(route);
    }
}
