using LoadTest.Engine;
using LoadTest.Reporting;
using LoadTest.Scenarios;
using static System.FormattableString;

namespace LoadTest.Cli;

/// <summary>Runs the scenario a command line asked for and writes its report.</summary>
internal static class CommandRunner
{
    public const int Success = 0;
    public const int SetupFailed = 1;
    public const int InvalidArguments = 2;
    public const int Cancelled = 130;

    /// <exception cref="ArgumentException">A target is not on loopback.</exception>
    public static async Task<int> RunAsync(CliOptions options, IReadOnlyList<string> args, CancellationToken cancellationToken)
    {
        foreach (var url in options.Targets)
        {
            await LoopbackGuard.EnsureLoopbackAsync(url, cancellationToken);
        }

        using var client = LoadTestHttp.CreateClient(options.MaxConnections);
        var runOptions = new LoadRunOptions
        {
            Client = client,
            RequestTimeout = options.RequestTimeout,
            MaxInFlight = options.MaxInFlight,
            LateThreshold = options.LateThreshold,
            OnProgress = ConsoleProgress.Printer(options.ScenarioName),
        };
        var facts = new List<string>
        {
            Invariant($"Command: `LoadTest {string.Join(' ', args)}`"),
            Invariant($"Target: {string.Join(", ", options.Targets)}"),
            Invariant($"HTTP: max {options.MaxConnections} connections, request timeout {options.RequestTimeout.TotalMilliseconds} ms, in-flight cap {options.MaxInFlight}, late threshold {options.LateThreshold.TotalMilliseconds} ms"),
            Invariant($"Machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}, {Environment.OSVersion}"),
        };

        try
        {
            var document = options.Scenario switch
            {
                ScenarioKind.Http => await RunRateScenarioAsync(options, runOptions, facts, simulation => HttpScenario.Create(options.Url!, simulation), null, cancellationToken),
                ScenarioKind.Admitted => await RunAdmittedAsync(options, runOptions, facts, client, cancellationToken),
                ScenarioKind.StatusStorm => await RunStatusStormAsync(options, runOptions, facts, cancellationToken),
                ScenarioKind.FlashCrowd => await RunFlashCrowdAsync(options, runOptions, facts, client, cancellationToken),
                _ => await RunBackendPaceAsync(options, runOptions, facts, client, cancellationToken),
            };
            var files = ReportWriter.Write(options.OutputDirectory, document);
            PrintSummary(document, files);
            return cancellationToken.IsCancellationRequested ? Cancelled : Success;
        }
        catch (SetupException exception)
        {
            await Console.Error.WriteLineAsync($"error: {exception.Message}");
            return SetupFailed;
        }
    }

    private static async Task<ReportDocument> RunRateScenarioAsync(
        CliOptions options,
        LoadRunOptions runOptions,
        List<string> facts,
        Func<LoadSimulation, Scenario> scenarioFor,
        ReportRun? setup,
        CancellationToken cancellationToken)
    {
        var title = Invariant($"Load test: {options.ScenarioName}{(options.Search is null ? string.Empty : " (find-max)")}");
        if (options.WarmUp > TimeSpan.Zero)
        {
            var warmUp = WarmUpSimulation(options);
            var result = await LoadRunner.RunAsync(scenarioFor(warmUp), runOptions with { OnProgress = null }, cancellationToken);
            Console.WriteLine(Invariant($"[warm-up] {warmUp.Describe()}: {result.Requests} requests, {result.Errors} errors (not counted)"));
            facts.Add(Invariant($"Warm-up before measuring (not counted): {warmUp.Describe()}"));
        }

        if (options.Search is { } search)
        {
            var result = await RateSearch.FindMaxAsync(
                scenarioFor,
                search,
                runOptions with { OnProgress = null },
                step => Console.WriteLine(Invariant(
                    $"[find-max] {MarkdownReport.StepLabel(step)}: achieved {step.Result.AchievedRate:0.#}/s, p99 {step.Result.Overall.P99Ms:0.###} ms, errors {step.Result.Errors}, late {step.Result.Schedule.Late} -> {step.Verdict}")),
                cancellationToken);
            return new ReportDocument
            {
                Title = title,
                Facts = facts,
                Measured = result.Steps.Select(step => new ReportRun(MarkdownReport.StepLabel(step), step.Result)).ToList(),
                Search = result,
                Setup = setup,
            };
        }

        var run = await LoadRunner.RunAsync(scenarioFor(options.Simulation!), runOptions, cancellationToken);
        return new ReportDocument { Title = title, Facts = facts, Measured = [new ReportRun("main", run)], Setup = setup };
    }

