using Gateway.Admission.Rooms;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Configuration;

namespace Gateway.Admission.Gate;

/// <summary>
/// A YARP config filter: a route gated by a room must name a configured room. Checked on the initial load
/// (start-up fails with the message) and on every reload (YARP keeps the last good routes and logs why).
/// One edit may add a room and a route gated by it: YARP and the rooms' monitor hear of the reload separately and
/// in no set order, so a room the monitor does not know yet is looked up in the configuration as it is now.
/// </summary>
internal sealed class RouteRoomRule(IOptionsMonitor<WaitingRoomOptions> waitingRoom, IOptionsFactory<WaitingRoomOptions> fresh) : IProxyConfigFilter
{
    public ValueTask<ClusterConfig> ConfigureClusterAsync(ClusterConfig cluster, CancellationToken cancel) => ValueTask.FromResult(cluster);

    public ValueTask<RouteConfig> ConfigureRouteAsync(RouteConfig route, ClusterConfig? cluster, CancellationToken cancel)
    {
        if (route.Metadata is null || !route.Metadata.TryGetValue(WaitingRoomGate.MetadataKey, out var room))
            return ValueTask.FromResult(route);
        var rooms = waitingRoom.CurrentValue.Rooms;
        if (!rooms.ContainsKey(room) && !Configured(room))
            throw new InvalidOperationException(
                $"ReverseProxy:Routes:{route.RouteId}:Metadata:WaitingRoom names room '{room}', which is not configured; add WaitingRoom:Rooms:{room} or fix the name (configured: {string.Join(", ", rooms.Keys)}).");
        return ValueTask.FromResult(route);
    }

    /// <summary>Whether the configuration as it is now has the room (and validates: an invalid edit does not count).</summary>
    private bool Configured(string room)
    {
        try
        {
            return fresh.Create(Options.DefaultName).Rooms.ContainsKey(room);
        }
        catch (Exception e) when (e is OptionsValidationException or InvalidOperationException)
        {
            return false;
        }
    }
}
