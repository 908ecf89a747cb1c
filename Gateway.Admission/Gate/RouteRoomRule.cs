using Gateway.Admission.Rooms;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Configuration;

namespace Gateway.Admission.Gate;

/// <summary>
/// A YARP config filter: a route gated by a room must name a configured room. Checked on the initial load
/// (start-up fails with the message) and on every reload (YARP keeps the last good routes and logs why).
/// </summary>
internal sealed class RouteRoomRule(IOptionsMonitor<WaitingRoomOptions> waitingRoom) : IProxyConfigFilter
{
    public ValueTask<ClusterConfig> ConfigureClusterAsync(ClusterConfig cluster, CancellationToken cancel) => ValueTask.FromResult(cluster);

    public ValueTask<RouteConfig> ConfigureRouteAsync(RouteConfig route, ClusterConfig? cluster, CancellationToken cancel)
    {
        var rooms = waitingRoom.CurrentValue.Rooms;
        if (route.Metadata is not null && route.Metadata.TryGetValue(WaitingRoomGate.MetadataKey, out var room) && !rooms.ContainsKey(room))
            throw new InvalidOperationException(
                $"ReverseProxy:Routes:{route.RouteId}:Metadata:WaitingRoom names room '{room}', which is not configured; add WaitingRoom:Rooms:{room} or fix the name (configured: {string.Join(", ", rooms.Keys)}).");
        return ValueTask.FromResult(route);
    }
}
