using System.Collections.Concurrent;

namespace Gateway.Admission.Queue;

/// <summary>The latest tick's snapshot of each room, shared by the ETA, the poll cadence, the gauges and the admin API.</summary>
internal sealed class RoomSnapshots
{
    private readonly ConcurrentDictionary<string, RoomSnapshot> _latest = new(StringComparer.Ordinal);

    public RoomSnapshot? Get(string roomId) => _latest.GetValueOrDefault(roomId);

    /// <summary>Keeps <paramref name="snapshot"/>; one without history keeps the history series of the one before.</summary>
    public void Set(string roomId, RoomSnapshot snapshot) =>
        _latest.AddOrUpdate(roomId, snapshot, (_, previous) => snapshot.HasHistory || !previous.HasHistory
            ? snapshot
            : snapshot with { History = previous.History, Vanished = previous.Vanished, QueueLengths = previous.QueueLengths, HasHistory = true });
}
