using System.Net;
using System.Net.Sockets;
using Gateway.Tests.Infrastructure;
using LoadTest.Engine;
using LoadTest.Scenarios;

namespace Gateway.Tests.LoadTool;

/// <summary>
/// The load tool's engine where its cheaper paths could go wrong: the arrival scheduler (every due arrival
/// started, ramps included), the in-flight cap (a counter, no semaphore), the shared per-slice request
/// timeouts, and the closed model. Bounds on time are generous: CI shares the machine.
/// </summary>
public sealed class LoadToolEngineTests
{
    [Fact]
    public async Task RampingRate_StartsEveryDueArrival()
    {
        await using var bed = await GatewayTestBed.StartAsync(null);
        using var client = LoadTestHttp.CreateClient(maxConnectionsPerServer: 64);

        // N(t) = 100 t^2 / 2 over 1 s: exactly 50 arrivals are due, the last ones 10 ms apart.
        var scenario = HttpScenario.Create(new Uri(bed.Gateway.BaseAddress, "/healthz"), new RampingRate(0, 100, TimeSpan.FromSeconds(1)));
        var result = await LoadRunner.RunAsync(scenario, new LoadRunOptions { Client = client });

        Assert.Equal(50, result.Schedule.Due);
        Assert.Equal(50, result.Iterations.Started);
        Assert.Equal(50, result.Requests);
        Assert.Equal(0, result.Errors);
        Assert.Equal(0, result.Schedule.CapHits);
    }

    [Fact]
    public async Task ClosedModel_RunsItsUsersBackToBackWithoutErrors()
    {
        await using var bed = await GatewayTestBed.StartAsync(null);
        using var client = LoadTestHttp.CreateClient(maxConnectionsPerServer: 64);

        var url = new Uri(bed.Gateway.BaseAddress, "/healthz");
        // A cold gateway's first answers can take over a second on a busy machine: warm it up first.
        using (var warm = await client.GetAsync(url))
        {
            warm.EnsureSuccessStatusCode();
        }

        var scenario = HttpScenario.Create(url, new ClosedModel(4, TimeSpan.FromSeconds(2)));
        var result = await LoadRunner.RunAsync(scenario, new LoadRunOptions { Client = client });

        // More requests than users: at least one user went on to a next iteration.
        Assert.True(result.Requests > 4, $"only {result.Requests} requests in two seconds");
        Assert.Equal(result.Iterations.Started, result.Requests);
        Assert.Equal(0, result.Errors);
        Assert.False(result.Schedule.IsOpenModel);
    }

    [Fact]
    public async Task ASilentServer_TimesOutEveryRequestAfterTheRequestTimeout()
    {
        using var silent = SilentServer.Start();
        using var client = LoadTestHttp.CreateClient(maxConnectionsPerServer: 64);

        var scenario = HttpScenario.Create(silent.Url, new ConstantRate(20, TimeSpan.FromSeconds(1)));
        var result = await LoadRunner.RunAsync(scenario, new LoadRunOptions { Client = client, RequestTimeout = TimeSpan.FromMilliseconds(300) });

        // Every request of the 1 s run timed out. How many of the 20 arrivals a loaded machine gets through in that
        // second is not the property (a CI run counted 18).
        Assert.InRange(result.Requests, 15, 20);
        var outcome = Assert.Single(Assert.Single(result.Steps).Outcomes);
        Assert.Equal(ErrorKind.Timeout, outcome.Error);
        Assert.Equal(result.Requests, outcome.Latency.Count);
        // Never before the timeout (a request's slice ends after it was sent); at most a slice (3 ms) after it,
        // plus whatever a busy machine adds (a starved thread pool fires timers late: the drain allows 2 s for it).
        Assert.True(outcome.Latency.P50Ms >= 299, $"p50 {outcome.Latency.P50Ms} ms");
        Assert.True(outcome.Latency.MaxMs < 2500, $"max {outcome.Latency.MaxMs} ms");
        Assert.Equal(0, result.Iterations.Cancelled);
    }

    [Fact]
    public async Task ARunShorterThanAMinute_IsOneWindow_WithEveryRequestByStepAndStatus()
    {
        await using var bed = await GatewayTestBed.StartAsync(null);
        using var client = LoadTestHttp.CreateClient(maxConnectionsPerServer: 64);
        var scenario = new Scenario
        {
            Name = "two-steps",
            Simulation = new ConstantRate(20, TimeSpan.FromSeconds(1)),
            Iteration = async context =>
            {
                await context.SendAsync("health", new HttpRequestMessage(HttpMethod.Get, new Uri(bed.Gateway.BaseAddress, "/healthz")));
                await context.SendAsync("missing", new HttpRequestMessage(HttpMethod.Get, new Uri(bed.Gateway.BaseAddress, "/no-such-path")));
            },
        };

        var result = await LoadRunner.RunAsync(scenario, new LoadRunOptions { Client = client });

        var window = Assert.Single(result.Windows);
        Assert.Equal(0, window.FromSeconds);
        Assert.Equal(result.Elapsed.TotalSeconds, window.ToSeconds, 3);
        Assert.Equal(40, window.Latency.Count);
        Assert.Equal(20, window.Errors);
        Assert.Equal(["health", "missing"], window.Steps.Select(step => step.Name));
        Assert.Equal(new OutcomeCount("200", null, 20), Assert.Single(window.Steps[0].Outcomes));
        Assert.Equal(new OutcomeCount("404", ErrorKind.Http4xx, 20), Assert.Single(window.Steps[1].Outcomes));
    }

    [Fact]
    public async Task TheInFlightCap_HoldsArrivalsBackAndTheScheduleIsReportedNotKept()
    {
        using var silent = SilentServer.Start();
        using var client = LoadTestHttp.CreateClient(maxConnectionsPerServer: 64);

        // 50 due in a second, at most 4 at once, each held 400 ms by the silent server: about 12 can start.
        var scenario = HttpScenario.Create(silent.Url, new ConstantRate(50, TimeSpan.FromSeconds(1)));
        var result = await LoadRunner.RunAsync(
            scenario, new LoadRunOptions { Client = client, RequestTimeout = TimeSpan.FromMilliseconds(400), MaxInFlight = 4 });

        Assert.True(result.Schedule.CapHits > 0);
        Assert.InRange(result.Iterations.Started, 4, 20);
        Assert.True(result.Schedule.NotSent > 0);
        Assert.False(result.Schedule.Kept);
        Assert.StartsWith("SCHEDULE NOT KEPT", result.Schedule.Describe(), StringComparison.Ordinal);
    }

    /// <summary>Accepts connections on 127.0.0.1 and never answers.</summary>
    private sealed class SilentServer : IDisposable
    {
        private readonly TcpListener _listener;
        private readonly List<Socket> _accepted = [];
        private readonly CancellationTokenSource _stop = new();

        private SilentServer(TcpListener listener)
        {
            _listener = listener;
            _ = AcceptAsync();
        }

        public Uri Url => new($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");

        public static SilentServer Start()
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return new SilentServer(listener);
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
            lock (_accepted)
            {
                foreach (var socket in _accepted)
                {
                    socket.Dispose();
                }
            }

            _stop.Dispose();
        }

        private async Task AcceptAsync()
        {
            try
            {
                while (!_stop.IsCancellationRequested)
                {
                    var socket = await _listener.AcceptSocketAsync(_stop.Token);
                    lock (_accepted)
                    {
                        _accepted.Add(socket);
                    }
                }
            }
            catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // Stopped.
            }
        }
    }
}
