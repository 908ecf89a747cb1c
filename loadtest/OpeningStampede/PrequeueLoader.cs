using System.Globalization;
using Gateway.Admission.Queue;
using Gateway.Admission.Rooms;
using Gateway.Admission.Tokens;
using StackExchange.Redis;

namespace OpeningStampede;

/// <summary>
/// Fills a room's pre-queue fast: 1,000 people per script call, each written as join.lua writes a pre-queued
/// place (the place record, the caller's mapping, the client's count, the random score drawn as the gateway
/// draws it). The first person joins through the real join script, and afterwards the real scripts must see
/// loaded people as pre-queued and give a loaded caller's repeat join its existing place, or the load fails.
/// </summary>
internal static class PrequeueLoader
{
    private const int Batch = 1000;
    private const string Client = "127.0.0.1";

    // KEYS: places, callers, pre-queue, client counts. ARGV: joined_ms, client, then (id, caller, score) per person.
    private const string Script = """
        local n = 0
        for i = 3, #ARGV, 3 do
          redis.call('HSET', KEYS[1], ARGV[i], 'p|0|' .. ARGV[1] .. '|0||' .. ARGV[i + 1] .. '|' .. ARGV[2] .. '|')
          redis.call('HSET', KEYS[2], ARGV[i + 1], ARGV[i])
          redis.call('ZADD', KEYS[3], ARGV[i + 2], ARGV[i])
          n = n + 1
        end
        redis.call('HINCRBY', KEYS[4], ARGV[2], n)
        return n
        """;

    public static async Task<string[]> LoadAsync(Instance loader, Room room, int people, CancellationToken cancellationToken)
    {
        var ids = new string[people];
        var first = await loader.Store.JoinAsync(room, Request(0, WaitingTokens.NewPlaceId()));
        if (first is not { Outcome: JoinOutcome.Joined, Place.State: PlaceState.Prequeued })
            throw new InvalidOperationException($"the first join was {first.Outcome} / {first.Place.State}, not a new pre-queued place");
        ids[0] = first.Id;

        var db = loader.Database;
        RedisKey[] keys = [room.Keys[RoomKey.Places], room.Keys[RoomKey.Callers], room.Keys[RoomKey.Prequeue], room.Keys[RoomKey.ClientPlaces]];
        var joined = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        var batches = Enumerable.Range(0, ((people - 1) + Batch - 1) / Batch).Select(b => (From: 1 + (b * Batch), To: Math.Min(people, 1 + ((b + 1) * Batch))));
        await Parallel.ForEachAsync(batches, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = cancellationToken }, async (batch, _) =>
        {
            var args = new List<RedisValue>(2 + ((batch.To - batch.From) * 3)) { joined, Client };
            for (var i = batch.From; i < batch.To; i++)
            {
                ids[i] = WaitingTokens.NewPlaceId();
                args.Add(ids[i]);
                args.Add(Caller(i));
                args.Add(QueueService.PrequeueScore().ToString("R", CultureInfo.InvariantCulture));
            }
            await db.ScriptEvaluateAsync(Script, keys, [.. args]);
        });

        // The real scripts agree: loaded people are pre-queued, without a position, and a repeat join is their place.
        var sample = Enumerable.Range(0, Math.Min(256, people)).Select(k => ids[(int)((long)k * people / Math.Min(256, people))]).ToArray();
        var status = await loader.Store.StatusAsync(room, sample);
        if (status.Places.Any(p => p.State != PlaceState.Prequeued || p.Position is not null))
            throw new InvalidOperationException("the status script does not see every loaded person as pre-queued");
        var again = await loader.Store.JoinAsync(room, Request(people - 1, WaitingTokens.NewPlaceId()));
        if (again.Outcome != JoinOutcome.Existing || again.Id != ids[people - 1])
            throw new InvalidOperationException($"a loaded caller's repeat join was {again.Outcome}, not their place");
        if (await db.SortedSetLengthAsync(room.Keys[RoomKey.Prequeue]) != people)
            throw new InvalidOperationException("the pre-queue does not hold everyone loaded");

        return [.. ids.Select(id => loader.Tokens.Issue(room.Id, id))];

        JoinRequest Request(int i, string id) => new(id, Caller(i), null, Client, 0, 0, QueueService.PrequeueScore());
    }

    private static string Caller(int i) => "c:stampede-" + i.ToString(CultureInfo.InvariantCulture);
}
