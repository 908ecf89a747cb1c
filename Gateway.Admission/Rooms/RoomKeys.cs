using Gateway.Admission.Queue;
using StackExchange.Redis;

namespace Gateway.Admission.Rooms;

/// <summary>
/// The Redis keys of one room, <c>wr:{eventId}:&lt;suffix&gt;</c>, in the order <see cref="ScriptLayout.Keys"/>
/// declares (KEYS[1..n] of every script). All share the <c>{eventId}</c> hash tag, so every script runs in
/// one Redis Cluster slot.
/// </summary>
internal sealed class RoomKeys
{
    private RoomKeys(RedisKey[] all) => All = all;

    public RedisKey[] All { get; }

    public RedisKey this[RoomKey key] => All[(int)key];

    public static RoomKeys For(string roomId)
    {
        var prefix = "wr:{" + roomId + "}:";
        return new RoomKeys([.. ScriptLayout.Keys.Select(k => (RedisKey)(prefix + k.Suffix))]);
    }
}
