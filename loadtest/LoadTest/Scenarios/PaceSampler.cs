using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using static System.FormattableString;

namespace LoadTest.Scenarios;

/// <summary>
/// One second of a backend-pace run, cumulative where it says so: the backends' capacity (per backend) and
/// counters (summed over them), the room's effective rate and promotions from the gateway's <c>/metrics</c>,
/// and the users' own counts.
/// </summary>
public sealed record PaceSample(
    double Seconds,
    double Capacity,
    double? EffectiveRate,
    double? PromotionsTotal,
    double? Waiting,
    long BackendRequests,
    long BackendServed,
    long BackendRejected,
    ClientCounts Client);

/// <summary>
/// Runs beside a <see cref="BackendPaceScenario"/>: applies the capacity schedule to the sample backends
/// (<c>POST /_backend/capacity</c>) at its times, and samples everything once a second until stopped.
/// </summary>
public static class PaceSampler
{
    private static readonly TimeSpan SampleEvery = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Sets the first capacity, then samples until <paramref name="stop"/> is cancelled. Returns the samples and how
    /// many seconds have none because a backend or the gateway did not answer within 2 s.
    /// </summary>
    public static async Task<(IReadOnlyList<PaceSample> Samples, int Missed)> RunAsync(HttpClient client, BackendPaceScenario scenario, CancellationToken stop)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(scenario);
        var options = scenario.Options;
        var samples = new List<PaceSample>();
        var missed = 0;
        var next = 0;
        var capacity = 0.0;
        var origin = Stopwatch.GetTimestamp();
        for (var tick = 0; !stop.IsCancellationRequested; tick++)
        {
            var due = origin + (long)(tick * SampleEvery.TotalSeconds * Stopwatch.Frequency);
            var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
            if (wait > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(wait, stop);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }

            var seconds = Stopwatch.GetElapsedTime(origin).TotalSeconds;
            try
            {
                while (next < options.CapacitySchedule.Count && options.CapacitySchedule[next].AtSeconds <= seconds + 0.01)
                {
                    await Task.WhenAll(options.Backends.Select(backend => SetCapacityAsync(client, backend, options.CapacitySchedule[next].PerSecond)));
                    capacity = options.CapacitySchedule[next++].PerSecond;
                }

                samples.Add(await SampleAsync(client, scenario, seconds, capacity));
            }
            catch (Exception exception) when (exception is HttpRequestException or OperationCanceledException or System.Text.Json.JsonException)
            {
                // A machine too busy to answer within the call timeout: this second has no sample (a capacity change is retried next second).
                missed++;
            }
        }

        return (samples, missed);
    }



    private static async Task SetCapacityAsync(HttpClient client, Uri backend, double perSecond)
    {
        using var timeout = new CancellationTokenSource(CallTimeout);
        using var response = await client.PostAsJsonAsync(new Uri(backend, "/_backend/capacity"), new Dictionary<string, double> { ["capacity_per_second"] = perSecond }, timeout.Token);
        response.EnsureSuccessStatusCode();
    }

    private static async Task<PaceSample> SampleAsync(HttpClient client, BackendPaceScenario scenario, double seconds, double capacity)
    {
        var options = scenario.Options;
        var client0 = scenario.Counts;
        var stats = await Task.WhenAll(options.Backends.Select(async backend =>
        {
            using var timeout = new CancellationTokenSource(CallTimeout);
            return await BackendStats.FetchAsync(client, backend, timeout.Token);
        }));
        var metrics = await ScrapeAsync(client, options.Gateway);
        var room = Invariant($"room=\"{options.EventId}\"");
        return new PaceSample(
            seconds,
            capacity,
            Find(metrics, "waitingroom_refill_effective_per_second", room),
            Find(metrics, "waitingroom_promotions_total", room),
            Find(metrics, "waitingroom_queue_length", room),
            stats.Sum(s => s.Requests ?? 0),
            stats.Sum(s => s.Served ?? 0),
            stats.Sum(s => s.Rejected ?? 0),
            client0);
    }

    private static async Task<string[]> ScrapeAsync(HttpClient client, Uri gateway)
    {
        try
        {
            using var timeout = new CancellationTokenSource(CallTimeout);
            var text = await client.GetStringAsync(new Uri(gateway, "/metrics"), timeout.Token);
            return text.Split('\n');
        }
        catch (Exception exception) when (exception is HttpRequestException or OperationCanceledException)
        {
            return [];
        }
    }

    /// <summary>The value of the first sample line of <paramref name="name"/> carrying <paramref name="label"/>.</summary>
    private static double? Find(string[] lines, string name, string label)
    {
        foreach (var line in lines)
        {
            if (line.StartsWith(name + "{", StringComparison.Ordinal) && line.Contains(label, StringComparison.Ordinal))
            {
                var value = line[(line.LastIndexOf(' ') + 1)..];
                return double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) ? number : null;
            }
        }

        return null;
    }
}