    // JIT, thread pool, connection pool and the target all start cold; the first second of a cold run
    // measures start-up, not the target. Warm up at the measured run's starting load, capped at 1000/s.
    private static LoadSimulation WarmUpSimulation(CliOptions options)
    {
        var startRate = options.Search?.StartRate ?? options.Simulation switch
        {
            ConstantRate constant => constant.RatePerSecond,
            RampingRate ramp => Math.Max(ramp.FromRate, 1),
            _ => 0,
        };
        return options.Simulation is ClosedModel closed
            ? new ClosedModel(closed.Concurrency, options.WarmUp)
            : new ConstantRate(Math.Min(startRate, 1000), options.WarmUp);
    }

    private static async Task<ReportDocument> RunAdmittedAsync(
        CliOptions options, LoadRunOptions runOptions, List<string> facts, HttpClient client, CancellationToken cancellationToken)
    {
        var userId = Invariant($"{options.UserPrefix}admitted-{Guid.NewGuid():N}");
        Console.WriteLine($"[admitted] joining '{options.EventId}' as {userId} and waiting for admission (up to {options.AdmitTimeout.TotalSeconds} s)");
        string token;
        try
        {
            token = await AdmittedScenario.ObtainAdmissionAsync(client, options.Target!, options.EventId, userId, options.AdmitTimeout, cancellationToken);
        }
        catch (Exception exception) when (exception is InvalidOperationException or HttpRequestException or System.Text.Json.JsonException)
        {
            throw new SetupException($"could not obtain an admission token: {exception.Message}", exception);
        }

        var url = new Uri(options.Target!, options.GatedPath);
        facts.Add(Invariant($"Gated route: {url} with the admission token of {userId}"));
        return await RunRateScenarioAsync(options, runOptions, facts, simulation => AdmittedScenario.Create(url, token, simulation), null, cancellationToken);
    }

    private static async Task<ReportDocument> RunStatusStormAsync(
        CliOptions options, LoadRunOptions runOptions, List<string> facts, CancellationToken cancellationToken)
    {
        // Without a prefill, just enough users join to fill the sample.
        var joins = options.Prefill > 0 ? options.Prefill : options.Sample;
        Console.WriteLine(Invariant($"[prefill] joining {joins} users with {options.PrefillConcurrency} concurrent joiners"));
        var prefill = await StatusStormScenario.PrefillAsync(
            options.Target!,
            options.EventId,
            options.UserPrefix,
            joins,
            options.PrefillConcurrency,
            runOptions with { OnProgress = ConsoleProgress.Printer("prefill") },
            cancellationToken);
        if (prefill.Tokens.Count == 0)
        {
            throw new SetupException(Invariant($"the prefill got no waiting token from {joins} joins ({prefill.Run.Errors} errors); is the gateway up and '{options.EventId}' a configured room?"));
        }

        var sample = StatusStormScenario.Sample(prefill.Tokens, options.Sample);
        facts.Add(Invariant($"Queue: {prefill.Tokens.Count} of {joins} joins held a place; status polls pick from a random sample of {sample.Count}"));
        return await RunRateScenarioAsync(
            options,
            runOptions,
            facts,
            simulation => StatusStormScenario.Create(options.Target!, sample, simulation),
            new ReportRun("prefill", prefill.Run),
            cancellationToken);
    }

    private static async Task<ReportDocument> RunFlashCrowdAsync(
        CliOptions options, LoadRunOptions runOptions, List<string> facts, HttpClient client, CancellationToken cancellationToken)
    {
        var crowd = new FlashCrowdScenario(new FlashCrowdOptions
        {
            Gateway = options.Target!,
            EventId = options.EventId,
            Users = options.Users,
            JoinPeriod = options.JoinPeriod,
            Duration = options.CrowdDuration,
            UserPrefix = options.UserPrefix,
        });
        var before = await FetchBackendStatsAsync(client, options.BackendStats, cancellationToken);
        var run = await LoadRunner.RunAsync(crowd.Create(), runOptions, cancellationToken);
        var after = await FetchBackendStatsAsync(client, options.BackendStats, cancellationToken);

        var seconds = run.Elapsed.TotalSeconds;
        var backends = options.BackendStats
            .Select((url, i) => new BackendLoad(
                url,
                before[i],
                after[i],
                options.BucketCapacity + (options.BucketRefill * seconds),
                options.BucketCapacity + options.BucketRefill))
            .ToList();
        facts.Add(Invariant($"Crowd: {options.Users} users joining '{options.EventId}' over {options.JoinPeriod.TotalSeconds} s, run capped at {options.CrowdDuration.TotalSeconds} s"));
        return new ReportDocument
        {
            Title = "Load test: flash-crowd",
            Facts = facts,
            Measured = [new ReportRun("main", run)],
            FlashCrowd = crowd.Summarize(run, backends),
            Bucket = (options.BucketCapacity, options.BucketRefill),
        };
    }

