using System.Text;
using LoadTest.Engine;
using LoadTest.Scenarios;
using static System.FormattableString;
using static LoadTest.Reporting.Format;

namespace LoadTest.Reporting;

/// <summary>Renders a <see cref="ReportDocument"/> as Markdown.</summary>
internal static class MarkdownReport
{
    private static readonly string[] LatencyHeaders = ["count", "mean", "p50", "p75", "p95", "p99", "p99.9", "max"];

    public static string Render(ReportDocument document, IReadOnlyList<string> charts, IReadOnlyList<string> csvFiles)
    {
        var markdown = new StringBuilder();
        markdown.AppendLine(Invariant($"# {document.Title}")).AppendLine();
        foreach (var fact in document.Facts)
        {
            markdown.AppendLine(Invariant($"- {fact}"));
        }

        markdown.AppendLine();
        if (document.Search is { } search)
        {
            FindMax(markdown, search);
        }

        if (document.FlashCrowd is { } crowd)
        {
            FlashCrowd(markdown, crowd, document.Bucket);
        }

        if (document.Pace is { } pace)
        {
            Pace(markdown, pace);
        }

        if (document.Setup is { } setup)
        {
            Run(markdown, setup, "Setup");
        }

        var detailed = document.Search is { } steps ? DetailedSteps(steps) : document.Measured;
        foreach (var run in detailed)
        {
            Run(markdown, run, document.Search is null ? "Results" : "Step");
        }

        markdown.AppendLine("## Charts").AppendLine();
        foreach (var chart in charts)
        {
            markdown.AppendLine(Invariant($"![{Path.GetFileNameWithoutExtension(chart)}]({chart})")).AppendLine();
        }

        markdown.AppendLine("## Data files").AppendLine();
        foreach (var file in csvFiles)
        {
            markdown.AppendLine(Invariant($"- [{file}]({file})"));
        }

        markdown.AppendLine().AppendLine(
            "Latencies are in milliseconds. In open-model runs each iteration's first request is timed from its scheduled send time " +
            "(coordinated omission corrected), so time a request spent waiting for a stalled target or a busy tool counts.");
        return markdown.ToString();
    }

    // The knee's step and the first failing one say the most; every step is in the table above and the CSV files.
    private static IEnumerable<ReportRun> DetailedSteps(RateSearchResult search)
    {
        var knee = search.Steps.LastOrDefault(step => step.Passed);
        var failed = search.Steps.FirstOrDefault(step => !step.Passed);
        return new[] { knee, failed }.OfType<RateStepResult>()
            .Select(step => new ReportRun(StepLabel(step), step.Result));
    }

