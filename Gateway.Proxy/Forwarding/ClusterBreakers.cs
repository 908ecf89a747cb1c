using System.Collections.Frozen;
using Gateway.Admission.Adaptive;
using Gateway.Proxy.Diagnostics;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Timeout;

namespace Gateway.Proxy.Forwarding;

/// <summary>
/// The resilience pipeline of each cluster listed under <c>Resilience:Clusters</c>: a circuit breaker over a
/// per-try timeout (Microsoft.Extensions.Http.Resilience's strategy options, Polly's strategies), with retries
/// in front for safe requests when <c>MaxRetries</c> is set. <see cref="GatewayForwarderHttpClientFactory"/>
/// puts it into the cluster's forwarding client; <see cref="BreakerGate"/> reads the breaker's state before
/// forwarding. Rebuilt per cluster when its settings change (an unchanged cluster keeps its breaker and state).
/// </summary>
internal sealed class ClusterBreakers : IDisposable
{
    private static readonly HashSet<HttpMethod> SafeMethods = [HttpMethod.Get, HttpMethod.Head, HttpMethod.Options, HttpMethod.Trace];
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(50);

    private readonly BackendHealth _health;
    private readonly ForwardingMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<ClusterBreakers> _logger;
    private readonly IDisposable? _subscription;
    private volatile FrozenDictionary<string, ClusterResilience> _clusters;

    public ClusterBreakers(IOptionsMonitor<ResilienceOptions> options, BackendHealth health, ForwardingMetrics metrics, TimeProvider time, ILogger<ClusterBreakers> logger)
    {
        _health = health;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _clusters = Build(options.CurrentValue, FrozenDictionary<string, ClusterResilience>.Empty);
        _subscription = options.OnChange(o => _clusters = Build(o, _clusters));
    }

    /// <summary>The pipeline for one attempt of <paramref name="request"/> to <paramref name="clusterId"/>; empty for a cluster without settings.</summary>
    public ResiliencePipeline<HttpResponseMessage> Pipeline(string clusterId, HttpRequestMessage request) =>
        _clusters.TryGetValue(clusterId, out var cluster)
            ? cluster.Retrying is { } retrying && SafeMethods.Contains(request.Method) ? retrying : cluster.Attempt
            : ResiliencePipeline<HttpResponseMessage>.Empty;

    /// <summary>True while the cluster's breaker is open and its break lasts; <paramref name="retryAfter"/> is what is left of it.</summary>
    public bool IsOpen(string clusterId, out TimeSpan retryAfter)
    {
        if (_clusters.TryGetValue(clusterId, out var cluster) && cluster.Status.Current == BreakerState.Open)
        {
            retryAfter = cluster.Status.RetryAfter;
            return true;
        }
        retryAfter = TimeSpan.Zero;
        return false;
    }

    /// <summary>The Retry-After for a request the breaker refused while probing (half-open): the break duration.</summary>
    public TimeSpan BreakDuration(string clusterId) =>
        _clusters.TryGetValue(clusterId, out var cluster) ? cluster.Options.BreakDuration : TimeSpan.FromSeconds(1);

    public void Dispose() => _subscription?.Dispose();

