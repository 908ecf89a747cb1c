using HdrHistogram;
using static System.FormattableString;

namespace LoadTest.Engine;

/// <summary>Everything one <see cref="LoadRunner.RunAsync"/> measured.</summary>
/// <param name="ScenarioName">The scenario's name.</param>
/// <param name="Simulation">How iterations were started.</param>
/// <param name="MaxIterations">The scenario's iteration budget, if it had one.</param>
/// <param name="StartedAt">Wall-clock start.</param>
/// <param name="Elapsed">From the first scheduled iteration to the end of the drain.</param>
/// <param name="Steps">Latency and outcomes per step, in order of first use.</param>
/// <param name="Timeline">One point per second of the run.</param>
/// <param name="Windows">The run in windows of a minute (the last may be shorter): latency per step and outcomes, for long runs.</param>
/// <param name="Schedule">Whether the open-model schedule was kept.</param>
/// <param name="Iterations">Iteration counts, including those that threw.</param>
/// <param name="Cancelled">True when the caller's token stopped the run early.</param>
/// <param name="Latency">All steps' latencies in one histogram (microseconds).</param>
/// <param name="Tool">The tool's own CPU, allocations and garbage collections during the run: a tool short of CPU or paused by its GC delays sends too.</param>
public sealed record LoadTestResult(
    string ScenarioName,
    LoadSimulation Simulation,
    long? MaxIterations,
    DateTimeOffset StartedAt,
    TimeSpan Elapsed,
    IReadOnlyList<StepStats> Steps,
    IReadOnlyList<TimelinePoint> Timeline,
    IReadOnlyList<WindowStats> Windows,
    ScheduleStats Schedule,
    IterationStats Iterations,
    bool Cancelled,
    HistogramBase Latency,
    ToolStats Tool)
{
    /// <summary>Latency summary over every step.</summary>
    public LatencySummary Overall => LatencySummary.From(Latency);

    /// <summary>Requests completed (successfully or not) across all steps.</summary>
    public long Requests => Latency.TotalCount;

    /// <summary>Failed requests across all steps.</summary>
    public long Errors => Steps.Sum(step => step.Errors);

    /// <summary>How iterations were started, with the iteration budget if there was one.</summary>
    public string Load => MaxIterations is { } budget
        ? Invariant($"{Simulation.Describe()}, stopping after {budget} iterations")
        : Simulation.Describe();

    /// <summary>Completed requests per second over the whole run, drain included.</summary>
    public double AchievedRate => Elapsed > TimeSpan.Zero ? Requests / Math.Max(Elapsed.TotalSeconds, 1e-9) : 0;
}

/// <summary>Latency percentiles in milliseconds.</summary>
public sealed record LatencySummary(long Count, double MeanMs, double P50Ms, double P75Ms, double P95Ms, double P99Ms, double P999Ms, double MaxMs)
{
    /// <summary>Summarises a histogram recorded in microseconds.</summary>
    public static LatencySummary From(HistogramBase histogram)
    {
        ArgumentNullException.ThrowIfNull(histogram);
        if (histogram.TotalCount == 0)
        {
            return new LatencySummary(0, 0, 0, 0, 0, 0, 0, 0);
        }

        return new LatencySummary(
            histogram.TotalCount,
            histogram.GetMean() / 1000.0,
            Ms(histogram, 50),
            Ms(histogram, 75),
            Ms(histogram, 95),
            Ms(histogram, 99),
            Ms(histogram, 99.9),
            histogram.GetMaxValue() / 1000.0);
    }

    private static double Ms(HistogramBase histogram, double percentile) => histogram.GetValueAtPercentile(percentile) / 1000.0;
}

/// <summary>One outcome of a step: an HTTP status code, or a transport error.</summary>
/// <param name="Label">The status code ("200") or the error ("timeout", "connection refused", "connection error").</param>
/// <param name="Error">Why this outcome counts as failed, or null when it does not.</param>
/// <param name="Latency">Latency of the requests with this outcome.</param>
/// <param name="FirstDetail">For transport errors, the first exception message: the cause is usually in it.</param>
public sealed record OutcomeStats(string Label, ErrorKind? Error, LatencySummary Latency, string? FirstDetail);

/// <summary>Latency and outcomes of one named step.</summary>
/// <param name="Name">Step name, as passed to <see cref="IterationContext.SendAsync"/>.</param>
/// <param name="Histogram">All of the step's latencies in microseconds.</param>
/// <param name="Outcomes">Per status code / error, most frequent first.</param>
public sealed record StepStats(string Name, HistogramBase Histogram, IReadOnlyList<OutcomeStats> Outcomes)
{
    /// <summary>Latency over all outcomes.</summary>
    public LatencySummary Latency => LatencySummary.From(Histogram);

