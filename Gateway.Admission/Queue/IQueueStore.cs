using Gateway.Admission.Rooms;

namespace Gateway.Admission.Queue;

/// <summary>
/// The one store abstraction of the waiting room. Each call is one atomic script (or one command) in one
/// round trip, doing bounded work; every failure to reach the store surfaces as
/// <see cref="Storage.StoreUnavailableException"/>.
/// </summary>
internal interface IQueueStore
{
    Task<StoredJoin> JoinAsync(Room room, JoinRequest request);

    /// <summary>Heartbeats and reports a batch of places of one room (one script call for all of them).</summary>
    Task<StatusBatch> StatusAsync(Room room, IReadOnlyList<string> ids);

    /// <summary>Admits a ready place under <paramref name="admissionId"/> (kept on repeats: the stored id is returned).</summary>
    Task<StoredEnter> EnterAsync(Room room, string id, string admissionId);

    /// <summary>Remembers the ETA first promised to a place so its accuracy can be scored at admission.</summary>
    Task RecordFirstEtaAsync(Room room, string id, long etaSeconds);

    /// <summary>Ends a place whatever its state; returns the state it had (<see cref="PlaceState.None"/> when it did not exist) and the admission it ended, if any.</summary>
    Task<StoredLeave> LeaveAsync(Room room, string id);

    /// <summary>Ends an admission on every gate; true when it was in force.</summary>
    Task<bool> RevokeAsync(Room room, string admissionId);

    Task<RoomSnapshot> TickAsync(Room room, TickWork work);

    /// <summary>Sets (value) or removes (null) operator overrides of a room, all in one step.</summary>
    Task SetOverridesAsync(Room room, IReadOnlyDictionary<string, string?> changes);

    /// <summary>Removes every operator override of a room (<see cref="ControlFields.Operator"/>), leaving the rest of its control state.</summary>
    Task ClearOverridesAsync(Room room);

    /// <summary>Sends one instance's verdict on the room's backends to the adaptive controller in the store (adapt.lua).</summary>
    Task<AdaptResult> AdaptAsync(Room room, AdaptReport report);
}
