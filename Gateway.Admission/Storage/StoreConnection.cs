using Gateway.Admission.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Gateway.Admission.Storage;

/// <summary>
/// The one connection to the store: a single multiplexer to Redis, or to the embedded store when
/// <c>ConnectionStrings:Redis</c> is unset. Commands fail fast while disconnected (no backlog), and every
/// call is bounded by <see cref="StoreOptions.OperationTimeout"/>, so an outage becomes a quick 503.
/// </summary>
internal sealed class StoreConnection(IOptions<StoreOptions> options, ILogger<StoreConnection> logger, IEmbeddedStoreFactory? embeddedFactory = null)
    : IHostedService, IAsyncDisposable
{
    private readonly StoreOptions _options = options.Value;
    private IEmbeddedStore? _embedded;
    private ConnectionMultiplexer? _multiplexer;

    public bool IsEmbedded => _embedded is not null;

    /// <summary>True when positions come from the Fenwick tree rather than ZRANK (see <see cref="StoreOptions.PositionIndex"/>).</summary>
    public bool RankByTree => _options.RankByTree;

    public TimeSpan OperationTimeout => _options.OperationTimeout;

    public IDatabase Database => (_multiplexer ?? throw new InvalidOperationException("The store connection has not been started.")).GetDatabase();

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var connectionString = _options.ConnectionString;
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            if (embeddedFactory is null)
                throw new InvalidOperationException(
                    "ConnectionStrings:Redis is not set, and this build of the gateway has no embedded store. Set ConnectionStrings:Redis " +
                    "(e.g. ConnectionStrings__Redis=\"redis.internal:6379,password=...,ssl=true\"), or run a build with the embedded store for a single local instance.");
            _embedded = embeddedFactory.Start(_options.EmbeddedMemory);
            connectionString = _embedded.ConnectionString;
            Log.EmbeddedStoreStarted(logger, _embedded.Port);
        }

        var config = ConfigurationOptions.Parse(connectionString);
        config.AbortOnConnectFail = false;
        config.BacklogPolicy = BacklogPolicy.FailFast;
        config.AsyncTimeout = config.SyncTimeout = (int)_options.OperationTimeout.TotalMilliseconds;
        config.ConnectTimeout = (int)_options.ConnectTimeout.TotalMilliseconds;
        // 250 ms (default 1 s; the client fails overdue calls only on a heartbeat) cut ClusterFailoverTests' slowest join from 1.1-1.5 s to 0.71-0.95 s (OperationTimeout 0.5 s).
        config.HeartbeatInterval = TimeSpan.FromMilliseconds(250);
        config.ClientName ??= "waiting-room-gateway";
        _multiplexer = await ConnectionMultiplexer.ConnectAsync(config);
        _multiplexer.ConnectionFailed += (_, e) => Log.StoreConnectionFailed(logger, e.EndPoint?.ToString() ?? "?", e.FailureType.ToString());
        _multiplexer.ConnectionRestored += (_, e) => Log.StoreConnectionRestored(logger, e.EndPoint?.ToString() ?? "?");
        if (!_multiplexer.IsConnected)
            Log.StoreNotReachableAtStart(logger);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// True when the store answers a PING within <paramref name="timeout"/>. On a Redis Cluster every connected
    /// master is pinged at once and one answer is enough: this instance reaches the store. A master that is
    /// down, failing over or hung neither fails nor slows the check (see docs/ARCHITECTURE.md, failure behaviour).
    /// </summary>
    public async Task<bool> PingAsync(TimeSpan timeout)
    {
        if (_multiplexer is null || !_multiplexer.IsConnected)
            return false;
        var masters = _multiplexer.GetServers().Where(s => s.IsConnected && !s.IsReplica).ToList();
        if (masters.Count == 0)
            return false;
        using var expiry = new CancellationTokenSource();
        var deadline = Task.Delay(timeout, expiry.Token);
        var pending = masters.Select(AnswersAsync).ToList();
        try
        {
            while (pending.Count > 0)
            {
                var first = await Task.WhenAny([.. pending, deadline]);
                if (first == deadline)
                    return false;
                var answer = (Task<bool>)first;
                if (await answer)
                    return true;
                pending.Remove(answer);
            }
            return false;
        }
        finally
        {
            await expiry.CancelAsync();
        }
    }

    private static async Task<bool> AnswersAsync(IServer server)
    {
        try
        {
            await server.PingAsync();
            return true;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_multiplexer is not null)
            await _multiplexer.DisposeAsync();
        _embedded?.Dispose();
    }
}
