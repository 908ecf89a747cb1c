using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using Gateway.Admission.Queue;
using Gateway.Admission.Rooms;
using Gateway.Tests.Infrastructure;
using StackExchange.Redis;

namespace Gateway.Tests.Gate;

/// <summary>Three gateway instances on one Redis behave as one queue: strict FIFO and the bucket bound across instances.</summary>
public sealed class MultiInstanceFairnessTests : MultiInstanceFairness
{
    [Fact]
    public async Task ThousandUsersThroughThreeInstances_AdmittedWithZeroInversions_WithinTheBucketBound()
    {
        await using var redis = await RedisServer.StartNewAsync();
        await ThousandUsersThroughThreeInstancesAsync(redis.ConnectionString);
    }
}

/// <summary>The same three instances over a Redis Cluster (three masters, three replicas).</summary>
public sealed class ClusterMultiInstanceFairnessTests(RedisClusterFixture fixture) : MultiInstanceFairness, IClassFixture<RedisClusterFixture>
{
    [Fact]
    public Task ThousandUsersThroughThreeInstancesOverACluster_AdmittedWithZeroInversions_WithinTheBucketBound() =>
        ThousandUsersThroughThreeInstancesAsync(fixture.Cluster.ConnectionString);
}

/// <summary>The multi-instance fairness scenario, run over whatever store a connection string names.</summary>
public abstract class MultiInstanceFairness
{
    /// <summary>
    /// A thousand users join through three gateway instances over <paramref name="redis"/> and poll until
    /// admitted; then every promotion record is read back: zero FIFO inversions, and never more promotions
    /// in any interval than the bucket allows.
    /// </summary>
    protected static async Task ThousandUsersThroughThreeInstancesAsync(string redis)
    {
        const int users = 1000;
        const int capacity = 20;
        const double refill = 150;
        // This checks order and the bucket, not latency: with the tests' usual 0.5 s store timeout, one slow call
        // on a loaded machine answered 503 and failed the run.
        await using var first = await GatewayTestBed.StartAsync(redis, capacity: capacity, refill: refill, configure: s => s["Store:OperationTimeout"] = "00:00:05");
        await using var second = await GatewayHost.StartAsync(redis, first.Settings);
        await using var third = await GatewayHost.StartAsync(redis, first.Settings);
        var clients = new[] { first.Client, new QueueClient(second.CreateClient()), new QueueClient(third.CreateClient()) };
        var room = first.Room;

        // joins, spread over the three instances, 32 at a time
        var tokens = new ConcurrentDictionary<string, int>();
        await Parallel.ForEachAsync(Enumerable.Range(0, users), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, _) =>
        {
            var (code, body, _) = await clients[i % 3].JoinAsync(room, $"user-{i}");
            Assert.Equal(HttpStatusCode.Accepted, code);
            tokens[body["waiting_token"]!.GetValue<string>()] = i % 3;
        });
        Assert.Equal(users, tokens.Count);

        // everyone polls through "their" instance and enters as soon as ready
        var admitted = new ConcurrentDictionary<string, bool>();
        var deadline = DateTime.UtcNow.AddSeconds(120);
        await Parallel.ForEachAsync(tokens, new ParallelOptions { MaxDegreeOfParallelism = 48 }, async (entry, _) =>
        {
            var client = clients[entry.Value];
            while (DateTime.UtcNow < deadline)
            {
                var (code, body, _) = await client.EnterAsync(entry.Key);
                if (code == HttpStatusCode.OK)
                {
                    admitted[entry.Key] = true;
                    return;
                }
                Assert.Equal(HttpStatusCode.Forbidden, code);
                Assert.Equal("NOT_READY", body["error"]!["code"]!.GetValue<string>());
                await Task.Delay(Random.Shared.Next(20, 60), CancellationToken.None);
            }
        });
        Assert.Equal(users, admitted.Count);

        // Read the promotion record of every user straight from Redis: join sequence and ready time.
        var mux = await ConnectionMultiplexer.ConnectAsync(redis);
        await using var _ = mux;
        var records = (await mux.GetDatabase().HashGetAllAsync(RoomKeys.For(room)[RoomKey.Places]))
            .Select(e => ((string)e.Value!).Split('|'))
            .Select(f => (State: f[0], Seq: long.Parse(f[1], CultureInfo.InvariantCulture), Ready: long.Parse(f[3], CultureInfo.InvariantCulture)))
            .ToList();
        Assert.Equal(users, records.Count);
        Assert.All(records, r => Assert.Equal("a", r.State));

        // Zero inversions: in join order, ready times never go backwards.
        var byJoin = records.OrderBy(r => r.Seq).ToList();
        var inversions = byJoin.Zip(byJoin.Skip(1)).Count(p => p.Second.Ready < p.First.Ready);
        Assert.Equal(0, inversions);

        // The bucket bound over every interval between two promotions (store time, ms resolution).
        var ready = records.Select(r => r.Ready).Order().ToArray();
        for (var i = 0; i < ready.Length; i++)
        {
            for (var j = i; j < ready.Length; j++)
            {
                var count = j - i + 1;
                var allowed = capacity + refill * (ready[j] - ready[i] + 1) / 1000.0;
                if (count > allowed)
                    Assert.Fail($"{count} promotions within {ready[j] - ready[i]} ms > {allowed:F1}");
            }
        }
    }
}
