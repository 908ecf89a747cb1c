using System.Text.Json;

namespace LoadTest.Scenarios;

/// <summary>
/// Counters a sample backend publishes at <c>GET /_backend/stats</c>. A field the backend did not send is null.
/// </summary>
/// <param name="Served">Requests it answered normally.</param>
/// <param name="Rejected">Requests it turned away (over its own capacity).</param>
/// <param name="Requests">Requests it received.</param>
/// <param name="MaxPerSecond">Most requests it received within one second since it started.</param>
public sealed record BackendStats(long? Served, long? Rejected, long? Requests, double? MaxPerSecond)
{
    /// <summary>Fetches <c>GET {baseUrl}/_backend/stats</c>.</summary>
    /// <exception cref="HttpRequestException">The backend did not answer 200.</exception>
    public static async Task<BackendStats> FetchAsync(HttpClient client, Uri baseUrl, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        var body = await client.GetByteArrayAsync(new Uri(baseUrl, "/_backend/stats"), timeout.Token);
        using var document = JsonDocument.Parse(body);
        var root = document.RootElement;
        return new BackendStats(Long(root, "served"), Long(root, "rejected"), Long(root, "requests"), Double(root, "max_per_second"));
    }

    private static long? Long(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.TryGetInt64(out var number) ? number : null;

    private static double? Double(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.TryGetDouble(out var number) ? number : null;
}

/// <summary>What one sample backend received during a flash crowd, against the admission bound.</summary>
/// <param name="BaseUrl">The backend.</param>
/// <param name="Before">Its counters before the run.</param>
/// <param name="After">Its counters after the run.</param>
/// <param name="TotalBound">Most requests the admission bucket can have let through during the run: capacity + refill x T.</param>
/// <param name="PerSecondBound">Most admissions in any one second: capacity + refill.</param>
public sealed record BackendLoad(Uri BaseUrl, BackendStats Before, BackendStats After, double TotalBound, double PerSecondBound)
{
    /// <summary>Requests received during the run.</summary>
    public long? Requests => After.Requests - Before.Requests;

    /// <summary>Requests served during the run.</summary>
    public long? Served => After.Served - Before.Served;

    /// <summary>Requests rejected during the run.</summary>
    public long? Rejected => After.Rejected - Before.Rejected;

    /// <summary>
    /// True when the received requests and the per-second peak stay within the bounds. Each admitted
    /// user calls each backend once, so a backend sees at most as many requests as there were admissions.
    /// </summary>
    public bool? WithinBound => Requests is { } requests && After.MaxPerSecond is { } peak
        ? requests <= TotalBound && peak <= PerSecondBound
        : null;
}
