using Gateway.Tests.Infrastructure;
using LoadTest.Engine;
using LoadTest.Reporting;
using LoadTest.Scenarios;

namespace Gateway.Tests.LoadTool;

/// <summary>
/// CI smoke of the load tool (loadtest/LoadTest): a few seconds at a low rate against a real gateway on
/// loopback, through the engine's public API, then the report. Proves the tool and its report still work;
/// it asserts no timing (CI shares the machine), only that the run completed, sent requests without errors
/// and wrote its files. The figures come from loadtest/run-benchmarks.sh.
/// </summary>
public sealed class LoadToolSmokeTests
{
    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(2);
    private const double Rate = 50;

    private static readonly string[] ReportFiles =
        ["report.md", "timeline.csv", "minutes.csv", "percentiles.csv", "throughput.png", "latency.png", "percentiles.png"];

    [Fact]
    public async Task HttpScenario_AgainstTheGateway_CompletesWithoutErrorsAndWritesTheReport()
    {
        await using var bed = await GatewayTestBed.StartAsync(null);
        using var client = LoadTestHttp.CreateClient(maxConnectionsPerServer: 64);

        var scenario = HttpScenario.Create(new Uri(bed.Gateway.BaseAddress, "/healthz"), new ConstantRate(Rate, Duration));
        var result = await LoadRunner.RunAsync(scenario, new LoadRunOptions { Client = client });

        AssertCompletedWithoutErrors(result);
        AssertReportWritten(result);
    }

    [Fact]
    public async Task AdmittedScenario_ThroughAGatedRoute_CompletesWithoutErrorsAndWritesTheReport()
    {
        await using var bed = await GatewayTestBed.StartAsync(null);
        using var client = LoadTestHttp.CreateClient(maxConnectionsPerServer: 64);
        var token = await AdmittedScenario.ObtainAdmissionAsync(
            client, bed.Gateway.BaseAddress, bed.Room, "smoke-admitted", TimeSpan.FromSeconds(30), CancellationToken.None);

        var url = new Uri(bed.Gateway.BaseAddress, $"/api/inventory/events/{bed.Room}/seats");
        var result = await LoadRunner.RunAsync(AdmittedScenario.Create(url, token, new ConstantRate(Rate, Duration)), new LoadRunOptions { Client = client });

        AssertCompletedWithoutErrors(result);
        Assert.Equal(result.Requests, bed.Backends.Stats("inventory").Served);
        AssertReportWritten(result);
    }

    [Fact]
    public async Task BackendPaceScenario_SetsTheBackendsCapacity_SamplesEverySecond_AndWritesItsChart()
    {
        await using var bed = await GatewayTestBed.StartAsync(null, capacity: 5, refill: 20);
        using var client = LoadTestHttp.CreateClient(maxConnectionsPerServer: 64);
        var pace = new BackendPaceScenario(new BackendPaceOptions
        {
            Gateway = bed.Gateway.BaseAddress,
            EventId = bed.Room,
            ArrivalsPerSecond = 5,
            Duration = TimeSpan.FromSeconds(3),
            Backends = [bed.Backends.ReservationUrl, bed.Backends.InventoryUrl, bed.Backends.PaymentUrl],
            CapacitySchedule = [new CapacityStep(0, 1000), new CapacityStep(1, 500)],
            ThinkTime = TimeSpan.Zero,
            Transient = TimeSpan.Zero,
        });

        using var stop = new CancellationTokenSource();
        var sampler = PaceSampler.RunAsync(client, pace, stop.Token);
        var result = await LoadRunner.RunAsync(pace.Create(), new LoadRunOptions { Client = client });
        await stop.CancelAsync();
        var (samples, missed) = await sampler;

        Assert.True(pace.Counts.Joined > 0, "nobody joined");
        Assert.NotEmpty(samples);
        Assert.Contains(samples, s => s.EffectiveRate is not null);
        Assert.Equal(500, samples[^1].Capacity);
        var stats = await BackendStats.FetchAsync(client, bed.Backends.InventoryUrl, CancellationToken.None);
        Assert.NotNull(stats.Requests);
        var directory = Directory.CreateTempSubdirectory("loadtool-pace-").FullName;
        try
        {
            ReportWriter.Write(directory, new ReportDocument
            {
                Title = "Load test: backend-pace smoke",
                Facts = ["CI smoke run"],
                Measured = [new ReportRun("main", result)],
                Pace = PaceResult.From(pace, samples, missed),
            });
            foreach (var name in new[] { "pace.csv", "pace.png", "report.md" })
                Assert.True(new FileInfo(Path.Combine(directory, name)).Length > 0, $"{name} is empty");
            Assert.Contains("## Backend pace", File.ReadAllText(Path.Combine(directory, "report.md")), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static void AssertCompletedWithoutErrors(LoadTestResult result)
    {
        Assert.False(result.Cancelled);
        Assert.True(result.Requests > 0, "no request was sent");
        Assert.Equal(result.Iterations.Started, result.Requests);
        Assert.Equal(0, result.Errors);
        Assert.Equal(0, result.Iterations.Failed);
        Assert.Equal(0, result.Iterations.Cancelled);
    }

    private static void AssertReportWritten(LoadTestResult result)
    {
        var directory = Directory.CreateTempSubdirectory("loadtool-smoke-").FullName;
        try
        {
            var files = ReportWriter.Write(directory, new ReportDocument
            {
                Title = "Load test: smoke",
                Facts = ["CI smoke run"],
                Measured = [new ReportRun("main", result)],
            });

            foreach (var name in ReportFiles)
            {
                var path = Path.Combine(directory, name);
                Assert.Contains(path, files);
                Assert.True(new FileInfo(path).Length > 0, $"{name} is empty");
            }

            Assert.Contains("## Results: main", File.ReadAllText(Path.Combine(directory, "report.md")), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
