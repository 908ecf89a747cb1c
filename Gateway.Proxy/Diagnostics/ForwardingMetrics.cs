using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Gateway.Admission.Adaptive;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Gateway.Proxy.Diagnostics;

/// <summary>
/// The proxy's own instruments: forwarding failures by cluster and YARP error kind (a backend refusing
/// connections, timing out, resetting mid-response; or no healthy destination left), exported on
/// <c>/metrics</c> as <c>gateway_forward_errors_total{cluster, error}</c>; and the resilience of the clusters
/// listed under <c>Resilience</c>: <c>gateway_breaker_state{cluster, state}</c> (1 for the state the breaker
/// is in: closed, open, half_open), <c>gateway_breaker_rejections_total{cluster}</c>,
/// <c>gateway_forward_attempt_timeouts_total{cluster}</c> and <c>gateway_forward_retries_total{cluster}</c>.
/// Cluster ids come from configuration, never from clients.
/// </summary>
internal sealed class ForwardingMetrics : IDisposable
{
    public const string MeterName = "Gateway.Proxy";

    private readonly Meter _meter;
    private static readonly (BreakerState State, string Label)[] BreakerStates =
        [(BreakerState.Closed, "closed"), (BreakerState.Open, "open"), (BreakerState.HalfOpen, "half_open")];

    private readonly Counter<long> _errors;
    private readonly Counter<long> _breakerRejections;
    private readonly Counter<long> _attemptTimeouts;
    private readonly Counter<long> _retries;
    private readonly ConcurrentDictionary<string, Func<BreakerState>> _breakers = new(StringComparer.Ordinal);

    public ForwardingMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(MeterName);
        _errors = _meter.CreateCounter<long>("gateway.forward.errors", description: "Requests YARP could not forward or complete, by cluster and error (ForwarderError).");
        _breakerRejections = _meter.CreateCounter<long>("gateway.breaker.rejections", description: "Requests answered 503 BACKEND_UNAVAILABLE because the cluster's circuit breaker was open (or probing), by cluster.");
        _attemptTimeouts = _meter.CreateCounter<long>("gateway.forward.attempt_timeouts", description: "Forwarding attempts that hit the cluster's Resilience AttemptTimeout, by cluster.");
        _retries = _meter.CreateCounter<long>("gateway.forward.retries", description: "Safe requests retried after an attempt without a response, by cluster.");
        _meter.CreateObservableGauge("gateway.breaker.state", ObserveBreakers, description: "1 for the state each cluster's circuit breaker is in (closed, open, half_open), 0 for the others.");
    }

    public void ForwardError(string cluster, ForwarderError error) =>
        _errors.Add(1, new KeyValuePair<string, object?>("cluster", cluster), new KeyValuePair<string, object?>("error", error.ToString()));

    public void BreakerRejected(string cluster) => _breakerRejections.Add(1, new KeyValuePair<string, object?>("cluster", cluster));

    public void AttemptTimedOut(string cluster) => _attemptTimeouts.Add(1, new KeyValuePair<string, object?>("cluster", cluster));

    public void Retried(string cluster) => _retries.Add(1, new KeyValuePair<string, object?>("cluster", cluster));

    /// <summary>Reports the breaker of <paramref name="cluster"/> in the state gauge, reading <paramref name="state"/> at each scrape.</summary>
    public void TrackBreaker(string cluster, Func<BreakerState> state) => _breakers[cluster] = state;

    public void UntrackBreaker(string cluster) => _breakers.TryRemove(cluster, out _);

    public void Dispose() => _meter.Dispose();

    private IEnumerable<Measurement<long>> ObserveBreakers()
    {
        foreach (var (cluster, read) in _breakers)
        {
            var current = read();
            foreach (var (state, label) in BreakerStates)
                yield return new Measurement<long>(current == state ? 1 : 0, new KeyValuePair<string, object?>("cluster", cluster), new KeyValuePair<string, object?>("state", label));
        }
    }
}

/// <summary>Wires <see cref="ForwardingMetrics"/> into the YARP pipeline.</summary>
internal static class ForwardingMetricsExtensions
{
    /// <summary>
    /// Counts every forwarding failure of the request it wraps. Put it first in <c>MapReverseProxy</c> so it
    /// also sees requests that never reach a destination.
    /// </summary>
    public static IReverseProxyApplicationBuilder UseForwardingMetrics(this IReverseProxyApplicationBuilder pipeline)
    {
        var metrics = pipeline.ApplicationServices.GetRequiredService<ForwardingMetrics>();
        pipeline.Use(async (context, next) =>
        {
            await next(context);
            if (context.Features.Get<IForwarderErrorFeature>() is { } failure)
                metrics.ForwardError(context.Features.Get<IReverseProxyFeature>()?.Cluster?.Config.ClusterId ?? "", failure.Error);
        });
        return pipeline;
    }
}
