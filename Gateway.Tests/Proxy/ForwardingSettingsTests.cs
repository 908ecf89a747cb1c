using System.Collections.Concurrent;
using System.Net;
using Gateway.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Proxy;

/// <summary>
/// <c>Forwarding</c> reaches the client YARP forwards with (not only its validation): the connections per backend
/// are capped by <c>Forwarding:MaxConnectionsPerServer</c>, and a cluster's own <c>HttpClient:MaxConnectionsPerServer</c>
/// wins over it.
/// </summary>
public sealed class ForwardingSettingsTests
{
    [Theory]
    [InlineData("1", null, 1)]
    [InlineData("64", null, 6)]
    [InlineData("64", "2", 2)]
    public async Task ConcurrentRequests_UseAsManyBackendConnectionsAsTheSettingsAllow(string forwardingMax, string? clusterMax, int expected)
    {
        await using var backend = await SlowBackend.StartAsync(holdUntil: expected);
        var settings = new Dictionary<string, string?>
        {
            ["Forwarding:MaxConnectionsPerServer"] = forwardingMax,
            ["ReverseProxy:Routes:slow:ClusterId"] = "slow",
            ["ReverseProxy:Routes:slow:Match:Path"] = "/slow/{**rest}",
            ["ReverseProxy:Clusters:slow:Destinations:d1:Address"] = backend.Address.ToString(),
        };
        if (clusterMax is not null)
            settings["ReverseProxy:Clusters:slow:HttpClient:MaxConnectionsPerServer"] = clusterMax;
        await using var gateway = await GatewayHost.StartAsync(null, settings);
        using var http = gateway.CreateClient();

        var answers = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => http.GetAsync($"/slow/{i}")));

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.StatusCode));
        Assert.Equal(expected, backend.Connections);
        Assert.Equal(expected, backend.PeakConcurrent);
    }

    /// <summary>
    /// A backend that counts its connections and the most requests in flight at once. It holds every request until
    /// <c>holdUntil</c> are in flight (at most 10 s), then answers each 100 ms later: the allowed connections all fill
    /// however slowly the requests arrive, and a cap that did not apply would show as more.
    /// </summary>
    private sealed class SlowBackend : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly int _holdUntil;
        private readonly TaskCompletionSource _filled = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly ConcurrentDictionary<string, bool> _connections = new();
        private int _inFlight;
        private int _peak;

        private SlowBackend(WebApplication app, int holdUntil)
        {
            _app = app;
            _holdUntil = holdUntil;
        }

        public Uri Address { get; private set; } = null!;

        public int Connections => _connections.Count;

        public int PeakConcurrent => Volatile.Read(ref _peak);

        public static async Task<SlowBackend> StartAsync(int holdUntil)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            var backend = new SlowBackend(app, holdUntil);
            app.Run(backend.HandleAsync);
            await app.StartAsync();
            backend.Address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
            return backend;
        }

        private async Task HandleAsync(HttpContext context)
        {
            _connections.TryAdd(context.Features.Get<IHttpConnectionFeature>()!.ConnectionId, true);
            var now = Interlocked.Increment(ref _inFlight);
            int peak;
            while (now > (peak = Volatile.Read(ref _peak)) && Interlocked.CompareExchange(ref _peak, now, peak) != peak)
            {
            }
            if (now >= _holdUntil)
                _filled.TrySetResult();
            try
            {
                await _filled.Task.WaitAsync(TimeSpan.FromSeconds(10));
                await Task.Delay(100);
                await context.Response.WriteAsync("ok");
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }
}