    public static string StepLabel(RateStepResult step) => Invariant($"{Number(step.TargetRate, "0.#")}/s");

    private static void FindMax(StringBuilder markdown, RateSearchResult search)
    {
        var options = search.Options;
        markdown.AppendLine("## Find-max").AppendLine();
        markdown.AppendLine(search.KneeRate is { } knee
            ? Invariant($"**Knee: {Number(knee, "0.#")}/s**, the last rate with p99 <= {Ms(options.P99Limit.TotalMilliseconds)} ms, no errors and the schedule kept.")
            : "**No knee: even the start rate failed.**");
        if (search.Steps.Count > 0 && search.Steps[^1].Passed && search.Steps.Count == options.MaxSteps)
        {
            markdown.AppendLine().AppendLine("Every step passed up to the max rate: the real limit is higher.");
        }

        markdown.AppendLine();
        Table(
            markdown,
            ["target/s", "achieved/s", "requests", "errors", "late starts", "p50", "p99", "max", "verdict"],
            search.Steps.Select(step => (IReadOnlyList<string>)
            [
                Number(step.TargetRate, "0.#"),
                Number(step.Result.AchievedRate, "0.#"),
                Number(step.Result.Requests, "0"),
                Number(step.Result.Errors, "0"),
                Number(step.Result.Schedule.Late, "0"),
                Ms(step.Result.Overall.P50Ms),
                Ms(step.Result.Overall.P99Ms),
                Ms(step.Result.Overall.MaxMs),
                step.Verdict,
            ]));
    }

    private static void FlashCrowd(StringBuilder markdown, FlashCrowdResult crowd, (double Capacity, double RefillPerSecond)? bucket)
    {
        markdown.AppendLine("## Flash crowd").AppendLine();
        var fates = crowd.Fates;
        Table(
            markdown,
            ["users", .. Enum.GetValues<UserFate>().Select(fate => fate.ToString())],
            [[Number(crowd.Users.Count, "0"), .. Enum.GetValues<UserFate>().Select(fate => Number(fates.GetValueOrDefault(fate), "0"))]]);

        markdown.AppendLine("Time to admission (s, scheduled join to granted enter) and ETA accuracy " +
            "(per user max(0, 1 - |eta_sec at join - real wait| / real wait), real wait floored at 1 s):").AppendLine();
        Table(
            markdown,
            ["measure", "users", "mean", "p10", "p50", "p90", "p99", "max"],
            [
                DistributionRow("time to admission (s)", crowd.TimeToAdmission),
                DistributionRow("ETA accuracy", crowd.EtaAccuracy),
                DistributionRow("ETA error (s, eta - real)", crowd.EtaErrorSec),
            ]);
        markdown.AppendLine("Real wait is measured from the join response to the granted enter, so it includes up to one poll interval (2-4 s).")
            .AppendLine();

        var status = crowd.StatusLatency;
        markdown.AppendLine(Invariant(
            $"- Status polls: {status.Count}, p50 {Ms(status.P50Ms)} ms, p99 {Ms(status.P99Ms)} ms, max {Ms(status.MaxMs)} ms"));
        markdown.AppendLine(Invariant($"- 5xx answers from the gateway: **{crowd.Gateway5xx}**")).AppendLine();

        if (crowd.Backends.Count == 0)
        {
            return;
        }

        markdown.AppendLine(bucket is { } b
            ? Invariant($"Sample backends against the admission bound (bucket capacity {Number(b.Capacity)}, refill {Number(b.RefillPerSecond)}/s; total bound = capacity + refill x run time, per-second bound = capacity + refill). max_per_second is the backend's own peak since it started.")
            : "Sample backends:").AppendLine();
        Table(
            markdown,
            ["backend", "requests", "served", "rejected", "total bound", "max/s", "per-second bound", "within bound"],
            crowd.Backends.Select(backend => (IReadOnlyList<string>)
            [
                backend.BaseUrl.ToString(),
                Optional(backend.Requests),
                Optional(backend.Served),
                Optional(backend.Rejected),
                Number(backend.TotalBound, "0"),
                backend.After.MaxPerSecond is { } peak ? Number(peak, "0.#") : "n/a",
                Number(backend.PerSecondBound, "0"),
                backend.WithinBound switch { true => "yes", false => "**NO**", null => "n/a" },
            ]));
    }

    private static void Pace(StringBuilder markdown, PaceResult pace)
    {
        var options = pace.Options;
        var transient = options.Transient.TotalSeconds;
        markdown.AppendLine("## Backend pace").AppendLine();
        var schedule = string.Join(", ", options.CapacitySchedule.Select(step => Invariant($"{Number(step.PerSecond)}/s from {Number(step.AtSeconds)} s")));
        markdown.AppendLine(Invariant($"Users arrive at {Number(options.ArrivalsPerSecond)}/s; each admitted user makes one gated call to each of {options.Backends.Count} backends. "))
            .AppendLine(Invariant($"Capacity per backend: {schedule}. Settled figures leave out the first {Number(transient)} s after each change.")).AppendLine();
        markdown.AppendLine(Invariant(
            $"**After the transients: backends turned away {Percent(pace.OverloadRatio)} of what they were sent; they served {Percent(pace.Goodput)} of their capacity.**")).AppendLine();
        Table(
            markdown,
            ["step", "capacity/s", "backend 503 (settled)", "served / capacity (settled)", "admitted/s (settled)", "mean effective rate", "gateway 503 (breaker) / gated calls", "rate within 0.85-1.1x capacity after", "under 1% 503 from"],
            pace.Phases.Select(phase => (IReadOnlyList<string>)
            [
                Invariant($"{Number(phase.From)}-{Number(phase.To)} s"),
                Number(phase.Capacity),
                Percent(phase.OverloadRatio),
                Percent(phase.Goodput),
                Number(phase.AdmissionsPerSecond, "0.#"),
                Number(phase.MeanEffectiveRate, "0.#"),
                Invariant($"{phase.GatewayRejections} / {phase.GatedCalls}"),
                phase.RateInBandAfter is { } band ? Invariant($"{Number(band, "0")} s") : "never",
                phase.QuietAfter is { } quiet ? Invariant($"{Number(quiet, "0")} s") : "never",
            ]));
        var totals = pace.Totals;
        markdown.AppendLine(Invariant(
            $"- Users: {totals.Joined} joined ({totals.JoinFailed} joins failed), {totals.Admitted} admitted, **{totals.LostPlaces} lost their place** (status or enter 404 after joining); gated calls: {totals.GatedOk} ok, {totals.GatedBackend503} turned away by a backend, {totals.GatedGateway503} answered 503 by the gateway's breaker, {totals.GatedOther} other failures"));
        markdown.AppendLine(Invariant(
            $"- Wait from join to admission (s): p50 {Number(pace.Wait.P50, "0.#")}, p90 {Number(pace.Wait.P90, "0.#")}, p99 {Number(pace.Wait.P99, "0.#")}, max {Number(pace.Wait.Max, "0.#")} (users admitted during the run)"));
        markdown.AppendLine(Invariant($"- Seconds without a sample (gateway or a backend slower than 2 s to answer the sampler): {pace.MissedSamples}")).AppendLine();
    }

    private static IReadOnlyList<string> DistributionRow(string name, Distribution distribution) =>
    [
        name,
        Number(distribution.Count, "0"),
        Number(distribution.Mean, "0.###"),
        Number(distribution.P10, "0.###"),
        Number(distribution.P50, "0.###"),
        Number(distribution.P90, "0.###"),
        Number(distribution.P99, "0.###"),
        Number(distribution.Max, "0.###"),
    ];

    private static string Optional(long? value) => value is { } number ? Number(number, "0") : "n/a";

    private static void Run(StringBuilder markdown, ReportRun run, string kind)
    {
        var result = run.Result;
        markdown.AppendLine(Invariant($"## {kind}: {run.Label}")).AppendLine();
        markdown.AppendLine(Invariant($"- Load: {result.Load}{(result.Cancelled ? " (**cancelled early**)" : string.Empty)}"));
        markdown.AppendLine(Invariant(
            $"- Ran {Number(result.Elapsed.TotalSeconds, "0.#")} s (drain included) from {result.StartedAt:yyyy-MM-dd HH:mm:ss}Z: {result.Requests} requests, {result.Errors} errors, {Number(result.AchievedRate, "0.#")} completed/s"));
        var iterations = result.Iterations;
        markdown.AppendLine(Invariant(
            $"- Iterations: {iterations.Started} started, {iterations.Failed} failed, {iterations.Cancelled} cancelled at the end{(iterations.FirstFailure is { } first ? $" (first failure: {first})" : string.Empty)}"));
        markdown.AppendLine(Invariant(
            $"- The tool's own cost: {result.Tool.Describe(result.Requests, result.Elapsed)}"));
        markdown.AppendLine(Invariant($"- {(result.Schedule.Kept ? string.Empty : "**")}{result.Schedule.Describe()}{(result.Schedule.Kept ? string.Empty : "**")}"));
        markdown.AppendLine();

        markdown.AppendLine("Latency by step (ms):").AppendLine();
        Table(
            markdown,
            ["step", "errors", .. LatencyHeaders],
            result.Steps.Select(step => (IReadOnlyList<string>)[step.Name, Number(step.Errors, "0"), .. LatencyCells(step.Latency)]));

        markdown.AppendLine("Latency by step and status (ms):").AppendLine();
        Table(
            markdown,
            ["step", "status", "error", .. LatencyHeaders],
            result.Steps.SelectMany(step => step.Outcomes.Select(outcome => (IReadOnlyList<string>)
                [step.Name, outcome.Label, outcome.Error?.ToString() ?? "-", .. LatencyCells(outcome.Latency)])));

        var errors = result.Steps
            .SelectMany(step => step.ErrorsByKind.Select(pair => (IReadOnlyList<string>)
            [
                step.Name,
                pair.Key.ToString(),
                Number(pair.Value, "0"),
                step.Outcomes.FirstOrDefault(outcome => outcome.Error == pair.Key && outcome.FirstDetail is not null)?.FirstDetail ?? string.Empty,
            ]))
            .ToList();
        if (errors.Count > 0)
        {
            markdown.AppendLine("Errors by kind:").AppendLine();
            Table(markdown, ["step", "kind", "count", "first transport error"], errors);
        }

        if (result.Windows.Count > 1)
        {
            markdown.AppendLine("Minute by minute (every step; errors by step and status; per-step latency in minutes.csv):").AppendLine();
            Table(
                markdown,
                ["from (s)", "to (s)", "requests", "errors", "p50", "p99", "max", "failed requests"],
                result.Windows.Select(window => (IReadOnlyList<string>)
                [
                    Number(window.FromSeconds, "0"),
                    Number(window.ToSeconds, "0"),
                    Number(window.Latency.Count, "0"),
                    Number(window.Errors, "0"),
                    Ms(window.Latency.P50Ms),
                    Ms(window.Latency.P99Ms),
                    Ms(window.Latency.MaxMs),
                    string.Join(", ", window.Steps.SelectMany(step => step.Outcomes
                        .Where(outcome => outcome.Error is not null)
                        .Select(outcome => Invariant($"{step.Name} {outcome.Label}: {outcome.Count}")))),
                ]));
        }
    }

    private static IEnumerable<string> LatencyCells(LatencySummary latency) =>
    [
        Number(latency.Count, "0"),
        Ms(latency.MeanMs),
        Ms(latency.P50Ms),
        Ms(latency.P75Ms),
        Ms(latency.P95Ms),
        Ms(latency.P99Ms),
        Ms(latency.P999Ms),
        Ms(latency.MaxMs),
    ];
}