    /// <summary>Failed requests.</summary>
    public long Errors => Outcomes.Where(outcome => outcome.Error is not null).Sum(outcome => outcome.Latency.Count);

    /// <summary>Failed requests by kind.</summary>
    public IReadOnlyDictionary<ErrorKind, long> ErrorsByKind =>
        Outcomes.Where(outcome => outcome.Error is not null)
            .GroupBy(outcome => outcome.Error!.Value)
            .ToDictionary(group => group.Key, group => group.Sum(outcome => outcome.Latency.Count));
}

/// <summary>Figures for one second of the run (the last point may cover less).</summary>
/// <param name="ElapsedSeconds">End of the interval, from the start of the run.</param>
/// <param name="IntervalSeconds">Length of the interval.</param>
/// <param name="Started">Iterations started in the interval.</param>
/// <param name="Completed">Requests completed in the interval.</param>
/// <param name="Errors">Failed requests among them.</param>
/// <param name="Late">Open-model iterations that started later than the late threshold.</param>
/// <param name="InFlight">Iterations running at the end of the interval.</param>
/// <param name="TargetRate">Scheduled iterations per second, for open models while arrivals are due.</param>
/// <param name="Latency">Latency of the requests completed in the interval.</param>
public sealed record TimelinePoint(
    double ElapsedSeconds,
    double IntervalSeconds,
    long Started,
    long Completed,
    long Errors,
    long Late,
    long InFlight,
    double? TargetRate,
    LatencySummary Latency)
{
    /// <summary>Completed requests per second.</summary>
    public double Throughput => IntervalSeconds > 0 ? Completed / IntervalSeconds : 0;
}

/// <summary>One window of the run (a minute; the last may be shorter): what completed in it.</summary>
/// <param name="FromSeconds">Start of the window, from the start of the run.</param>
/// <param name="ToSeconds">End of the window.</param>
/// <param name="Latency">Every step's requests completed in the window.</param>
/// <param name="Errors">Failed requests among them.</param>
/// <param name="Steps">Per step, in order of first use: latency and the count of each outcome.</param>
public sealed record WindowStats(double FromSeconds, double ToSeconds, LatencySummary Latency, long Errors, IReadOnlyList<WindowStep> Steps);

/// <summary>One step's requests completed in a <see cref="WindowStats"/>.</summary>
/// <param name="Name">Step name.</param>
/// <param name="Latency">Latency over its outcomes.</param>
/// <param name="Outcomes">Requests per status code or transport error, most frequent first.</param>
public sealed record WindowStep(string Name, LatencySummary Latency, IReadOnlyList<OutcomeCount> Outcomes)
{
    /// <summary>Failed requests.</summary>
    public long Errors => Outcomes.Where(outcome => outcome.Error is not null).Sum(outcome => outcome.Count);
}

/// <summary>How many requests of a step had one outcome.</summary>
/// <param name="Label">The status code ("200") or the error ("timeout", ...).</param>
/// <param name="Error">Why this outcome counts as failed, or null when it does not.</param>
/// <param name="Count">Requests.</param>
public sealed record OutcomeCount(string Label, ErrorKind? Error, long Count);

/// <summary>Live figures handed to <see cref="LoadRunOptions.OnProgress"/> once per second.</summary>
/// <param name="Elapsed">Time since the start.</param>
/// <param name="Planned">The simulation's duration plus the scenario's drain timeout, if it set one.</param>
/// <param name="Last">The second that just ended.</param>
/// <param name="TotalCompleted">Requests completed so far.</param>
/// <param name="TotalErrors">Failed requests so far.</param>
/// <param name="TotalLate">Late open-model starts so far.</param>
/// <param name="Detail">The scenario's <see cref="Scenario.ProgressDetail"/>, if any.</param>
public sealed record ProgressSnapshot(TimeSpan Elapsed, TimeSpan Planned, TimelinePoint Last, long TotalCompleted, long TotalErrors, long TotalLate, string? Detail);

/// <summary>
/// What the tool's process spent over a run. It is the whole process: when a test hosts the target in the
/// same process, the target's share is in it too.
/// </summary>
/// <param name="Cpu">User plus system CPU time.</param>
/// <param name="AllocatedBytes">Bytes allocated on the managed heap (what the GC has to collect).</param>
/// <param name="Collections">Garbage collections of any generation.</param>
/// <param name="Gen2Collections">Full (generation 2) collections.</param>
/// <param name="Paused">Total time the runtime paused the process for them.</param>
public sealed record ToolStats(TimeSpan Cpu, long AllocatedBytes, int Collections, int Gen2Collections, TimeSpan Paused)
{
    /// <summary>CPU microseconds per request, or null without requests.</summary>
    public double? CpuMicrosPer(long requests) => requests > 0 ? Cpu.TotalMilliseconds * 1000 / requests : null;

