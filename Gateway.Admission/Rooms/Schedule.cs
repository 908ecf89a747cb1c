using System.Globalization;
using Gateway.Admission.Queue;

namespace Gateway.Admission.Rooms;

/// <summary>A room's effective schedule as this instance knows it: configuration, overridden by the operators' live values from the last tick.</summary>
internal static class Schedule
{
    /// <summary>When the room opens (null = open): the admin override if any, else configuration.</summary>
    public static DateTimeOffset? OpensAt(Room room, RoomSnapshot? snapshot) => Instant(snapshot, ControlFields.OpensAt) ?? room.Options.OpensAt;

    /// <summary>From when joins go to the pre-queue (null = no pre-queue).</summary>
    public static DateTimeOffset? PrequeueFrom(Room room, RoomSnapshot? snapshot) => Instant(snapshot, ControlFields.PrequeueFrom) ?? room.Options.PrequeueFrom;

    /// <summary>When joins close (null = never).</summary>
    public static DateTimeOffset? JoinsCloseAt(Room room, RoomSnapshot? snapshot) => Instant(snapshot, ControlFields.JoinsCloseAt) ?? room.Options.JoinsCloseAt;

    /// <summary>
    /// Whether the opening shuffles the pre-queue (else it opens in join order): as the pre-queue's first joiner fixed
    /// it once anyone is pre-queued, else as configured or overridden now.
    /// </summary>
    public static bool ShuffleAtOpen(Room room, RoomSnapshot? snapshot)
    {
        if (snapshot?.PrequeueShuffled is { } fixedByTheFirstJoiner)
            return fixedByTheFirstJoiner;
        // As the scripts read it: a number, 1 = shuffle; anything else that is a number = join order.
        if (snapshot is not null && snapshot.Overrides.TryGetValue("shuffle", out var value) &&
            double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
            return number == 1;
        return room.Options.ShuffleAtOpen;
    }

    private static DateTimeOffset? Instant(RoomSnapshot? snapshot, string field) =>
        snapshot?.Overrides.TryGetValue(field, out var value) == true && long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms) && ms > 0
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms)
            : null;
}
