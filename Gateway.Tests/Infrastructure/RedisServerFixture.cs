namespace Gateway.Tests.Infrastructure;

/// <summary>One real redis-server shared by a test class; tests keep apart by using their own rooms.</summary>
public sealed class RedisServerFixture : IAsyncLifetime
{
    public RedisServer Server { get; private set; } = null!;

    /// <summary>The connection string for a store name used in theories: "redis" or "embedded" (null).</summary>
    public string? For(string store) => store == "redis" ? Server.ConnectionString : null;

    public async Task InitializeAsync() => Server = await RedisServer.StartNewAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}
