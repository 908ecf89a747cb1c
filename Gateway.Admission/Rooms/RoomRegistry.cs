using System.Collections.Frozen;
using Gateway.Admission.Storage;
using Microsoft.Extensions.Options;

namespace Gateway.Admission.Rooms;

/// <summary>
/// The configured rooms, swapped whole when <c>WaitingRoom</c> configuration reloads (and validates), so a
/// changed rate takes effect on the next request without a restart.
/// </summary>
internal sealed class RoomRegistry : IDisposable
{
    private readonly bool _rankByTree;
    private readonly IDisposable? _subscription;
    private volatile FrozenDictionary<string, Room> _rooms;

    public RoomRegistry(IOptionsMonitor<WaitingRoomOptions> options, IOptions<StoreOptions> store)
    {
        _rankByTree = store.Value.RankByTree;
        _rooms = Build(options.CurrentValue);
        _subscription = options.OnChange(o => _rooms = Build(o));
    }

    public IEnumerable<Room> All => _rooms.Values;

    public bool TryGet(string id, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Room? room) =>
        _rooms.TryGetValue(id, out room);

    public void Dispose() => _subscription?.Dispose();

    private FrozenDictionary<string, Room> Build(WaitingRoomOptions options) =>
        options.Rooms.ToFrozenDictionary(kv => kv.Key, kv => new Room(kv.Key, kv.Value, _rankByTree, options.MaintenanceInterval), StringComparer.Ordinal);
}
