namespace LoadTest.Engine;

/// <summary>
/// A named load scenario: what one iteration does (a sequence of measured steps, see
/// <see cref="IterationContext.SendAsync"/>) and how iterations are started (<see cref="Simulation"/>).
/// </summary>
public sealed record Scenario
{
    /// <summary>Name shown in reports.</summary>
    public required string Name { get; init; }

    /// <summary>How iterations are started over time.</summary>
    public required LoadSimulation Simulation { get; init; }

    /// <summary>One iteration: one virtual user's pass through the steps.</summary>
    public required Func<IterationContext, Task> Iteration { get; init; }

    /// <summary>Stop starting iterations after this many, even if the simulation has time left.</summary>
    public long? MaxIterations { get; init; }

    /// <summary>
    /// How long iterations still in flight when the simulation ends may run on before they are cancelled.
    /// Null means the request timeout (plus its granularity and half a second): enough for single-request
    /// iterations. Long user sessions need more.
    /// </summary>
    public TimeSpan? DrainTimeout { get; init; }

    /// <summary>Optional scenario-specific text appended to each live progress line.</summary>
    public Func<string>? ProgressDetail { get; init; }
}
