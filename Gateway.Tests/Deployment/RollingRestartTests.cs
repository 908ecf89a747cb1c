using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using Gateway.SampleBackends;
using Gateway.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Gateway.Tests.Deployment;

/// <summary>
/// A rolling update as Kubernetes runs one: two gateway processes on one Redis behind a balancer that follows
/// <c>/readyz</c>, a few hundred requests a second of people joining, polling, entering and using a gated route
/// (and others on an open route), and one instance stopped with SIGTERM in the middle. It turns unready, keeps
/// serving while the balancer takes it out, stops cleanly; no request fails and nobody loses their place.
/// </summary>
public sealed class RollingRestartTests(ITestOutputHelper output)
{
    // Long enough for the balancer to see the 503 on a busy machine too (there the first came 1.5 s after SIGTERM).
    private static readonly TimeSpan DrainDelay = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan BeforeSigterm = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan AfterSigterm = TimeSpan.FromSeconds(6);
    private const int People = 30;
    private const int OpenRouteCallers = 4;
    private const string GatedPath = "/api/reservations";
    private const int HeldRequests = 4;

    [Fact]
    public async Task Sigterm_UnderLoad_LeavesThroughReadiness_NoRequestFails_AndEveryPlaceIsKept()
    {
        await using var redis = await RedisServer.StartNewAsync();
        await using var backends = await SampleBackendsApp.StartAsync(new SampleBackendsOptions { ReservationPort = 0, InventoryPort = 0, PaymentPort = 0, CapacityPerSecond = 100_000 });
        await using var held = await HeldBackend.StartAsync();
        var room = "roll" + Guid.NewGuid().ToString("N")[..8];
        var openPath = $"/api/inventory/events/{room}";
        var configDir = Directory.CreateTempSubdirectory("wr-rolling-").FullName;
        try
        {
            var configFile = Path.Combine(configDir, "appsettings.Production.json");
            await File.WriteAllTextAsync(configFile, TestConfig.ToJson(Settings(backends, held, room)));
            string[] args =
            [
                "--ConnectionStrings:Redis", redis.ConnectionString,
                "--WaitingRoom:SigningKeys:0:Id", "rolling",
                "--WaitingRoom:SigningKeys:0:Secret", TestConfig.TestSecret,
                "--Gateway:ConfigFile", configFile,
                "--Shutdown:DrainDelay", DrainDelay.ToString("c", CultureInfo.InvariantCulture),
                "--Shutdown:Timeout", "00:00:10",
            ];
            var starting = new[] { GatewayProcess.StartAsync(args), GatewayProcess.StartAsync(args) };
            await using var a = await starting[0];
            await using var b = await starting[1];

            using var balancer = new ReadinessBalancer(new Dictionary<string, Uri> { ["A"] = a.BaseAddress, ["B"] = b.BaseAddress });
            await balancer.StartAsync();
            using var http = new HttpClient(balancer, disposeHandler: false) { BaseAddress = ReadinessBalancer.Address, Timeout = TimeSpan.FromSeconds(20) };
            var queue = new QueueClient(http);
            var joined = new ConcurrentQueue<Person>();
            using var stop = new CancellationTokenSource();

            var loadStart = balancer.Elapsed;
            var load = Enumerable.Range(0, People).Select(_ => Task.Run(() => PersonAsync(queue, room, joined, stop.Token)))
                .Concat(Enumerable.Range(0, OpenRouteCallers).Select(_ => Task.Run(() => OpenRouteAsync(http, openPath, stop.Token))))
                .ToArray();
            await Task.Delay(BeforeSigterm);

            // Requests a client already has in flight on A: they are still running when A closes its listeners.
            using var direct = new HttpClient(new SocketsHttpHandler { UseProxy = false, UseCookies = false, ActivityHeadersPropagator = null }) { BaseAddress = a.BaseAddress, Timeout = TimeSpan.FromSeconds(40) };
            var inFlight = Enumerable.Range(0, HeldRequests).Select(i => GetAsync(direct, $"/held/{i}")).ToArray();
            await Eventually.TrueAsync(() => Task.FromResult(held.Arrived == HeldRequests), TimeSpan.FromSeconds(10), "the held requests reaching the backend");

            var sigterm = balancer.Elapsed;
            a.Terminate();
            var exited = ExitAsync(a, balancer);
            await Eventually.TrueAsync(() => Task.FromResult(balancer.Probes.Any(p => p.Instance == "A" && p.Refused && p.At > sigterm)), TimeSpan.FromSeconds(20), "A closing its listeners");
            held.Release();
            var heldAnswers = await Task.WhenAll(inFlight);
            var (exitCode, exitedAt) = await exited;
            var rest = sigterm + AfterSigterm - balancer.Elapsed;
            if (rest > TimeSpan.Zero)
                await Task.Delay(rest);
            await stop.CancelAsync();
            await Task.WhenAll(load);
            var loadEnd = balancer.Elapsed;

            var outcomes = balancer.Outcomes;
            var probesOfA = balancer.Probes.Where(p => p.Instance == "A" && p.At > sigterm).ToList();
            Report(outcomes, probesOfA, joined, heldAnswers, sigterm, loadEnd - loadStart, exitedAt - sigterm);

            // Nothing failed: no connection error, no 5xx, over the whole run.
            var failed = outcomes.Where(o => o.Failed).ToList();
            Assert.True(failed.Count == 0, $"{failed.Count} of {outcomes.Count} requests failed:\n{string.Join('\n', failed.Take(20))}");
            // And every answer is the one the contract gives (tokens from one instance work on the other).
            var unexpected = outcomes.Where(o => o.Status != ExpectedStatus(o.Path)).ToList();
            Assert.True(unexpected.Count == 0, $"{unexpected.Count} unexpected answers:\n{string.Join('\n', unexpected.Take(20))}");
            // A busy machine halves the rate; a floor still far above it says the run was a load at all.
            Assert.True(outcomes.Count >= 500, $"only {outcomes.Count} requests: not the load this test is about");
            Assert.Contains(outcomes, o => o.Instance == "A" && o.At < sigterm);
            Assert.Contains(outcomes, o => o.Instance == "B" && o.At > sigterm + DrainDelay);
            // The requests in flight across the listeners' closing were answered in full.
            Assert.All(heldAnswers, answer => Assert.Equal((HttpStatusCode.OK, HeldBackend.Answer), answer));

            // A left through readiness: /readyz answered 503 while it still listened, then the port closed, then it exited cleanly.
            var firstUnready = probesOfA.FirstOrDefault(p => p.Status == 503);
            var firstRefused = probesOfA.First(p => p.Refused);
            Assert.True(firstUnready is not null, "A's /readyz never answered 503 after SIGTERM: " + string.Join(", ", probesOfA));
            Assert.True(firstUnready.At < firstRefused.At, $"A refused connections ({firstRefused.At}) before /readyz answered 503 ({firstUnready.At})");
            Assert.DoesNotContain(probesOfA, p => p.Status == 200 && p.At > firstUnready.At);
            Assert.Contains(a.Lines, l => l["EventId"]?.GetValue<int>() == 101 && l["Category"]!.GetValue<string>() == "Gateway.Proxy.Hosting.Draining");
            Assert.Equal(0, exitCode);
            Assert.False(b.HasExited);

            // Nobody lost their place: B knows every token, and every admission still opens the gated route there.
            await AssertEveryPlaceKeptAsync(b.BaseAddress, joined);
        }
        finally
        {
            Directory.Delete(configDir, recursive: true);
        }
    }

