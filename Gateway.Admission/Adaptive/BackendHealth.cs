using System.Collections.Concurrent;
using System.Diagnostics;

namespace Gateway.Admission.Adaptive;

/// <summary>The state of a cluster's circuit breaker, as adaptive admission and the metrics see it.</summary>
public enum BreakerState
{
    /// <summary>Requests flow.</summary>
    Closed,

    /// <summary>The breaker opened and its break has not ended: no request reaches the cluster.</summary>
    Open,

    /// <summary>The break ended; the next request probes the cluster and closes or reopens the breaker.</summary>
    HalfOpen,
}

/// <summary>
/// What the forwarding layer sees of each cluster (a YARP cluster id): every attempt's response class and
/// latency, attempts that got no response, and the state of the cluster's circuit breaker. Adaptive admission
/// reads it to pace each room by the clusters its routes forward to. The host feeds it: the handler from
/// <see cref="CreateHandler"/> goes into each cluster's forwarding handler chain, below any retry, so each
/// attempt is one observation; the breaker registers its state with <see cref="TrackBreaker"/> and reports
/// attempts it timed out with <see cref="AttemptFailed"/>. A host that feeds nothing leaves every cluster
/// looking healthy, so adaptation only raises the rate up to the configured one.
/// </summary>
public sealed class BackendHealth
{
    private readonly ConcurrentDictionary<string, ClusterCounters> _clusters = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Func<BreakerState>> _breakers = new(StringComparer.Ordinal);

    /// <summary>A handler that records each response (or transport failure) of <paramref name="clusterId"/>; set its inner handler.</summary>
    public DelegatingHandler CreateHandler(string clusterId) => new ObservingHandler(Counters(clusterId));

    /// <summary>An attempt to <paramref name="clusterId"/> ended without a response the handler saw (e.g. a per-try timeout).</summary>
    public void AttemptFailed(string clusterId) => Counters(clusterId).Failed();

    /// <summary>Registers where the breaker state of <paramref name="clusterId"/> is read from (replacing an earlier one).</summary>
    public void TrackBreaker(string clusterId, Func<BreakerState> state) => _breakers[clusterId] = state;

    /// <summary>Forgets the breaker of <paramref name="clusterId"/> (its resilience settings were removed).</summary>
    public void UntrackBreaker(string clusterId) => _breakers.TryRemove(clusterId, out _);

    /// <summary>The cluster's counters since start-up (callers diff two reads) and its breaker state now.</summary>
    internal ClusterHealthSample Read(string clusterId)
    {
        var counters = Counters(clusterId);
        var breaker = _breakers.TryGetValue(clusterId, out var state) ? state() : BreakerState.Closed;
        return counters.Sample(clusterId, breaker);
    }

    private ClusterCounters Counters(string clusterId) => _clusters.GetOrAdd(clusterId, static _ => new ClusterCounters());

    /// <summary>Lock-free cumulative counters of one cluster.</summary>
    private sealed class ClusterCounters
    {
        private readonly long[] _latency = new long[LatencyBuckets.Count];
        private long _responses;
        private long _overloaded;
        private long _failed;

        public void Response(int status, TimeSpan elapsed)
        {
            Interlocked.Increment(ref _responses);
            if (status >= 500 || status == 429)
                Interlocked.Increment(ref _overloaded);
            Interlocked.Increment(ref _latency[LatencyBuckets.Index(elapsed)]);
        }

        public void Failed() => Interlocked.Increment(ref _failed);

        public ClusterHealthSample Sample(string clusterId, BreakerState breaker)
        {
            var latency = new long[_latency.Length];
            for (var i = 0; i < latency.Length; i++)
                latency[i] = Volatile.Read(ref _latency[i]);
            return new ClusterHealthSample(clusterId, Volatile.Read(ref _responses), Volatile.Read(ref _overloaded), Volatile.Read(ref _failed), latency, breaker);
        }
    }

    /// <summary>Times each attempt to its response headers and counts its class; transport failures count as failed.</summary>
    private sealed class ObservingHandler(ClusterCounters counters) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var started = Stopwatch.GetTimestamp();
            HttpResponseMessage response;
            try
            {
                response = await base.SendAsync(request, cancellationToken);
            }
            catch (HttpRequestException)
            {
                counters.Failed();
                throw;
            }
            counters.Response((int)response.StatusCode, Stopwatch.GetElapsedTime(started));
            return response;
        }
    }
}

/// <summary>One read of a cluster's cumulative counters.</summary>
/// <param name="Responses">Attempts that got a response.</param>
/// <param name="Overloaded">Responses with status 5xx or 429.</param>
/// <param name="Failed">Attempts without a response: transport errors, per-try timeouts.</param>
/// <param name="Latency">Responses per latency bucket (<see cref="LatencyBuckets"/>).</param>
internal sealed record ClusterHealthSample(string Cluster, long Responses, long Overloaded, long Failed, long[] Latency, BreakerState Breaker)
{
    /// <summary>Responses in <paramref name="since"/>..this read that were slower than <paramref name="target"/> (to the bucket's resolution).</summary>
    public long SlowerThan(ClusterHealthSample since, TimeSpan target)
    {
        long slow = 0;
        for (var i = LatencyBuckets.FirstAtOrAbove(target); i < Latency.Length; i++)
            slow += Latency[i] - since.Latency[i];
        return slow;
    }
}

/// <summary>
/// Latency buckets a quarter of a power of two wide (19%): bucket 0 holds responses under 1 ms, bucket i
/// those from 2^((i-1)/4) ms up to the next edge, the last one everything from 46 s. Counting into them is
/// one interlocked add; any room's target can be judged from them.
/// </summary>
internal static class LatencyBuckets
{
    public const int Count = 64;

    public static int Index(TimeSpan elapsed)
    {
        var ms = elapsed.TotalMilliseconds;
        return ms < 1 ? 0 : Math.Min(Count - 1, 1 + (int)(Math.Log2(ms) * 4));
    }

    /// <summary>The first bucket whose lower edge is at or above <paramref name="target"/>.</summary>
    public static int FirstAtOrAbove(TimeSpan target)
    {
        var ms = target.TotalMilliseconds;
        return ms <= 1 ? 1 : Math.Min(Count, 1 + (int)Math.Ceiling(Math.Log2(ms) * 4));
    }
}
