using Gateway.Admission.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Gateway.EtaSimulation.Engine;

/// <summary>
/// The real store the simulation runs against: the gateway's embedded Garnet server, or a Redis server
/// given by connection string. Scenarios share it and keep apart by using their own rooms.
/// </summary>
internal sealed class SimulationStore : IAsyncDisposable
{
    private SimulationStore(StoreConnection connection, string description)
    {
        Connection = connection;
        Description = description;
    }

    public StoreConnection Connection { get; }

    /// <summary>True for the embedded store (positions from the tree index).</summary>
    public bool IsEmbedded => Connection.IsEmbedded;

    /// <summary>"embedded Garnet" or "Redis at host:port", for the report.</summary>
    public string Description { get; }

    /// <param name="redis">A StackExchange.Redis connection string, or null for the embedded store.</param>
    public static async Task<SimulationStore> StartAsync(string? redis)
    {
        var options = Options.Create(new StoreOptions
        {
            ConnectionString = redis,
            // Generous: the simulation pipelines thousands of calls at once and must never see a timeout.
            OperationTimeout = TimeSpan.FromSeconds(30),
            ConnectTimeout = TimeSpan.FromSeconds(5),
        });
        var connection = new StoreConnection(options, NullLogger<StoreConnection>.Instance, new Gateway.Admission.Embedded.EmbeddedStoreFactory());
        await connection.StartAsync(CancellationToken.None);
        if (!await connection.PingAsync(TimeSpan.FromSeconds(5)))
        {
            await connection.DisposeAsync();
            throw new InvalidOperationException($"The store at '{redis ?? "embedded"}' does not answer PING.");
        }
        return new SimulationStore(connection, connection.IsEmbedded ? "embedded Garnet" : "Redis at " + redis);
    }

    public ValueTask DisposeAsync() => Connection.DisposeAsync();
}
