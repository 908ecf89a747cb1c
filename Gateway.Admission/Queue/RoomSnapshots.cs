using System.Collections.Concurrent;

namespace Gateway.Admission.Queue;

/// <summary>The latest maintenance snapshot of each room, shared by the ETA and the gauges.</summary>
internal sealed class RoomSnapshots
{
    private readonly ConcurrentDictionary<string, RoomSnapshot> _latest = new(StringComparer.Ordinal);

    public RoomSnapshot? Get(string roomId) => _latest.GetValueOrDefault(roomId);

    public void Set(string roomId, RoomSnapshot snapshot) => _latest[roomId] = snapshot;
}
