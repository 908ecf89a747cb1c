namespace Gateway.Admission.Storage;

/// <summary>
/// Starts an in-process Redis-compatible store when <c>ConnectionStrings:Redis</c> is unset. Provided by the
/// Gateway.Admission.Embedded assembly (Microsoft Garnet), which the demo, the tests and a default build of the
/// gateway include; a production image built without it needs a Redis connection string.
/// </summary>
public interface IEmbeddedStoreFactory
{
    /// <summary>Starts a store for one gateway process, on loopback, with a random password.</summary>
    /// <param name="memory">Main-log memory, Garnet size syntax (e.g. <c>512m</c>).</param>
    IEmbeddedStore Start(string memory);
}

/// <summary>A running embedded store; disposing stops it.</summary>
public interface IEmbeddedStore : IDisposable
{
    /// <summary>The StackExchange.Redis configuration string to reach it (loopback endpoint and password).</summary>
    string ConnectionString { get; }

    /// <summary>The loopback port it listens on, for the log.</summary>
    int Port { get; }
}
