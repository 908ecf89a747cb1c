using System.Globalization;
using Gateway.Admission.Queue;

namespace Gateway.Admission.Adaptive;

/// <summary>
/// This instance's side of adaptive admission for one room: it turns what the instance saw of the room's
/// clusters into a verdict for adapt.lua, which decides for every instance. Pure: the time is a parameter,
/// so the maths is tested under a fake clock.
/// <para>
/// A verdict judges half a control period of traffic. After the rate changes (whoever changed it) the next
/// half period is not judged (a whole one after a decrease): its backend calls come from people admitted at
/// the old rate. A breaker of one
/// of the room's clusters being open is reported at once (and again every second while it lasts), whatever
/// the window.
/// </para>
/// <para>
/// A cluster is overloaded when more than <see cref="AdaptiveOptions.ErrorRatio"/> of its attempts in the
/// window got 5xx, 429 or no response (and at least <see cref="MinimumBad"/> did), or when more than 10% of
/// its responses were slower than <see cref="AdaptiveOptions.TargetLatency"/> (p90 above it). The report carries
/// the share of the worst cluster's attempts that were not overloaded (what the backend took); adapt.lua sets the
/// rate to that share of the rate that caused it, less the room's margin (<see cref="AdaptiveOptions.DecreaseFactor"/>):
/// a backend turning away 80% of what a room sends says the room admits five times too fast, and one step brings
/// the rate just under what the backend takes; a backend turning away 2% costs the rate 2% and the margin, not a
/// fixed cut. Slowness says nothing of the overload's size: it reports 1 (the margin alone). A window with more
/// than half of <see cref="AdaptiveOptions.ErrorRatio"/> overloaded (and at least two) holds the rate: a backend
/// that counts its capacity in fixed windows turns a few away at 90-95% of it, as arrivals bunch up, and probing
/// further would only buy more of them.
/// </para>
/// </summary>
internal sealed class AdaptiveController
{
    /// <summary>A window needs at least this many bad (or slow) attempts to count as overloaded: one stray 500 is not a verdict.</summary>
    public const int MinimumBad = 2;

    /// <summary>
    /// A window with more than this share of <see cref="AdaptiveOptions.ErrorRatio"/> overloaded (and at least
    /// <see cref="MinimumBad"/>), but not more than the ratio, holds the rate: the room is at its backends' limit.
    /// </summary>
    public const double NearShare = 0.5;

    /// <summary>More than this share of responses slower than the target = p90 above the target.</summary>
    public const double SlowShare = 0.10;

    /// <summary>How often a pause is repeated while a breaker stays open, so the store's pause outlasts it.</summary>
    public static readonly TimeSpan PauseEvery = TimeSpan.FromSeconds(1);

    private Dictionary<string, ClusterHealthSample>? _baseline;
    private DateTimeOffset _windowStart = DateTimeOffset.MinValue;
    private DateTimeOffset _lastReport = DateTimeOffset.MinValue;
    private DateTimeOffset _lastPause = DateTimeOffset.MinValue;
    private double? _rate;
    private bool _knowsRate;

    /// <summary>The adaptive rate the store last reported (null = none set).</summary>
    public double? Rate => _rate;

    /// <summary>
    /// The report to send now, or null. <paramref name="clusters"/> are this instance's cumulative counters of
    /// the room's clusters (see <see cref="BackendHealth"/>), read now.
    /// </summary>
    public AdaptReport? Next(DateTimeOffset now, IReadOnlyList<ClusterHealthSample> clusters, AdaptiveOptions options)
    {
        var half = options.ControlPeriod / 2;
        if (clusters.FirstOrDefault(c => c.Breaker == BreakerState.Open) is { } open)
        {
            // Nothing seen before or during the pause says anything about the rate after it.
            Settle(now, half);
            if (now - _lastPause < PauseEvery)
                return null;
            _lastPause = now;
            return Sent(now, new AdaptReport(AdaptVerdict.Pause, Evidence: $"circuit breaker of cluster {open.Cluster} is open"));
        }

        if (_baseline is null)
        {
            if (now >= _windowStart)
            {
                _baseline = clusters.ToDictionary(c => c.Cluster, StringComparer.Ordinal);
                _windowStart = now;
            }
            // Still report now and then: to learn the rate, and so a paused room can resume.
            return Due(now, half) || !_knowsRate ? Sent(now, AdaptReport.Hold) : null;
        }

        if (now - _windowStart < half)
            return null;
        var report = Judge(_baseline, clusters, options);
        _baseline = clusters.ToDictionary(c => c.Cluster, StringComparer.Ordinal);
        _windowStart = now;
        return Sent(now, report);
    }

