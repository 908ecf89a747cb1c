using Gateway.Admission.Queue;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Queue;

/// <summary>The whole store contract on a real Redis Cluster, plus proof that its rooms really live on different masters.</summary>
public sealed class RedisClusterQueueStoreTests : QueueStoreContractTests<RedisClusterStoreFixture>, IClassFixture<RedisClusterStoreFixture>
{
    private readonly RedisClusterStoreFixture _fixture;

    public RedisClusterQueueStoreTests(RedisClusterStoreFixture fixture)
        : base(fixture) => _fixture = fixture;

    [Fact]
    public async Task Rooms_EveryKeyOnOneSlot_SpreadOverSeveralMasters()
    {
        var masters = new HashSet<int>();
        for (var i = 0; i < 36; i++)
        {
            var room = _fixture.NewRoom();
            var keys = room.Keys.All.Select(k => (string)k!).ToList();
            // Every key the scripts receive, as ScriptLayout declares them: one slot, by our CRC16 and by the server's.
            Assert.Equal(ScriptLayout.Keys.Select(k => $"wr:{{{room.Id}}}:{k.Suffix}"), keys);
            var slot = Assert.Single(keys.Select(RedisCluster.SlotOf).Distinct());
            var master = await _fixture.Cluster.MasterForSlotAsync(slot);
            await using (var onMaster = await RespConnection.OpenAsync(master.Port))
            {
                foreach (var key in keys)
                    Assert.Equal((long)slot, await onMaster.SendAsync("CLUSTER", "KEYSLOT", key));
            }

            var joined = await JoinAsync(room, "u");
            Assert.Equal(JoinOutcome.Joined, joined.Outcome);
            // A bare connection follows no redirect: one multi-key command over all the room's keys is served by
            // that master itself (no CROSSSLOT, no MOVED), and finds what the join wrote there.
            var exists = await RespConnection.CommandAsync(master.Port, ["EXISTS", .. keys]);
            Assert.True(exists is long n && n >= 2, $"EXISTS over the room's keys on its master answered {exists}");
            foreach (var other in _fixture.Cluster.Nodes.Where(n => n.Port != master.Port && n.IsRunning))
            {
                var elsewhere = await RespConnection.CommandAsync(other.Port, ["EXISTS", .. keys]);
                Assert.True(elsewhere is RespError { Message: var m } && m.StartsWith("MOVED ", StringComparison.Ordinal),
                    $"{other} answered {elsewhere} for keys of slot {slot} served by {master}");
            }
            masters.Add(master.Port);
        }
        Assert.True(masters.Count == 3, $"36 random rooms landed on only {masters.Count} of three masters ({string.Join(", ", masters)})");
    }
}
