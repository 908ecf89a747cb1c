using Gateway.Admission.Embedded;
using Gateway.Admission.Hosting;
using Gateway.Admission.Queue;
using Gateway.Admission.Rooms;
using Gateway.Admission.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Gateway.Tests.Infrastructure;

/// <summary>A started store (real redis-server or the embedded Garnet) with the production queue store over it.</summary>
public abstract class StoreFixture : IAsyncLifetime
{
    private ServiceProvider? _services;
    private int _roomCounter;

    internal IQueueStore Store => _services!.GetRequiredService<IQueueStore>();

    internal StoreConnection Connection => _services!.GetRequiredService<StoreConnection>();

    public IDatabase Database => Connection.Database;

    /// <summary>The same store with its scripts reading the time from <paramref name="clock"/> (the test-only script variant).</summary>
    internal IQueueStore StoreWithClock(TimeProvider clock) =>
        RedisQueueStore.WithArgumentClock(Connection, _services!.GetRequiredService<Gateway.Admission.Diagnostics.WaitingRoomMetrics>(), Microsoft.Extensions.Logging.Abstractions.NullLogger<RedisQueueStore>.Instance, clock);

    public RedisServer? Redis { get; private set; }

    public abstract string Name { get; }

    public async Task InitializeAsync()
    {
        var settings = new Dictionary<string, string?> { ["Store:OperationTimeout"] = "00:00:05", ["Store:PositionIndex"] = PositionIndex };
        var connectionString = await StartServerAsync();
        if (connectionString is not null)
            settings["ConnectionStrings:Redis"] = connectionString;
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Warning));
        services.AddSingleton<IHostEnvironment>(new TestEnvironment());
        services.AddSingleton<IConfiguration>(configuration);
        services.AddWaitingRoomCore();
        services.AddEmbeddedStore();
        _services = services.BuildServiceProvider();
        await Connection.StartAsync(default);
    }

    public async Task DisposeAsync()
    {
        if (_services is not null)
            await _services.DisposeAsync();
        await StopServerAsync();
    }

    /// <summary>Starts the server the store connects to and returns its connection string; null = the embedded store.</summary>
    protected virtual async Task<string?> StartServerAsync()
    {
        if (!UseRedis)
            return null;
        Redis = await RedisServer.StartNewAsync();
        return Redis.ConnectionString;
    }

    /// <summary>Stops what <see cref="StartServerAsync"/> started; runs even when the start failed half-way.</summary>
    protected virtual async Task StopServerAsync()
    {
        if (Redis is not null)
            await Redis.DisposeAsync();
    }

    /// <summary>A fresh room (its own keys) so tests sharing the store never see each other.</summary>
    internal Room NewRoom(int capacity = 1, double refill = 0.0001, TimeSpan? abandonAfter = null, TimeSpan? admissionTtl = null, int maxQueue = 1_000_000, Func<RoomOptions, RoomOptions>? with = null)
    {
        var options = new RoomOptions
        {
            Capacity = capacity,
            RefillPerSecond = refill,
            AbandonAfter = abandonAfter ?? TimeSpan.FromMinutes(1),
            AdmissionTtl = admissionTtl ?? TimeSpan.FromMinutes(10),
            MaxQueueLength = maxQueue,
        };
        return new($"t{Interlocked.Increment(ref _roomCounter)}-{Guid.NewGuid():N}"[..20], with?.Invoke(options) ?? options, Connection.RankByTree, TimeSpan.FromMilliseconds(200));
    }

    protected abstract bool UseRedis { get; }

    /// <summary>The Store:PositionIndex the fixture runs with.</summary>
    protected virtual string PositionIndex => "Auto";

    private sealed class TestEnvironment : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = "Development";
        public string ApplicationName { get; set; } = "Gateway.Tests";
        public string ContentRootPath { get; set; } = AppContext.BaseDirectory;
        public Microsoft.Extensions.FileProviders.IFileProvider ContentRootFileProvider { get; set; } = new Microsoft.Extensions.FileProviders.NullFileProvider();
    }
}

/// <summary>The queue store over a real redis-server.</summary>
public sealed class RedisStoreFixture : StoreFixture
{
    public override string Name => "redis";

    protected override bool UseRedis => true;
}

/// <summary>The queue store over a real redis-server, counting positions with the Fenwick tree instead of ZRANK.</summary>
public sealed class RedisTreeStoreFixture : StoreFixture
{
    public override string Name => "redis-tree";

    protected override bool UseRedis => true;

    protected override string PositionIndex => "Tree";
}

/// <summary>The queue store over the embedded Garnet server (positions from the tree, as in production).</summary>
public sealed class EmbeddedStoreFixture : StoreFixture
{
    public override string Name => "embedded";

    protected override bool UseRedis => false;
}

/// <summary>
/// The queue store over a real Redis Cluster (three masters, three replicas): every room's keys share one
/// hash slot, and the random room ids spread the rooms over all three masters.
/// </summary>
public sealed class RedisClusterStoreFixture : StoreFixture
{
    public RedisCluster Cluster { get; private set; } = null!;

    public override string Name => "redis-cluster";

    protected override bool UseRedis => true;

    protected override async Task<string?> StartServerAsync()
    {
        Cluster = await RedisCluster.StartNewAsync();
        return Cluster.ConnectionString;
    }

    protected override async Task StopServerAsync()
    {
        if (Cluster is not null)
            await Cluster.DisposeAsync();
    }
}
