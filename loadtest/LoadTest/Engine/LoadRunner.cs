namespace LoadTest.Engine;

/// <summary>Entry point of the engine: runs a <see cref="Scenario"/> and returns what it measured.</summary>
public static class LoadRunner
{
    /// <summary>
    /// Runs <paramref name="scenario"/> to the end of its simulation, lets in-flight iterations finish
    /// (up to <see cref="Scenario.DrainTimeout"/>), and summarises. Cancelling <paramref name="cancellationToken"/>
    /// stops early and still returns what was measured, with <see cref="LoadTestResult.Cancelled"/> set.
    /// </summary>
    /// <exception cref="ArgumentException">The simulation or options are outside <see cref="LoadLimits"/>.</exception>
    public static async Task<LoadTestResult> RunAsync(Scenario scenario, LoadRunOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(options);
        scenario.Simulation.Validate();
        options.Validate();
        if (scenario.MaxIterations is < 1)
        {
            throw new ArgumentException("max iterations must be at least 1");
        }

        if (scenario.DrainTimeout is { } drain && (drain < TimeSpan.Zero || drain > LoadLimits.MaxDuration))
        {
            throw new ArgumentException("drain timeout must be in [0, 30 min]");
        }

        using var run = new ScenarioRun(scenario, options, cancellationToken);
        return await run.ExecuteAsync();
    }
}