    private static Dictionary<string, string?> Settings(SampleBackendsApp backends, HeldBackend held, string room)
    {
        var settings = TestConfig.Gateway(backends, room, capacity: 20, refill: 20);
        // The signing key comes on the command line, the same for both instances.
        foreach (var key in settings.Keys.Where(k => k.StartsWith("WaitingRoom:SigningKeys:", StringComparison.Ordinal)).ToList())
            settings.Remove(key);
        // The inventory route is the open one; reservations and payments stay gated.
        settings.Remove("ReverseProxy:Routes:inventory:Metadata:WaitingRoom");
        settings["ReverseProxy:Routes:held:ClusterId"] = "held";
        settings["ReverseProxy:Routes:held:Match:Path"] = "/held/{**rest}";
        settings["ReverseProxy:Clusters:held:Destinations:held-1:Address"] = held.Address.ToString();
        settings[$"WaitingRoom:Rooms:{room}:AbandonAfter"] = "00:01:00";
        // Two busy cores run three servers and the load here: a slow store call must not become a 503 (or a
        // readiness flap) that this test would blame on the restart.
        settings["Store:OperationTimeout"] = "00:00:05";
        settings["Store:ReadinessTimeout"] = "00:00:02";
        return settings;
    }

    /// <summary>
    /// People one after another: join, poll until ready, enter, then use the gated route a few times. The end of
    /// the run stops the loop between requests; a request already sent runs to its answer.
    /// </summary>
    private static async Task PersonAsync(QueueClient queue, string room, ConcurrentQueue<Person> joined, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var (status, body, _) = await queue.JoinAsync(room, "user-" + Guid.NewGuid().ToString("N")[..12]);
                if (status != HttpStatusCode.Accepted)
                {
                    await PauseAsync(stop);
                    continue;
                }
                var person = new Person(body["waiting_token"]!.GetValue<string>());
                joined.Enqueue(person);
                var state = body["status"]?.GetValue<string>();
                while (state is not ("ready" or "admitted") && !stop.IsCancellationRequested)
                {
                    await PauseAsync(stop);
                    state = (await queue.StatusAsync(person.WaitingToken)).Body["status"]?.GetValue<string>();
                }
                if (stop.IsCancellationRequested)
                    return;
                var (entered, admission, _) = await queue.EnterAsync(person.WaitingToken);
                if (entered != HttpStatusCode.OK)
                    continue;
                person.Admission = admission["reservation_token"]!.GetValue<string>();
                for (var i = 0; i < 4 && !stop.IsCancellationRequested; i++)
                {
                    await PauseAsync(stop);
                    using var request = new HttpRequestMessage(HttpMethod.Get, GatedPath);
                    request.Headers.Add("X-Admission-Token", person.Admission);
                    using var response = await queue.Http.SendAsync(request, CancellationToken.None);
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
            {
                // The balancer recorded the failure (or the unexpected answer); the assertions report it.
            }
        }
    }

