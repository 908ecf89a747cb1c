using static System.FormattableString;

namespace LoadTest.Engine;

/// <summary>How <see cref="RateSearch.FindMaxAsync"/> steps the rate up.</summary>
public sealed record RateSearchOptions
{
    /// <summary>First rate tried, per second.</summary>
    public double StartRate { get; init; } = 100;

    /// <summary>Added to the rate after each passing step.</summary>
    public double Step { get; init; } = 100;

    /// <summary>Highest rate tried.</summary>
    public double MaxRate { get; init; } = 50_000;

    /// <summary>Length of each step.</summary>
    public TimeSpan StepDuration { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>A step fails when its p99 latency exceeds this.</summary>
    public TimeSpan P99Limit { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Number of steps if none fails.</summary>
    public int MaxSteps => (int)Math.Floor(((MaxRate - StartRate) / Step) + 1e-9) + 1;

    /// <summary>Throws <see cref="ArgumentException"/> on values outside <see cref="LoadLimits"/>.</summary>
    public void Validate()
    {
        new ConstantRate(StartRate, StepDuration).Validate();
        new ConstantRate(MaxRate, StepDuration).Validate();
        if (Step <= 0 || MaxRate < StartRate)
        {
            throw new ArgumentException("find-max needs a positive step and a max rate at or above the start rate");
        }

        if (P99Limit <= TimeSpan.Zero || P99Limit > LoadLimits.MaxRequestTimeout)
        {
            throw new ArgumentException("the p99 limit must be positive and at most the longest request timeout");
        }

        if (MaxSteps * StepDuration > LoadLimits.MaxDuration)
        {
            throw new ArgumentException(Invariant(
                $"find-max could run {MaxSteps} steps x {StepDuration.TotalSeconds} s, over the {LoadLimits.MaxDuration.TotalMinutes} min limit: raise --step or lower --max-rate or --step-seconds"));
        }
    }
}

/// <summary>One rate tried by the search.</summary>
/// <param name="TargetRate">Scheduled rate per second.</param>
/// <param name="Result">What the step measured.</param>
/// <param name="Passed">Whether it met every criterion.</param>
/// <param name="Verdict">"ok", or why it failed.</param>
public sealed record RateStepResult(double TargetRate, LoadTestResult Result, bool Passed, string Verdict);

/// <summary>Outcome of a find-max search.</summary>
/// <param name="Options">The search's settings.</param>
/// <param name="Steps">Every step run, in order; the last one failed unless the search reached the max rate.</param>
public sealed record RateSearchResult(RateSearchOptions Options, IReadOnlyList<RateStepResult> Steps)
{
    /// <summary>The last rate that passed (the knee), or null when even the start rate failed.</summary>
    public double? KneeRate => Steps.LastOrDefault(step => step.Passed)?.TargetRate;
}

/// <summary>Finds the highest sustainable rate by stepping an open-model rate up until a step fails.</summary>
public static class RateSearch
{
    /// <summary>
    /// Runs constant-rate steps from <see cref="RateSearchOptions.StartRate"/> upwards. A step fails when its
    /// p99 exceeds the limit, any request fails, or the schedule was not kept (the tool itself could not
    /// send at that rate, so the result would say nothing about the target). The search stops at the first failure.
    /// </summary>
    /// <param name="scenarioFor">Builds the scenario to run with a given simulation.</param>
    /// <param name="search">Search settings.</param>
    /// <param name="options">Run settings, shared by every step.</param>
    /// <param name="onStep">Called after each step.</param>
    /// <param name="cancellationToken">Stops the search; steps done so far are returned.</param>
    public static async Task<RateSearchResult> FindMaxAsync(
        Func<LoadSimulation, Scenario> scenarioFor,
        RateSearchOptions search,
        LoadRunOptions options,
        Action<RateStepResult>? onStep = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(scenarioFor);
        ArgumentNullException.ThrowIfNull(search);
        search.Validate();
        var steps = new List<RateStepResult>();
        for (var i = 0; i < search.MaxSteps && !cancellationToken.IsCancellationRequested; i++)
        {
            var rate = search.StartRate + (i * search.Step);
            var result = await LoadRunner.RunAsync(scenarioFor(new ConstantRate(rate, search.StepDuration)), options, cancellationToken);
            var verdict = Judge(result, search.P99Limit);
            var step = new RateStepResult(rate, result, verdict is null, verdict ?? "ok");
            steps.Add(step);
            onStep?.Invoke(step);
            if (!step.Passed)
            {
                break;
            }
        }

        return new RateSearchResult(search, steps);
    }

    private static string? Judge(LoadTestResult result, TimeSpan p99Limit)
    {
        if (result.Cancelled)
        {
            return "cancelled";
        }

        if (result.Errors > 0)
        {
            return Invariant($"{result.Errors} errors");
        }

        if (result.Iterations.Failed > 0)
        {
            return Invariant($"{result.Iterations.Failed} iterations failed");
        }

        if (!result.Schedule.Kept)
        {
            return "schedule not kept";
        }

        var p99 = result.Overall.P99Ms;
        return p99 > p99Limit.TotalMilliseconds ? Invariant($"p99 {p99:0.##} ms > {p99Limit.TotalMilliseconds:0.##} ms") : null;
    }
}