    /// <summary>
    /// Takes in the store's answer. When the rate changed, the next half period (a whole one after a decrease,
    /// whose overload may still arrive from people admitted before it) is not judged.
    /// </summary>
    public void Applied(DateTimeOffset now, AdaptResult result, AdaptiveOptions options)
    {
        if (_knowsRate && result.RatePerSecond != _rate)
            Settle(now, result.RatePerSecond < _rate ? options.ControlPeriod : options.ControlPeriod / 2);
        _rate = result.RatePerSecond;
        _knowsRate = true;
    }

    /// <summary>The verdict on one window: <paramref name="before"/> and <paramref name="now"/> are cumulative reads.</summary>
    internal static AdaptReport Judge(IReadOnlyDictionary<string, ClusterHealthSample> before, IReadOnlyList<ClusterHealthSample> now, AdaptiveOptions options)
    {
        (string Cluster, long Attempts, long Bad, double Share)? worst = null;
        (string Cluster, long Responses, long Slow)? slowest = null;
        (string Cluster, long Attempts, long Bad)? near = null;
        var halfOpen = false;
        foreach (var sample in now)
        {
            halfOpen |= sample.Breaker == BreakerState.HalfOpen;
            if (!before.TryGetValue(sample.Cluster, out var start))
                continue;
            var responses = sample.Responses - start.Responses;
            var bad = sample.Overloaded - start.Overloaded + (sample.Failed - start.Failed);
            var attempts = responses + (sample.Failed - start.Failed);
            if (attempts > 0 && bad >= MinimumBad && bad > options.ErrorRatio * attempts && (worst is null || (double)bad / attempts > worst.Value.Share))
                worst = (sample.Cluster, attempts, bad, (double)bad / attempts);
            else if (attempts > 0 && bad >= MinimumBad && bad > options.ErrorRatio * NearShare * attempts)
                near = (sample.Cluster, attempts, bad);
            var slow = sample.SlowerThan(start, options.TargetLatency);
            if (slow >= MinimumBad && slow > SlowShare * responses && (slowest is null || slow * slowest.Value.Responses > slowest.Value.Slow * responses))
                slowest = (sample.Cluster, responses, slow);
        }

        if (worst is { } w)
        {
            var factor = Math.Max(0, 1 - w.Share);
            return new AdaptReport(AdaptVerdict.Decrease, factor,
                string.Create(CultureInfo.InvariantCulture, $"cluster {w.Cluster}: {w.Bad} of {w.Attempts} attempts overloaded ({w.Share:P1})"));
        }
        if (slowest is { } s)
        {
            return new AdaptReport(AdaptVerdict.Decrease, 1,
                string.Create(CultureInfo.InvariantCulture, $"cluster {s.Cluster}: {s.Slow} of {s.Responses} responses slower than {options.TargetLatency.TotalMilliseconds} ms"));
        }
        // A breaker probing its cluster says nothing good yet; a cluster turning away a little is at its limit: more
        // would only find it again (the probe's cost), less is not called for.
        if (halfOpen)
            return AdaptReport.Hold;
        if (near is { } n)
            return new AdaptReport(AdaptVerdict.Hold, Evidence: string.Create(CultureInfo.InvariantCulture, $"cluster {n.Cluster}: {n.Bad} of {n.Attempts} attempts overloaded, near the limit"));
        return new AdaptReport(AdaptVerdict.Increase, Evidence: "the room's clusters coped");
    }

    private void Settle(DateTimeOffset now, TimeSpan half)
    {
        _baseline = null;
        _windowStart = now + half;
    }

    private bool Due(DateTimeOffset now, TimeSpan every) => now - _lastReport >= every;

    private AdaptReport Sent(DateTimeOffset now, AdaptReport report)
    {
        _lastReport = now;
        return report;
    }
}