    private static async Task OpenRouteAsync(HttpClient http, string path, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                using var response = await http.GetAsync(path, CancellationToken.None);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // The balancer recorded the failure; the assertions report it.
            }
            await PauseAsync(stop);
        }
    }

    private static async Task PauseAsync(CancellationToken stop)
    {
        try
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100), stop);
        }
        catch (OperationCanceledException)
        {
        }
    }

    // Join answers 202; status, enter (called only when ready), the open route and the gated one (with an admission) 200.
    private static int ExpectedStatus(string path) => path == "/api/v1/queue/join" ? 202 : 200;

    private static async Task<(HttpStatusCode, string)> GetAsync(HttpClient http, string path)
    {
        using var response = await http.GetAsync(path);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>The exit code, and when (on the balancer's clock) the process ended.</summary>
    private static async Task<(int ExitCode, TimeSpan At)> ExitAsync(GatewayProcess gateway, ReadinessBalancer clock)
    {
        var code = await gateway.WaitForExitAsync(DrainDelay + TimeSpan.FromSeconds(25));
        return (code, clock.Elapsed);
    }

    private static async Task AssertEveryPlaceKeptAsync(Uri instance, IReadOnlyCollection<Person> joined)
    {
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false, UseCookies = false, ActivityHeadersPropagator = null }) { BaseAddress = instance };
        var client = new QueueClient(http);
        var lost = new ConcurrentQueue<string>();
        await Parallel.ForEachAsync(joined, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (person, cancel) =>
        {
            var (status, body, _) = await client.StatusAsync(person.WaitingToken);
            var state = body["status"]?.GetValue<string>();
            var kept = status == HttpStatusCode.OK && (state is "ready" or "admitted" || (state == "waiting" && body["position"]?.GetValue<long>() >= 1));
            if (!kept)
                lost.Enqueue($"{person.WaitingToken[..20]}...: {(int)status} {body.ToJsonString()}");
            if (person.Admission is null)
                return;
            using var request = new HttpRequestMessage(HttpMethod.Get, GatedPath);
            request.Headers.Add("X-Admission-Token", person.Admission);
            using var gated = await http.SendAsync(request, cancel);
            if (gated.StatusCode != HttpStatusCode.OK)
                lost.Enqueue($"an admission answered {(int)gated.StatusCode} on {GatedPath}");
        });
        Assert.True(lost.IsEmpty, $"{lost.Count} of {joined.Count} people lost their place or admission:\n{string.Join('\n', lost.Take(20))}");
    }

    private void Report(IReadOnlyList<ReadinessBalancer.Outcome> outcomes, List<ReadinessBalancer.Probe> probesOfA, IReadOnlyCollection<Person> joined,
        (HttpStatusCode Status, string Body)[] held, TimeSpan sigterm, TimeSpan loadTime, TimeSpan stoppedAfter)
    {
        var inv = CultureInfo.InvariantCulture;
        output.WriteLine(string.Create(inv, $"{outcomes.Count} requests in {loadTime.TotalSeconds:F1} s ({outcomes.Count / loadTime.TotalSeconds:F0}/s), {outcomes.Count(o => o.Failed)} failed"));
        foreach (var group in outcomes.GroupBy(o => o.Instance).OrderBy(g => g.Key))
            output.WriteLine(string.Create(inv, $"  {group.Key}: {group.Count()} ({group.Count(o => o.At > sigterm)} ended after SIGTERM)"));
        foreach (var group in outcomes.GroupBy(o => $"{o.Method} {(o.Path.StartsWith("/api/v1/", StringComparison.Ordinal) ? o.Path : o.Path.Split('/')[2])}").OrderBy(g => g.Key))
            output.WriteLine(string.Create(inv, $"  {group.Key}: {group.Count()}"));
        output.WriteLine(string.Create(inv, $"{joined.Count} people joined, {joined.Count(p => p.Admission is not null)} admitted"));
        output.WriteLine($"{held.Length} requests held on A across its listeners' closing: {string.Join(", ", held.Select(h => (int)h.Status))}");
        output.WriteLine(string.Create(inv, $"SIGTERM to A at {sigterm.TotalSeconds:F2} s; A exited after {stoppedAfter.TotalSeconds:F2} s"));
        var transitions = probesOfA.Where((p, i) => i == 0 || Describe(p) != Describe(probesOfA[i - 1]));
        output.WriteLine("A's /readyz after SIGTERM: " + string.Join(", ", transitions.Select(p => string.Create(inv, $"{p.At.TotalSeconds:F2} s {Describe(p)}"))));
    }

    private static string Describe(ReadinessBalancer.Probe probe) =>
        probe.Status?.ToString(CultureInfo.InvariantCulture) ?? (probe.Refused ? "refused" : probe.Error ?? "?");

    private sealed class Person(string waitingToken)
    {
        public string WaitingToken { get; } = waitingToken;

        public string? Admission { get; set; }
    }

    /// <summary>A backend that holds every request until <see cref="Release"/>: requests in flight for as long as the test needs.</summary>
    private sealed class HeldBackend : IAsyncDisposable
    {
        public const string Answer = "released";

        private readonly WebApplication _app;
        private readonly TaskCompletionSource _release;
        private readonly StrongBox<int> _arrived;

        private HeldBackend(WebApplication app, TaskCompletionSource release, StrongBox<int> arrived)
        {
            _app = app;
            _release = release;
            _arrived = arrived;
            Address = new Uri(app.Urls.First() + "/");
        }

        public Uri Address { get; }

        public int Arrived => Volatile.Read(ref _arrived.Value);

        public static async Task<HeldBackend> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            var app = builder.Build();
            var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var arrived = new StrongBox<int>();
            app.Run(async context =>
            {
                Interlocked.Increment(ref arrived.Value);
                await release.Task.WaitAsync(TimeSpan.FromSeconds(30));
                await context.Response.WriteAsync(Answer);
            });
            await app.StartAsync();
            return new HeldBackend(app, release, arrived);
        }

        public void Release() => _release.TrySetResult();

        public async ValueTask DisposeAsync()
        {
            Release();
            await _app.DisposeAsync();
        }
    }
}
