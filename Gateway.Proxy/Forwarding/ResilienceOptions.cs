namespace Gateway.Proxy.Forwarding;

/// <summary>
/// The <c>Resilience</c> section: per-cluster resilience of forwarding, keyed by YARP cluster id
/// (<c>Resilience:Clusters:&lt;clusterId&gt;</c>). A listed cluster gets a per-try timeout, a circuit breaker and
/// optional retries of safe requests, built with Microsoft.Extensions.Http.Resilience (Polly) into the
/// cluster's forwarding client; a cluster not listed is forwarded as before. Reloads apply to the next request
/// (a changed cluster starts with a closed breaker); an invalid edit is refused and the last good values stay.
/// </summary>
public sealed class ResilienceOptions
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "Resilience";

    /// <summary>Settings per cluster id.</summary>
    public Dictionary<string, ClusterResilienceOptions> Clusters { get; init; } = new(StringComparer.Ordinal);
}

/// <summary>One cluster's resilience (<c>Resilience:Clusters:&lt;clusterId&gt;</c>).</summary>
public sealed record ClusterResilienceOptions
{
    /// <summary>Longest one attempt may wait for the backend's response headers; a timed-out attempt counts as a failure.</summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Retries of a failed attempt (no response: connection error or per-try timeout), only for safe requests
    /// (GET, HEAD, OPTIONS, TRACE), never for a 5xx or 429 answer (a retry adds load to a backend that said it
    /// has too much). 0 = none.
    /// </summary>
    public int MaxRetries { get; init; }

    /// <summary>The breaker opens when at least this share of attempts in <see cref="SamplingDuration"/> failed (5xx, 408, 429, no response).</summary>
    public double FailureRatio { get; init; } = 0.5;

    /// <summary>Attempts needed in <see cref="SamplingDuration"/> before the ratio counts. With FailureRatio 1 this is "N failures in a row".</summary>
    public int MinimumThroughput { get; init; } = 20;

    /// <summary>The window the failure ratio is measured over.</summary>
    public TimeSpan SamplingDuration { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long an open breaker answers 503 before one request probes the cluster (half-open).</summary>
    public TimeSpan BreakDuration { get; init; } = TimeSpan.FromSeconds(5);
}
