using LoadTest.Engine;
using LoadTest.Scenarios;

namespace LoadTest.Reporting;

/// <summary>A run with the label it carries in a report ("main", "prefill", "2000/s").</summary>
public sealed record ReportRun(string Label, LoadTestResult Result);

/// <summary>Everything one report shows; see <see cref="ReportWriter.Write"/>.</summary>
public sealed record ReportDocument
{
    /// <summary>Report heading.</summary>
    public required string Title { get; init; }

    /// <summary>Bullet lines under the heading: target, command line, settings.</summary>
    public required IReadOnlyList<string> Facts { get; init; }

    /// <summary>The measured runs: one, or one per find-max step. Timeline and charts cover them in order.</summary>
    public required IReadOnlyList<ReportRun> Measured { get; init; }

    /// <summary>A setup run measured on the side (the status-storm prefill), if any.</summary>
    public ReportRun? Setup { get; init; }

    /// <summary>The find-max search, when the measured runs are its steps.</summary>
    public RateSearchResult? Search { get; init; }

    /// <summary>The flash crowd's per-user summary.</summary>
    public FlashCrowdResult? FlashCrowd { get; init; }

    /// <summary>The backend-pace run's per-second samples and verdicts.</summary>
    public PaceResult? Pace { get; init; }

    /// <summary>The flash crowd's admission bound inputs, for the report text.</summary>
    public (double Capacity, double RefillPerSecond)? Bucket { get; init; }
}