    private static async Task<ReportDocument> RunBackendPaceAsync(
        CliOptions options, LoadRunOptions runOptions, List<string> facts, HttpClient client, CancellationToken cancellationToken)
    {
        var pace = new BackendPaceScenario(new BackendPaceOptions
        {
            Gateway = options.Target!,
            EventId = options.EventId,
            UserPrefix = options.UserPrefix,
            ArrivalsPerSecond = options.ArrivalsPerSecond,
            Duration = options.CrowdDuration,
            Backends = options.BackendStats,
            CapacitySchedule = options.CapacitySchedule,
            ThinkTime = options.ThinkTime,
            Transient = options.Transient,
        });
        // Fail before the run if a backend cannot be read (or is not a sample backend).
        await FetchBackendStatsAsync(client, options.BackendStats, cancellationToken);

        using var stopSampling = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var sampler = PaceSampler.RunAsync(client, pace, stopSampling.Token);
        LoadTestResult run;
        try
        {
            run = await LoadRunner.RunAsync(pace.Create(), runOptions, cancellationToken);
        }
        finally
        {
            await stopSampling.CancelAsync();
        }

        var (samples, missed) = await sampler;

        facts.Add(Invariant($"Backend pace: {options.ArrivalsPerSecond:0.##} users/s for {options.CrowdDuration.TotalSeconds:0} s into '{options.EventId}', think time {options.ThinkTime.TotalMilliseconds:0} ms, capacity schedule {string.Join(",", options.CapacitySchedule.Select(step => Invariant($"{step.AtSeconds:0.#}:{step.PerSecond:0.##}")))}"));
        return new ReportDocument
        {
            Title = options.Label is { } label ? $"Load test: backend-pace ({label})" : "Load test: backend-pace",
            Facts = facts,
            Measured = [new ReportRun("main", run)],
            Pace = PaceResult.From(pace, samples, missed),
        };
    }

    private static async Task<IReadOnlyList<BackendStats>> FetchBackendStatsAsync(
        HttpClient client, IReadOnlyList<Uri> urls, CancellationToken cancellationToken)
    {
        try
        {
            return await Task.WhenAll(urls.Select(url => BackendStats.FetchAsync(client, url, cancellationToken)));
        }
        catch (Exception exception) when (exception is HttpRequestException or System.Text.Json.JsonException or TaskCanceledException)
        {
            throw new SetupException($"could not read backend stats: {exception.Message}", exception);
        }
    }

    private static void PrintSummary(ReportDocument document, IReadOnlyList<string> files)
    {
        Console.WriteLine();
        if (document.Search is { } search)
        {
            Console.WriteLine(search.KneeRate is { } knee ? Invariant($"knee: {knee:0.#}/s") : "no knee: the start rate already failed");
        }

        foreach (var run in document.Measured.TakeLast(document.Search is null ? 1 : 0))
        {
            var overall = run.Result.Overall;
            Console.WriteLine(Invariant(
                $"{run.Result.Requests} requests, {run.Result.Errors} errors, {run.Result.AchievedRate:0.#}/s; latency ms p50 {overall.P50Ms:0.###} p99 {overall.P99Ms:0.###} p99.9 {overall.P999Ms:0.###} max {overall.MaxMs:0.###}"));
            Console.WriteLine(run.Result.Schedule.Describe());
            Console.WriteLine(Invariant($"tool: {run.Result.Tool.Describe(run.Result.Requests, run.Result.Elapsed)}"));
        }

        Console.WriteLine($"report: {files[0]}");
    }

    /// <summary>A step before the measured run failed, so there is nothing to measure.</summary>
    private sealed class SetupException(string message, Exception? inner = null) : Exception(message, inner);
}
