using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using Gateway.Proxy.Hosting;
using Gateway.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Hosting;

/// <summary>
/// <c>Kestrel:Limits:MaxConcurrentConnections</c> caps the public listeners only: with <c>Admin:Urls</c> set, a
/// full public port still lets the kubelet's probes and Prometheus in on the admin port, and every connection
/// closed over the cap is counted. Real Kestrel, real sockets.
/// </summary>
public sealed class ConnectionCapsTests
{
    [Fact]
    public async Task PublicPortFull_NewPublicConnectionsClosed_AdminPortStillServesProbesAndMetrics()
    {
        var adminPort = RedisServer.FreePort();
        await using var gateway = await GatewayHost.StartAsync(null, new Dictionary<string, string?>
        {
            ["Kestrel:Limits:MaxConcurrentConnections"] = "3",
            ["Admin:Urls"] = $"http://127.0.0.1:{adminPort}",
        });
        using var meters = new ConnectionMeters(gateway);
        var held = new List<TcpClient>();
        try
        {
            for (var i = 0; i < 3; i++)
                held.Add(await OpenServedAsync(gateway.BaseAddress));

            Assert.Null(await TryRequestAsync(gateway.BaseAddress));
            Assert.Null(await TryRequestAsync(gateway.BaseAddress));

            using var admin = new HttpClient { BaseAddress = gateway.AdminAddress };
            Assert.Equal("ok", await admin.GetStringAsync("/healthz"));
            using var ready = await admin.GetAsync("/readyz");
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            // The process-wide Prometheus registry also holds other test gateways' samples: the export is checked for
            // its names, the figures on this gateway's own meter.
            var metrics = await admin.GetStringAsync("/metrics");
            Assert.Matches("(?m)^gateway_connections_rejected_total\\{listener=\"public\"\\} ", metrics);
            Assert.Matches("(?m)^gateway_connections_open\\{listener=\"admin\"\\} ", metrics);
            Assert.Equal(2, meters.Rejected("public"));
            Assert.Equal(0, meters.Rejected("admin"));
            Assert.Equal(3, meters.Open("public"));
            Assert.True(meters.Open("admin") >= 1);

            // A place frees up as soon as a held connection closes.
            held[0].Dispose();
            held.RemoveAt(0);
            var deadline = DateTime.UtcNow.AddSeconds(10);
            string? answer;
            while ((answer = await TryRequestAsync(gateway.BaseAddress)) is null && DateTime.UtcNow < deadline)
                await Task.Delay(50);
            Assert.StartsWith("HTTP/1.1 200", answer, StringComparison.Ordinal);
        }
        finally
        {
            held.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public async Task AdminConnections_DoNotCountAgainstThePublicCap()
    {
        var adminPort = RedisServer.FreePort();
        await using var gateway = await GatewayHost.StartAsync(null, new Dictionary<string, string?>
        {
            ["Kestrel:Limits:MaxConcurrentConnections"] = "2",
            ["Admin:Urls"] = $"http://127.0.0.1:{adminPort}",
        });
        var held = new List<TcpClient>();
        try
        {
            for (var i = 0; i < 5; i++)
                held.Add(await OpenServedAsync(gateway.AdminAddress));
            held.Add(await OpenServedAsync(gateway.BaseAddress));
            held.Add(await OpenServedAsync(gateway.BaseAddress));

            Assert.Null(await TryRequestAsync(gateway.BaseAddress));
        }
        finally
        {
            held.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public async Task AdminPortFull_ItsOwnCapHolds_ThePublicPortServesOn()
    {
        var adminPort = RedisServer.FreePort();
        await using var gateway = await GatewayHost.StartAsync(null, new Dictionary<string, string?>
        {
            ["Kestrel:Limits:MaxConcurrentConnections"] = "2",
            ["Admin:Urls"] = $"http://127.0.0.1:{adminPort}",
            ["Admin:MaxConcurrentConnections"] = "2",
        });
        using var meters = new ConnectionMeters(gateway);
        Assert.Equal(2, gateway.Services.GetRequiredService<ConnectionCaps>().AdminCap);
        using var first = await OpenServedAsync(gateway.AdminAddress);
        using var second = await OpenServedAsync(gateway.AdminAddress);

        Assert.Null(await TryRequestAsync(gateway.AdminAddress));
        using var publicOne = await OpenServedAsync(gateway.BaseAddress);
        Assert.Equal(1, meters.Rejected("admin"));
        Assert.Equal(0, meters.Rejected("public"));
    }

    [Fact]
    public async Task UpgradedConnections_GiveTheirPlaceBack_AsWithKestrelsOwnCap()
    {
        await using var backend = await EchoWebSockets.StartAsync();
        var adminPort = RedisServer.FreePort();
        await using var gateway = await GatewayHost.StartAsync(null, new Dictionary<string, string?>
        {
            ["Kestrel:Limits:MaxConcurrentConnections"] = "2",
            ["Admin:Urls"] = $"http://127.0.0.1:{adminPort}",
            ["ReverseProxy:Routes:ws:ClusterId"] = "ws",
            ["ReverseProxy:Routes:ws:Match:Path"] = "/ws/{**rest}",
            ["ReverseProxy:Clusters:ws:Destinations:d1:Address"] = backend.Address.ToString(),
        });
        using var meters = new ConnectionMeters(gateway);
        var sockets = new List<ClientWebSocket>();
        try
        {
            // More WebSockets than the cap: each releases its place once upgraded.
            for (var i = 0; i < 4; i++)
            {
                var socket = new ClientWebSocket();
                sockets.Add(socket);
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await socket.ConnectAsync(new Uri($"ws://{gateway.BaseAddress.Authority}/ws/echo"), timeout.Token);
                await socket.SendAsync(Encoding.UTF8.GetBytes("hello " + i), WebSocketMessageType.Text, true, timeout.Token);
                var buffer = new byte[64];
                var read = await socket.ReceiveAsync(buffer, timeout.Token);
                Assert.Equal("hello " + i, Encoding.UTF8.GetString(buffer, 0, read.Count));
            }

            Assert.Equal(0, meters.Open("public"));
            using var plain = await OpenServedAsync(gateway.BaseAddress);
            Assert.Equal(0, meters.Rejected("public"));
        }
        finally
        {
            sockets.ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public async Task WithoutAnAdminPort_TheCapHoldsOnTheOnlyListener_AndKestrelsOwnCountIsOff()
    {
        await using var gateway = await GatewayHost.StartAsync(null, new Dictionary<string, string?>
        {
            ["Kestrel:Limits:MaxConcurrentConnections"] = "2",
        });
        Assert.Null(gateway.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits.MaxConcurrentConnections);
        Assert.Equal(2, gateway.Services.GetRequiredService<ConnectionCaps>().PublicCap);
        using var first = await OpenServedAsync(gateway.BaseAddress);
        using var second = await OpenServedAsync(gateway.BaseAddress);

        Assert.Null(await TryRequestAsync(gateway.BaseAddress));
    }

    [Fact]
    public async Task ABurstOfConnectionsAtOnce_ExactlyTheCapIsServed_EveryOtherOneCounted()
    {
        const int cap = 5, burst = 60;
        var adminPort = RedisServer.FreePort();
        var logs = new CapturedLogs();
        await using var gateway = await GatewayHost.StartAsync(null, new Dictionary<string, string?>
        {
            ["Kestrel:Limits:MaxConcurrentConnections"] = cap.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Admin:Urls"] = $"http://127.0.0.1:{adminPort}",
        }, configure: b => b.Logging.AddProvider(logs));
        using var meters = new ConnectionMeters(gateway);
        var clients = Enumerable.Range(0, burst).Select(_ => new TcpClient()).ToList();
        try
        {
            var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var answers = Task.WhenAll(clients.Select(c => Task.Run(async () =>
            {
                await start.Task;
                await c.ConnectAsync(gateway.BaseAddress.Host, gateway.BaseAddress.Port);
                try
                {
                    return await RequestAsync(c, gateway.BaseAddress);
                }
                catch (IOException)
                {
                    return null;
                }
            })));
            start.SetResult();

            Assert.Equal(cap, (await answers).Count(a => a is not null && a.StartsWith("HTTP/1.1 200", StringComparison.Ordinal)));
            Assert.Equal(burst - cap, (await answers).Count(a => a is null));
            Assert.Equal(burst - cap, meters.Rejected("public"));
            Assert.Equal(cap, meters.Open("public"));
            // Thousands of rejections a second must not be thousands of log lines: one report per 10 s per listener.
            // (Two if the burst straddled a 10 s mark on a slow machine.)
            var reports = logs.Entries.Where(e => e.EventId.Id == 102).ToList();
            Assert.InRange(reports.Count, 1, 2);
            Assert.All(reports, r => Assert.Equal(LogLevel.Warning, r.Level));
            Assert.Contains("public listeners are at their cap of 5", reports[0].Message, StringComparison.Ordinal);
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public async Task WithoutACap_ManyConnectionsAreServed()
    {
        await using var gateway = await GatewayHost.StartAsync(null, new Dictionary<string, string?>());
        Assert.Null(gateway.Services.GetRequiredService<ConnectionCaps>().PublicCap);
        var held = new List<TcpClient>();
        try
        {
            for (var i = 0; i < 20; i++)
                held.Add(await OpenServedAsync(gateway.BaseAddress));
        }
        finally
        {
            held.ForEach(c => c.Dispose());
        }
    }

    /// <summary>A connection that got a 200 for <c>/healthz</c> and stays open (keep-alive), so the server counts it.</summary>
    private static async Task<TcpClient> OpenServedAsync(Uri address)
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync(address.Host, address.Port);
        var answer = await RequestAsync(tcp, address);
        Assert.StartsWith("HTTP/1.1 200", answer, StringComparison.Ordinal);
        return tcp;
    }

    /// <summary>The status line of <c>GET /healthz</c> on a new connection, or null when the server closed it unanswered.</summary>
    private static async Task<string?> TryRequestAsync(Uri address)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(address.Host, address.Port);
        try
        {
            return await RequestAsync(tcp, address);
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static async Task<string?> RequestAsync(TcpClient tcp, Uri address)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET /healthz HTTP/1.1\r\nHost: {address.Authority}\r\n\r\n"), timeout.Token);
        var buffer = new byte[4096];
        var head = new StringBuilder();
        while (!head.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
        {
            var read = await stream.ReadAsync(buffer, timeout.Token);
            if (read == 0)
                return head.Length == 0 ? null : head.ToString();
            head.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }
        return head.ToString();
    }

    /// <summary>A loopback backend that echoes one WebSocket message per connection and then holds it open.</summary>
    private sealed class EchoWebSockets : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private EchoWebSockets(WebApplication app) => _app = app;

        public Uri Address { get; private set; } = null!;

        public static async Task<EchoWebSockets> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            app.UseWebSockets();
            app.Run(async context =>
            {
                if (!context.WebSockets.IsWebSocketRequest)
                {
                    context.Response.StatusCode = StatusCodes.Status400BadRequest;
                    return;
                }
                using var socket = await context.WebSockets.AcceptWebSocketAsync();
                var buffer = new byte[64];
                var read = await socket.ReceiveAsync(buffer, context.RequestAborted);
                await socket.SendAsync(buffer.AsMemory(0, read.Count), WebSocketMessageType.Text, true, context.RequestAborted);
                // Held until the client goes (or the host stops).
                await socket.ReceiveAsync(buffer, context.RequestAborted);
            });
            await app.StartAsync();
            var backend = new EchoWebSockets(app)
            {
                Address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()),
            };
            return backend;
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }

    /// <summary>This gateway's connection instruments (its own meter factory's), whatever other gateways in the process record.</summary>
    private sealed class ConnectionMeters : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly ConcurrentDictionary<string, long> _rejected = new();
        private readonly ConcurrentDictionary<string, long> _open = new();

        public ConnectionMeters(GatewayHost gateway)
        {
            var factory = gateway.Services.GetRequiredService<IMeterFactory>();
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Scope == factory && instrument.Name is "gateway.connections.rejected" or "gateway.connections.open")
                    listener.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            {
                var listener = (string)tags.ToArray().Single(t => t.Key == "listener").Value!;
                if (instrument.Name == "gateway.connections.rejected")
                    _rejected.AddOrUpdate(listener, value, (_, sum) => sum + value);
                else
                    _open[listener] = value;
            });
            _listener.Start();
        }

        public long Rejected(string listener) => _rejected.GetValueOrDefault(listener);

        public long Open(string listener)
        {
            _listener.RecordObservableInstruments();
            return _open.GetValueOrDefault(listener);
        }

        public void Dispose() => _listener.Dispose();
    }
}
