using System.Net;
using Gateway.Admission.Hosting;
using Gateway.Admission.Queue;
using Gateway.Admission.Rooms;
using Gateway.Admission.Storage;
using Gateway.Admission.Tokens;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace OpeningStampede;

/// <summary>
/// One gateway instance without HTTP: the production composition of the waiting room (AddWaitingRoomCore) on
/// its own store connection, configured like the gateways (environment variables). With maintenance it runs
/// the real RoomMaintenance, which shuffles the pre-queue at the opening; without, it only talks to the store.
/// </summary>
internal sealed class Instance : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly bool _started;

    private Instance(IHost host, bool started)
    {
        _host = host;
        _started = started;
    }

    public IQueueStore Store => _host.Services.GetRequiredService<IQueueStore>();

    public RoomRegistry Rooms => _host.Services.GetRequiredService<RoomRegistry>();

    public WaitingTokens Tokens => _host.Services.GetRequiredService<WaitingTokens>();

    public StackExchange.Redis.IDatabase Database => _host.Services.GetRequiredService<StoreConnection>().Database;

    public EndPoint? RedisEndpoint => _host.Services.GetRequiredService<StoreConnection>().Database.Multiplexer.GetEndPoints().FirstOrDefault();

    public static async Task<Instance> StartAsync(bool maintenance)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], EnvironmentName = Environments.Production });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddWaitingRoomCore();
        // No embedded store is registered: without ConnectionStrings__Redis the start fails and says so.
        var host = builder.Build();
        if (maintenance)
            await host.StartAsync();
        else
            await host.Services.GetRequiredService<StoreConnection>().StartAsync(CancellationToken.None);
        return new Instance(host, maintenance);
    }

    public async ValueTask DisposeAsync()
    {
        if (_started)
            await _host.StopAsync();
        if (_host is IAsyncDisposable disposable)
            await disposable.DisposeAsync();
        else
            _host.Dispose();
    }
}
