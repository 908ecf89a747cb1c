using static System.FormattableString;

namespace LoadTest.Engine;

/// <summary>How <see cref="LoadRunner"/> executes a scenario.</summary>
public sealed record LoadRunOptions
{
    /// <summary>The client every step sends through; see <see cref="LoadTestHttp.CreateClient"/>.</summary>
    public required HttpClient Client { get; init; }

    /// <summary>A step without a complete response by then counts as <see cref="ErrorKind.Timeout"/>.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Most iterations running at once. When an open-model arrival finds the cap reached it waits for a
    /// slot, starts late, and the report says the schedule was not kept.
    /// </summary>
    public int MaxInFlight { get; init; } = 10_000;

    /// <summary>An open-model iteration starting later than this after its scheduled time counts as late.</summary>
    public TimeSpan LateThreshold { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>Called once per second from a background task with the live figures.</summary>
    public Action<ProgressSnapshot>? OnProgress { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> when a value is outside <see cref="LoadLimits"/>.</summary>
    public void Validate()
    {
        if (RequestTimeout <= TimeSpan.Zero || RequestTimeout > LoadLimits.MaxRequestTimeout)
        {
            throw new ArgumentException(Invariant($"request timeout must be in (0, {LoadLimits.MaxRequestTimeout.TotalSeconds}] s"));
        }

        if (MaxInFlight < 1 || MaxInFlight > LoadLimits.MaxInFlight)
        {
            throw new ArgumentException(Invariant($"max in-flight must be in [1, {LoadLimits.MaxInFlight}], got {MaxInFlight}"));
        }

        if (LateThreshold <= TimeSpan.Zero || LateThreshold > TimeSpan.FromMinutes(1))
        {
            throw new ArgumentException("late threshold must be in (0, 60] s");
        }
    }
}
