using System.Globalization;
using Gateway.Admission.Queue;
using Gateway.Admission.Rooms;
using Gateway.Admission.Tokens;
using Gateway.Tests.Infrastructure;
using StackExchange.Redis;

namespace Gateway.Tests.Queue;

/// <summary>
/// Every script call does bounded work: 300,000 people whose deadline passed (a mass abandonment) cost a
/// status poll nothing extra, and the cleanup goes in bounded steps spread over ticks. Measured inside
/// redis-server with SLOWLOG (every call logged with its duration), so no timing of the test machine counts.
/// </summary>
public sealed class MassAbandonmentTests(RedisStoreFixture fixture) : IClassFixture<RedisStoreFixture>
{
    private const int Abandoned = 300_000;

    [Fact]
    public async Task ThreeHundredThousandExpiredHeads_StatusPollsStayUnderAFewMilliseconds_AndTicksAreBounded()
    {
        var room = fixture.NewRoom(capacity: 1, refill: 0.0001);
        var db = fixture.Database;
        await FillExpiredAsync(db, room);
        var waiting = new List<string>();
        for (var i = 0; i < 20; i++)
            waiting.Add((await fixture.Store.JoinAsync(room, new JoinRequest(WaitingTokens.NewPlaceId(), $"c:live{i}", null, "192.0.2.1", 0, 0, 0))).Id);

        // Load (compile) the scripts before measuring: that happens once per server, not per call.
        await fixture.Store.StatusAsync(room, waiting);
        await fixture.Store.TickAsync(room, TickWork.ReadOnly());
        await using var admin = await ConnectionMultiplexer.ConnectAsync(fixture.Redis!.ConnectionString + ",allowAdmin=true");
        var server = admin.GetServers()[0];
        // Every call over 0.5 ms is logged with its duration (the commands inside a script are logged too, so not every call).
        await server.ExecuteAsync("CONFIG", "SET", "slowlog-log-slower-than", "500");
        await server.ExecuteAsync("CONFIG", "SET", "slowlog-max-len", "100000");
        await server.ExecuteAsync("SLOWLOG", "RESET");

        var tick = new TickWork(RoomMaintenance.SweepLimit, RoomMaintenance.PromoteLimit, RoomMaintenance.ShuffleLimit, false, 0, 0);
        long dropped = 0;
        for (var round = 0; round < 30; round++)
        {
            await fixture.Store.StatusAsync(room, waiting);
            dropped += (await fixture.Store.TickAsync(room, tick)).Dropped;
        }

        var statusSha = QueueScripts.StoreClock.Status.Hex;
        var tickSha = QueueScripts.StoreClock.Tick.Hex;
        var entries = (RedisResult[])(await server.ExecuteAsync("SLOWLOG", "GET", "-1"))!;
        var statusMicros = new List<long>();
        var tickMicros = new List<long>();
        foreach (var entry in entries.Select(e => (RedisResult[])e!))
        {
            var args = (RedisResult[])entry[3]!;
            if (!string.Equals((string?)args[0], "EVALSHA", StringComparison.OrdinalIgnoreCase))
                continue;
            var sha = (string?)args[1];
            if (sha == statusSha)
                statusMicros.Add((long)entry[2]);
            else if (sha == tickSha)
                tickMicros.Add((long)entry[2]);
        }
        await server.ExecuteAsync("CONFIG", "SET", "slowlog-log-slower-than", "10000");

        // The ticks that sweep 200 places each take over 0.5 ms, so they are logged: the measurement works.
        Assert.True(tickMicros.Count >= 25, $"only {tickMicros.Count} ticks logged");
        // Wall time inside Redis, on a shared machine where the server can be descheduled: medians decide, and
        // the worst call only has to be far from what unbounded work costs (seconds; Redis' script limit is 5 s).
        // A status poll of 20 places: most are under 0.5 ms (not even logged), however many are dead ahead of them.
        Assert.True(statusMicros.Count < 15, $"status calls over 0.5 ms: {string.Join(", ", statusMicros)} us");
        Assert.True(statusMicros.DefaultIfEmpty(0).Max() < 100_000, $"status calls over 0.5 ms: {string.Join(", ", statusMicros)} us");
        // A tick examines at most SweepLimit expired places: a few milliseconds.
        Assert.True(Median(tickMicros) < 50_000, $"ticks: {string.Join(", ", tickMicros)} us");
        Assert.True(tickMicros.Max() < 1_000_000, $"ticks: {string.Join(", ", tickMicros)} us");
        // Each tick drops exactly what its sweep examines, plus any dead head its promotion meets.
        Assert.InRange(dropped, 30L * RoomMaintenance.SweepLimit, 30L * (RoomMaintenance.SweepLimit + RoomMaintenance.PromoteLimit));
        // Everyone live is still there, in order.
        var places = (await fixture.Store.StatusAsync(room, waiting)).Places;
        Assert.All(places, p => Assert.Equal(PlaceState.Waiting, p.State));
        Assert.True(places.Select(p => p.Position!.Value).SequenceEqual(places.Select(p => p.Position!.Value).Order()), "live places keep their order");
    }

    private static long Median(List<long> values) => values.Order().ElementAt(values.Count / 2);

    /// <summary>300,000 waiting places whose deadline passed an hour ago, written straight into the room's keys.</summary>
    private static async Task FillExpiredAsync(IDatabase db, Room room)
    {
        var past = DateTimeOffset.UtcNow.AddHours(-1).ToUnixTimeMilliseconds();
        const int batch = 10_000;
        for (var start = 0; start < Abandoned; start += batch)
        {
            var queue = new SortedSetEntry[batch];
            var deadlines = new SortedSetEntry[batch];
            var records = new HashEntry[batch];
            for (var i = 0; i < batch; i++)
            {
                var seq = start + i + 1;
                var id = "dead" + seq.ToString(CultureInfo.InvariantCulture);
                queue[i] = new SortedSetEntry(id, seq);
                deadlines[i] = new SortedSetEntry(id, past);
                records[i] = new HashEntry(id, $"w|{seq}|{past}|0|||192.0.2.9|");
            }
            await Task.WhenAll(
                db.SortedSetAddAsync(room.Keys[RoomKey.Queue], queue),
                db.SortedSetAddAsync(room.Keys[RoomKey.Deadlines], deadlines),
                db.HashSetAsync(room.Keys[RoomKey.Places], records));
        }
        await db.HashSetAsync(room.Keys[RoomKey.Meta], "seq", Abandoned);
    }
}
