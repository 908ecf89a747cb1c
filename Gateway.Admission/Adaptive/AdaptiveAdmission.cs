using Gateway.Admission.Diagnostics;
using Gateway.Admission.Gate;
using Gateway.Admission.Queue;
using Gateway.Admission.Rooms;
using Gateway.Admission.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy;

namespace Gateway.Admission.Adaptive;

/// <summary>
/// Runs adaptive admission on this instance: every <see cref="Interval"/>, for each room with
/// <c>Adaptive:Enabled</c>, reads what this instance saw of the clusters the room's routes forward to (the
/// routes whose <c>WaitingRoom</c> metadata names the room, read from YARP's current configuration), lets
/// the room's <see cref="AdaptiveController"/> form a verdict and sends it to adapt.lua, which sets the one
/// rate every instance uses. For a room with adaptation off it clears a rate left in the store.
/// </summary>
internal sealed class AdaptiveAdmission(
    IQueueStore store,
    RoomRegistry rooms,
    RoomSnapshots snapshots,
    BackendHealth health,
    IProxyStateLookup proxy,
    WaitingRoomMetrics metrics,
    TimeProvider time,
    ILogger<AdaptiveAdmission> logger) : BackgroundService
{
    /// <summary>How often the rooms' verdicts are checked (a breaker opening is reported within this).</summary>
    internal static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);

    /// <summary>How often a room with adaptation off retries clearing a rate left in the store.</summary>
    private static readonly TimeSpan ClearEvery = TimeSpan.FromSeconds(5);

    private readonly Dictionary<string, AdaptiveController> _controllers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _cleared = new(StringComparer.Ordinal);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            await StepAsync();
            try
            {
                await Task.Delay(Interval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    internal async Task StepAsync()
    {
        var now = time.GetUtcNow();
        var clusters = ClustersByRoom();
        var configured = new HashSet<string>(StringComparer.Ordinal);
        foreach (var room in rooms.All)
        {
            configured.Add(room.Id);
            try
            {
                if (room.Options.Adaptive.Enabled)
                    await AdaptAsync(room, clusters.GetValueOrDefault(room.Id) ?? [], now);
                else
                    await ClearAsync(room, now);
            }
            catch (StoreUnavailableException ex)
            {
                Log.AdaptiveFailed(logger, room.Id, ex.Message);
            }
        }
        foreach (var gone in _controllers.Keys.Where(id => !configured.Contains(id)).ToList())
            _controllers.Remove(gone);
    }

    private async Task AdaptAsync(Room room, IReadOnlyList<string> clusters, DateTimeOffset now)
    {
        _cleared.Remove(room.Id);
        if (!_controllers.TryGetValue(room.Id, out var controller))
            _controllers[room.Id] = controller = new AdaptiveController();
        var samples = clusters.Select(health.Read).ToList();
        if (controller.Next(now, samples, room.Options.Adaptive) is not { } report)
            return;
        var before = controller.Rate;
        var result = await store.AdaptAsync(room, report);
        controller.Applied(time.GetUtcNow(), result, room.Options.Adaptive);
        if (result.Action == AdaptAction.None)
            return;
        metrics.AdaptiveChange(room.Id, result.Action);
        var from = before ?? room.Options.RefillPerSecond;
        var to = result.RatePerSecond ?? room.Options.RefillPerSecond;
        if (result.Action == AdaptAction.Pause)
            Log.AdaptivePaused(logger, room.Id, from, report.Evidence);
        else
            Log.AdaptiveRateChanged(logger, room.Id, result.Action.ToString().ToLowerInvariant(), from, to, result.UsedPerSecond ?? -1, report.Evidence);
    }

    private async Task ClearAsync(Room room, DateTimeOffset now)
    {
        _controllers.Remove(room.Id);
        if (snapshots.Get(room.Id)?.AdaptiveRefillPerSecond is null)
            return;
        if (_cleared.TryGetValue(room.Id, out var last) && now - last < ClearEvery)
            return;
        _cleared[room.Id] = now;
        var result = await store.AdaptAsync(room, AdaptReport.Off);
        if (result.Action == AdaptAction.Off)
        {
            metrics.AdaptiveChange(room.Id, result.Action);
            Log.AdaptiveOff(logger, room.Id);
        }
    }

    /// <summary>Room id -> the clusters of the routes it gates, from YARP's configuration in force.</summary>
    private Dictionary<string, List<string>> ClustersByRoom()
    {
        var byRoom = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var route in proxy.GetRoutes())
        {
            var config = route.Config;
            if (config.ClusterId is not { Length: > 0 } cluster || config.Metadata is null
                || !config.Metadata.TryGetValue(WaitingRoomGate.MetadataKey, out var room) || string.IsNullOrEmpty(room))
                continue;
            if (!byRoom.TryGetValue(room, out var list))
                byRoom[room] = list = [];
            if (!list.Contains(cluster, StringComparer.Ordinal))
                list.Add(cluster);
        }
        return byRoom;
    }
}
