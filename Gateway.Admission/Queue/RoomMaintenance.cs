using Gateway.Admission.Diagnostics;
using Gateway.Admission.Rooms;
using Gateway.Admission.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Admission.Queue;

/// <summary>
/// Runs every room's maintenance script on every instance, every <see cref="WaitingRoomOptions.MaintenanceInterval"/>:
/// drops abandoned users even if nobody else polls, keeps admissions flowing, and refreshes the snapshot
/// the ETA and the gauges read. Running it on every instance is safe because the script is atomic.
/// </summary>
internal sealed class RoomMaintenance(
    IQueueStore store,
    RoomRegistry rooms,
    RoomSnapshots snapshots,
    WaitingRoomMetrics metrics,
    IOptionsMonitor<WaitingRoomOptions> options,
    TimeProvider time,
    ILogger<RoomMaintenance> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            await TickAllAsync();
            try
            {
                await Task.Delay(options.CurrentValue.MaintenanceInterval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    internal async Task TickAllAsync()
    {
        foreach (var room in rooms.All)
        {
            try
            {
                var snapshot = await store.TickAsync(room);
                snapshots.Set(room.Id, snapshot);
                metrics.Promoted(room.Id, snapshot.Promoted);
                metrics.Swept(room.Id, snapshot.Dropped, snapshot.Expired);
                metrics.RoomState(room.Id, snapshot.QueueLength, Math.Floor(snapshot.TokensAvailable), room.Options.RefillPerSecond);
                if (snapshot.Dropped > 0 || snapshot.Expired > 0)
                    Log.Swept(logger, room.Id, snapshot.Dropped, snapshot.Expired);
            }
            catch (StoreUnavailableException ex)
            {
                Log.MaintenanceFailed(logger, room.Id, ex.Message);
            }
        }
    }
}
