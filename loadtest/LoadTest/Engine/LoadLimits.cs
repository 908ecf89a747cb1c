namespace LoadTest.Engine;

/// <summary>
/// Upper bounds on what a run may ask for. A typo such as an extra zero should fail fast with a clear
/// message instead of hammering the machine for hours.
/// </summary>
public static class LoadLimits
{
    /// <summary>Longest run (or find-max step, or flash crowd) the tool accepts.</summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromMinutes(30);

    /// <summary>Highest arrival rate, in iterations per second, of any open-model simulation.</summary>
    public const double MaxRate = 200_000;

    /// <summary>Most concurrent virtual users of a closed-model simulation.</summary>
    public const int MaxConcurrency = 100_000;

    /// <summary>Highest in-flight cap; also the most users a flash crowd may simulate.</summary>
    public const int MaxInFlight = 1_000_000;

    /// <summary>Longest per-request timeout.</summary>
    public static readonly TimeSpan MaxRequestTimeout = TimeSpan.FromMinutes(2);
}