    /// <summary>Managed bytes allocated per request, or null without requests.</summary>
    public double? BytesPer(long requests) => requests > 0 ? (double)AllocatedBytes / requests : null;

    /// <summary>One line for reports and the console.</summary>
    public string Describe(long requests, TimeSpan elapsed)
    {
        var perRequest = requests > 0
            ? Invariant($"{CpuMicrosPer(requests):0.#} us CPU and {BytesPer(requests):0} bytes allocated per request, ")
            : string.Empty;
        var cores = elapsed > TimeSpan.Zero ? Cpu / elapsed : 0;
        return Invariant(
            $"{perRequest}{cores:0.##} cores busy on average; GC: {Collections} collections ({Gen2Collections} full), {Paused.TotalMilliseconds:0.#} ms paused");
    }

    internal static ToolStats Now()
    {
        var cpu = Environment.CpuUsage;
        return new(cpu.TotalTime, GC.GetTotalAllocatedBytes(), GC.CollectionCount(0), GC.CollectionCount(2), GC.GetTotalPauseDuration());
    }

    internal ToolStats Since(ToolStats start) => new(
        Cpu - start.Cpu,
        AllocatedBytes - start.AllocatedBytes,
        Collections - start.Collections,
        Gen2Collections - start.Gen2Collections,
        Paused - start.Paused);
}

/// <summary>Iteration counts.</summary>
/// <param name="Started">Iterations begun.</param>
/// <param name="Failed">Iterations that threw (for example on an unreadable response body).</param>
/// <param name="Cancelled">Iterations still running at the end of the drain, cancelled.</param>
/// <param name="FirstFailure">Message of the first failure, to point at the cause.</param>
public sealed record IterationStats(long Started, long Failed, long Cancelled, string? FirstFailure);

/// <summary>How well an open-model run kept its arrival schedule. Closed models have no schedule.</summary>
/// <param name="IsOpenModel">False for closed models; the other figures are then zero.</param>
/// <param name="Due">Arrivals scheduled before the run stopped starting iterations.</param>
/// <param name="Started">Arrivals actually started.</param>
/// <param name="Late">Arrivals that started more than <paramref name="LateThreshold"/> after their scheduled time.</param>
/// <param name="LateThreshold">The threshold.</param>
/// <param name="Lag">Distribution of start lag (actual start minus scheduled time).</param>
/// <param name="MaxInFlight">The in-flight cap.</param>
/// <param name="CapHits">Arrivals that found the cap reached and had to wait for a slot.</param>
public sealed record ScheduleStats(bool IsOpenModel, long Due, long Started, long Late, TimeSpan LateThreshold, LatencySummary Lag, int MaxInFlight, long CapHits)
{
    /// <summary>
    /// Share of late starts tolerated before the schedule counts as not kept. A lone pause of the tool's
    /// process (GC, a descheduled thread) should not fail a run, a trend should; at 1% the start lag's
    /// p99 stays within the late threshold, so the tool's own lag moves the latency p99 by less than that.
    /// </summary>
    public const double LateTolerance = 0.01;

    /// <summary>Arrivals that were due but never started.</summary>
    public long NotSent => Due - Started;

    /// <summary>True when no arrival was dropped or held by the in-flight cap and at most <see cref="LateTolerance"/> started late.</summary>
    public bool Kept => !IsOpenModel || (NotSent == 0 && CapHits == 0 && Late <= Started * LateTolerance);

    /// <summary>One sentence for reports and the console.</summary>
    public string Describe()
    {
        if (!IsOpenModel)
        {
            return "closed model: no arrival schedule (latency timed from each actual send)";
        }

        var threshold = LateThreshold.TotalMilliseconds;
        var lag = Invariant($"start lag p99 {Lag.P99Ms:0.###} ms, max {Lag.MaxMs:0.###} ms");
        var cap = CapHits == 0
            ? Invariant($"in-flight cap {MaxInFlight} never hit")
            : Invariant($"in-flight cap {MaxInFlight} hit by {CapHits} arrivals");
        var notSent = NotSent > 0 ? Invariant($"; {NotSent} due arrivals never sent") : string.Empty;
        return Kept
            ? Invariant($"schedule kept: {Late} of {Started} requests started > {threshold:0.##} ms late (tolerance {LateTolerance:P1}); {lag}; {cap}")
            : Invariant($"SCHEDULE NOT KEPT: {Late} of {Started} requests started > {threshold:0.##} ms late; {lag}; {cap}{notSent}. The tool, not only the target, limited this run: latencies still count from the scheduled times.");
    }
}
