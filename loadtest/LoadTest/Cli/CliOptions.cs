using LoadTest.Engine;

namespace LoadTest.Cli;

/// <summary>The scenarios the command line can run.</summary>
internal enum ScenarioKind
{
    Http,
    Admitted,
    StatusStorm,
    FlashCrowd,
    BackendPace,
}

/// <summary>A validated command line. See loadtest/README.md for every option.</summary>
internal sealed record CliOptions
{
    public required ScenarioKind Scenario { get; init; }

    public required string ScenarioName { get; init; }

    public required string OutputDirectory { get; init; }

    /// <summary>The load model of a single run; null for find-max and flash-crowd (which build their own).</summary>
    public LoadSimulation? Simulation { get; init; }

    public RateSearchOptions? Search { get; init; }

    /// <summary>Unmeasured run before the measured one; zero for none.</summary>
    public TimeSpan WarmUp { get; init; }

    public TimeSpan RequestTimeout { get; init; }

    public int MaxInFlight { get; init; }

    public int MaxConnections { get; init; }

    public TimeSpan LateThreshold { get; init; }

    public Uri? Url { get; init; }

    public Uri? Target { get; init; }

    public string EventId { get; init; } = "concert";

    public string UserPrefix { get; init; } = "u-";

    public string GatedPath { get; init; } = string.Empty;

    public TimeSpan AdmitTimeout { get; init; }

    public int Prefill { get; init; }

    public int PrefillConcurrency { get; init; }

    public int Sample { get; init; }

    public int Users { get; init; }

    public TimeSpan JoinPeriod { get; init; }

    public TimeSpan CrowdDuration { get; init; }

    public IReadOnlyList<Uri> BackendStats { get; init; } = [];

    public double BucketCapacity { get; init; }

    public double BucketRefill { get; init; }

    public double ArrivalsPerSecond { get; init; }

    public IReadOnlyList<Scenarios.CapacityStep> CapacitySchedule { get; init; } = [];

    public TimeSpan ThinkTime { get; init; }

    public TimeSpan Transient { get; init; }

    /// <summary>A word for the run (e.g. "adaptive on"), shown in the report's title and chart.</summary>
    public string? Label { get; init; }

    /// <summary>Every URL the run will contact, for the loopback check.</summary>
    public IEnumerable<Uri> Targets => new[] { Url, Target }.OfType<Uri>().Concat(BackendStats).Distinct();
}
