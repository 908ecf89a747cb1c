using System.Globalization;
using Gateway.Admission.Queue;
using Gateway.Admission.Rooms;

namespace Gateway.Admission.Admin;

/// <summary>A room as the admin API shows it, from its configuration and one snapshot read from the store.</summary>
internal static class RoomView
{
    public static AdminRoom Of(Room room, RoomSnapshot snapshot)
    {
        var overrides = Overrides(snapshot.Overrides);
        var options = room.Options;
        return new AdminRoom(
            room.Id,
            Name(snapshot.State),
            overrides.Capacity ?? options.Capacity,
            overrides.RefillPerSecond ?? options.RefillPerSecond,
            snapshot.EffectiveRefillPerSecond,
            overrides.MaxActive ?? options.MaxActive,
            snapshot.Waiting,
            snapshot.Ready,
            snapshot.Active,
            snapshot.AdmittedTotal,
            snapshot.OldestJoinedAt is { } oldest ? (long)Math.Max(0, (snapshot.TakenAt - oldest).TotalSeconds) : 0,
            snapshot.Prequeued,
            Schedule.PrequeueFrom(room, snapshot),
            Schedule.OpensAt(room, snapshot),
            Schedule.JoinsCloseAt(room, snapshot),
            overrides.ShuffleAtOpen ?? options.ShuffleAtOpen,
            overrides,
            snapshot.TakenAt);
    }

    public static string Name(RoomState state) => state switch
    {
        RoomState.Paused => "paused",
        RoomState.Closed => "closed",
        _ => "open",
    };

    /// <summary>The operators' fields of the control hash, typed; anything unreadable is left out (the scripts ignore it too).</summary>
    public static AdminOverrides Overrides(IReadOnlyDictionary<string, string> control) => new()
    {
        State = control.GetValueOrDefault(ControlFields.State) is "open" or "paused" or "closed" ? control[ControlFields.State] : null,
        Capacity = Int(control, ControlFields.Capacity),
        RefillPerSecond = control.TryGetValue(ControlFields.Refill, out var refill) && double.TryParse(refill, NumberStyles.Float, CultureInfo.InvariantCulture, out var r) ? r : null,
        MaxActive = Int(control, ControlFields.MaxActive),
        PrequeueFrom = Instant(control, ControlFields.PrequeueFrom),
        OpensAt = Instant(control, ControlFields.OpensAt),
        JoinsCloseAt = Instant(control, ControlFields.JoinsCloseAt),
        ShuffleAtOpen = control.GetValueOrDefault(ControlFields.Shuffle) switch
        {
            "1" => true,
            "0" => false,
            _ => null,
        },
    };

    private static int? Int(IReadOnlyDictionary<string, string> control, string field) =>
        control.TryGetValue(field, out var value) && int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : null;

    private static DateTimeOffset? Instant(IReadOnlyDictionary<string, string> control, string field) =>
        control.TryGetValue(field, out var value) && long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms) && ms > 0
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms)
            : null;
}
