using Gateway.Admission.Rooms;

namespace Gateway.Admission.Queue;

/// <summary>
/// The one store abstraction of the waiting room. Each call is one atomic script in one round trip;
/// every failure to reach the store surfaces as <see cref="Storage.StoreUnavailableException"/>.
/// </summary>
internal interface IQueueStore
{
    Task<QueueEntry> JoinAsync(Room room, string candidateToken, string? userId, string? idempotencyKey);

    Task<QueueEntry> StatusAsync(Room room, string token);

    Task<QueueEntry> EnterAsync(Room room, string token);

    /// <summary>Remembers the ETA first promised to <paramref name="token"/> so its accuracy can be scored at admission.</summary>
    Task RecordFirstEtaAsync(Room room, string token, long etaSeconds);

    /// <summary>Removes the token; true when it existed.</summary>
    Task<bool> LeaveAsync(Room room, string token);

    Task<RoomSnapshot> TickAsync(Room room);
}
