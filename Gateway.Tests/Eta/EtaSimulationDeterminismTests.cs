using Gateway.Admission.Rooms;
using Gateway.EtaSimulation.Engine;
using Gateway.EtaSimulation.Scenarios;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Eta;

/// <summary>The harness measures the store and the ETA code, not itself: same seed, same numbers, on either store.</summary>
public sealed class EtaSimulationDeterminismTests
{
    private static readonly Scenario Small = new(
        "small", "A small crowd with some abandoning, two instances.",
        new RoomOptions { Capacity = 20, RefillPerSecond = 5, AbandonAfter = TimeSpan.FromSeconds(30) },
        new FlashCrowd(400, TimeSpan.FromSeconds(5)),
        new Behaviour { PollEvery = (5, 15), AbandonShare = 0.2 },
        Steady: false);

    [Fact]
    public async Task Simulation_SameSeedOnRedisAndOnTheEmbeddedStore_GivesTheSameSamples()
    {
        await using var redis = await RedisServer.StartNewAsync();
        await using var onRedis = await SimulationStore.StartAsync(redis.ConnectionString);
        await using var embedded = await SimulationStore.StartAsync(null);

        var first = await Simulation.RunAsync(Small, onRedis, seed: 7);
        var again = await Simulation.RunAsync(Small, onRedis, seed: 7);
        var garnet = await Simulation.RunAsync(Small, embedded, seed: 7);

        Assert.True(first.AtJoin.Count > 300);
        Assert.Equal(first.AtJoin, again.AtJoin);
        Assert.Equal(first.Later, again.Later);
        Assert.Equal(first.AtJoin, garnet.AtJoin);
        Assert.Equal(first.Later, garnet.Later);
    }

    [Fact]
    public async Task Simulation_DifferentSeed_GivesDifferentArrivals()
    {
        await using var redis = await RedisServer.StartNewAsync();
        await using var store = await SimulationStore.StartAsync(redis.ConnectionString);

        var one = await Simulation.RunAsync(Small, store, seed: 1);
        var two = await Simulation.RunAsync(Small, store, seed: 2);

        Assert.NotEqual(one.AtJoin, two.AtJoin);
    }
}