    private FrozenDictionary<string, ClusterResilience> Build(ResilienceOptions options, FrozenDictionary<string, ClusterResilience> previous)
    {
        var next = new Dictionary<string, ClusterResilience>(StringComparer.Ordinal);
        foreach (var (id, settings) in options.Clusters)
        {
            next[id] = previous.TryGetValue(id, out var kept) && kept.Options == settings ? kept : Create(id, settings);
            if (!ReferenceEquals(next[id], kept))
            {
                var status = next[id].Status;
                _health.TrackBreaker(id, () => status.Current);
                _metrics.TrackBreaker(id, () => status.Current);
            }
        }
        foreach (var id in previous.Keys.Where(id => !next.ContainsKey(id)))
        {
            _health.UntrackBreaker(id);
            _metrics.UntrackBreaker(id);
        }
        return next.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private ClusterResilience Create(string clusterId, ClusterResilienceOptions settings)
    {
        var status = new BreakerStatus(_time);
        var attempt = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = _time }
            // Failures: 5xx, 408, 429, no response, per-try timeouts (the library's transient predicate).
            .AddCircuitBreaker(new HttpCircuitBreakerStrategyOptions
            {
                FailureRatio = settings.FailureRatio,
                MinimumThroughput = settings.MinimumThroughput,
                SamplingDuration = settings.SamplingDuration,
                BreakDuration = settings.BreakDuration,
                OnOpened = args =>
                {
                    status.Opened(args.BreakDuration);
                    ProxyLog.BreakerOpened(_logger, clusterId, args.BreakDuration, Describe(args.Outcome));
                    return default;
                },
                OnHalfOpened = _ =>
                {
                    status.HalfOpened();
                    ProxyLog.BreakerHalfOpened(_logger, clusterId);
                    return default;
                },
                OnClosed = _ =>
                {
                    status.Closed();
                    ProxyLog.BreakerClosed(_logger, clusterId);
                    return default;
                },
            })
            .AddTimeout(new HttpTimeoutStrategyOptions
            {
                Timeout = settings.AttemptTimeout,
                OnTimeout = _ =>
                {
                    _metrics.AttemptTimedOut(clusterId);
                    _health.AttemptFailed(clusterId);
                    return default;
                },
            })
            .Build();

        ResiliencePipeline<HttpResponseMessage>? retrying = null;
        if (settings.MaxRetries > 0)
        {
            retrying = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = _time }
                .AddRetry(new HttpRetryStrategyOptions
                {
                    MaxRetryAttempts = settings.MaxRetries,
                    Delay = RetryDelay,
                    BackoffType = DelayBackoffType.Exponential,
                    UseJitter = true,
                    // Only attempts that got no answer: a 5xx or 429 is the backend saying it has too much already.
                    ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is HttpRequestException or TimeoutRejectedException),
                    OnRetry = _ =>
                    {
                        _metrics.Retried(clusterId);
                        return default;
                    },
                })
                .AddPipeline(attempt)
                .Build();
        }
        return new ClusterResilience(settings, status, attempt, retrying);
    }

    private static string Describe(Outcome<HttpResponseMessage> outcome) =>
        outcome.Exception is { } ex ? ex.GetType().Name : outcome.Result is { } response ? $"HTTP {(int)response.StatusCode}" : "manual";

    private sealed record ClusterResilience(
        ClusterResilienceOptions Options, BreakerStatus Status, ResiliencePipeline<HttpResponseMessage> Attempt, ResiliencePipeline<HttpResponseMessage>? Retrying);
}

/// <summary>
/// One breaker's state as Polly's callbacks report it, read lock-free on every request. Polly moves an open
/// breaker to half-open only when a request arrives after the break; this reads as half-open from the end of
/// the break, so the gate lets requests through to probe and a paused room resumes.
/// </summary>
internal sealed class BreakerStatus(TimeProvider time)
{
    private int _state = (int)BreakerState.Closed;
    private long _openUntil;

    public BreakerState Current
    {
        get
        {
            var state = (BreakerState)Volatile.Read(ref _state);
            return state == BreakerState.Open && time.GetTimestamp() >= Volatile.Read(ref _openUntil) ? BreakerState.HalfOpen : state;
        }
    }

    /// <summary>What is left of the break (at least a second, the unit of Retry-After).</summary>
    public TimeSpan RetryAfter
    {
        get
        {
            var left = Volatile.Read(ref _openUntil) - time.GetTimestamp();
            return TimeSpan.FromSeconds(Math.Max(1, Math.Ceiling((double)left / time.TimestampFrequency)));
        }
    }

    public void Opened(TimeSpan breakDuration)
    {
        Volatile.Write(ref _openUntil, time.GetTimestamp() + (long)(breakDuration.TotalSeconds * time.TimestampFrequency));
        Volatile.Write(ref _state, (int)BreakerState.Open);
    }

    public void HalfOpened() => Volatile.Write(ref _state, (int)BreakerState.HalfOpen);

    public void Closed() => Volatile.Write(ref _state, (int)BreakerState.Closed);
}
