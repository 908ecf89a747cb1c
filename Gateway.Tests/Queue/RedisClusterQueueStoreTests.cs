using Gateway.Admission.Tokens;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Queue;

/// <summary>The whole store contract on a real Redis Cluster, plus proof that its rooms really live on different masters.</summary>
public sealed class RedisClusterQueueStoreTests : QueueStoreContractTests<RedisClusterStoreFixture>, IClassFixture<RedisClusterStoreFixture>
{
    private readonly RedisClusterStoreFixture _fixture;

    public RedisClusterQueueStoreTests(RedisClusterStoreFixture fixture)
        : base(fixture) => _fixture = fixture;

    [Fact]
    public async Task Rooms_EachOnOneSlot_SpreadOverSeveralMasters()
    {
        var masters = new HashSet<int>();
        for (var i = 0; i < 12; i++)
        {
            var room = _fixture.NewRoom();
            var keys = room.Keys.All.Select(k => (string)k!).ToList();
            var slot = Assert.Single(keys.Select(RedisCluster.SlotOf).Distinct());
            var master = await _fixture.Cluster.MasterForSlotAsync(slot);
            Assert.Equal((long)slot, await RespConnection.CommandAsync(master.Port, "CLUSTER", "KEYSLOT", keys[0]));

            var joined = await Store.JoinAsync(room, WaitingTokens.New(room.Id), "u", "idem");
            Assert.True(joined.Created);
            // The bare connection follows no redirect: the key is on that master itself, not found through MOVED.
            Assert.Equal(1L, await RespConnection.CommandAsync(master.Port, "EXISTS", keys[1]));
            masters.Add(master.Port);
        }
        Assert.True(masters.Count >= 2, $"12 random rooms all landed on one master ({string.Join(", ", masters)}): the spread is not exercised");
    }
}
