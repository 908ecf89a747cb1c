using StackExchange.Redis;

namespace Gateway.Admission.Rooms;

/// <summary>
/// The Redis keys of one room. All share the <c>{eventId}</c> hash tag so every script runs in one
/// Redis Cluster slot. The order matches KEYS[1..9] in Queue/Scripts/common.lua.
/// </summary>
internal sealed record RoomKeys(RedisKey[] All)
{
    public RedisKey FirstEta => All[7];

    public static RoomKeys For(string roomId)
    {
        var prefix = "wr:{" + roomId + "}:";
        return new RoomKeys(
        [
            prefix + "q",      // ZSET waiting token -> join sequence
            prefix + "tok",    // HASH token -> 'state|seq|joined|exp|user|idem'
            prefix + "dl",     // ZSET token -> deadline (ms, store time)
            prefix + "users",  // HASH user id -> token
            prefix + "idem",   // HASH idempotency key -> token
            prefix + "meta",   // HASH seq, tokens, ts, admitted, entered
            prefix + "hist",   // HASH 10-second bucket -> admissions
            prefix + "eta",    // HASH token -> ETA (s) promised at join, scored at admission
            prefix + "rank",   // HASH Fenwick tree: index -> waiting users (positions on stores without a fast ZRANK)
        ]);
    }
}
