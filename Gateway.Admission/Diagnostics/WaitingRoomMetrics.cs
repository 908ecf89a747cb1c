using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Gateway.Admission.Diagnostics;

/// <summary>
/// The waiting room's instruments (System.Diagnostics.Metrics). The gateway publishes them on <c>/metrics</c>
/// under Prometheus names: dots become underscores, the unit a suffix, counters end in <c>_total</c>
/// (<c>waitingroom.joins</c> = <c>waitingroom_joins_total</c>, <c>waitingroom.store.duration</c> =
/// <c>waitingroom_store_duration_seconds</c>). docs/OBSERVABILITY.md lists them all.
/// </summary>
internal sealed class WaitingRoomMetrics : IDisposable
{
    public const string MeterName = "Gateway.WaitingRoom";

    private readonly Meter _meter;
    private readonly ConcurrentDictionary<string, RoomGauges> _gauges = new(StringComparer.Ordinal);
    private readonly Counter<long> _joins;
    private readonly Counter<long> _promotions;
    private readonly Counter<long> _admissions;
    private readonly Counter<long> _denials;
    private readonly Counter<long> _drops;
    private readonly Counter<long> _expirations;
    private readonly Counter<long> _leaves;
    private readonly Counter<long> _gateDecisions;
    private readonly Counter<long> _storeErrors;
    private readonly Histogram<double> _storeDuration;
    private readonly Histogram<long> _position;
    private readonly Histogram<double> _etaAccuracy;

    public WaitingRoomMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(MeterName);
        _joins = _meter.CreateCounter<long>("waitingroom.joins", description: "Join calls by outcome (created, existing, full, rate_limited, unavailable).");
        _promotions = _meter.CreateCounter<long>("waitingroom.promotions", description: "Users moved from waiting to ready; each uses one token-bucket token.");
        _admissions = _meter.CreateCounter<long>("waitingroom.admissions", description: "Admission tokens granted by enter (first grant per waiting token only).");
        _denials = _meter.CreateCounter<long>("waitingroom.denials", description: "Enter calls refused, by reason (not_ready, not_found, unavailable).");
        _drops = _meter.CreateCounter<long>("waitingroom.drops", description: "Users who lost their place: waiting users who stopped polling for AbandonAfter, ready users who did not enter within it.");
        _expirations = _meter.CreateCounter<long>("waitingroom.expirations", description: "Admissions that ran out their AdmissionTtl.");
        _leaves = _meter.CreateCounter<long>("waitingroom.leaves", description: "Users who left the queue themselves.");
        _gateDecisions = _meter.CreateCounter<long>("waitingroom.gate.decisions", description: "Gated-route decisions by outcome (allowed, redirected, rejected, misconfigured).");
        _storeErrors = _meter.CreateCounter<long>("waitingroom.store.errors", description: "Store calls that failed or timed out, by operation.");
        _storeDuration = _meter.CreateHistogram<double>("waitingroom.store.duration", unit: "s", description: "Store call latency by operation.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1] });
        _position = _meter.CreateHistogram<long>("waitingroom.queue.position", description: "Positions reported to waiting users.",
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [1, 10, 100, 1_000, 10_000, 50_000, 100_000, 300_000, 1_000_000] });
        _etaAccuracy = _meter.CreateHistogram<double>("waitingroom.eta.accuracy", unit: "1", description: "Per admitted user: max(0, 1 - |first ETA - actual wait| / actual wait).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.5, 0.7, 0.8, 0.9, 0.95, 0.97, 0.98, 0.99, 0.995, 1] });
        _meter.CreateObservableGauge("waitingroom.queue.length", () => Observe(g => g.QueueLength), description: "Users waiting (not yet ready), from the last maintenance tick.");
        _meter.CreateObservableGauge("waitingroom.bucket.tokens", () => Observe(g => g.Tokens), description: "Whole admission tokens in the bucket, from the last maintenance tick.");
        _meter.CreateObservableGauge("waitingroom.refill.rate", () => Observe(g => g.RefillPerSecond), unit: "{admission}/s", description: "Configured token-bucket refill: admissions per second.");
    }

    public void Join(string room, string outcome) => _joins.Add(1, Tag("room", room), Tag("outcome", outcome));

    public void Promoted(string room, long count)
    {
        if (count > 0)
            _promotions.Add(count, Tag("room", room));
    }

    public void Admitted(string room) => _admissions.Add(1, Tag("room", room));

    public void Denied(string room, string reason) => _denials.Add(1, Tag("room", room), Tag("reason", reason));

    public void Swept(string room, long dropped, long expired)
    {
        if (dropped > 0)
            _drops.Add(dropped, Tag("room", room));
        if (expired > 0)
            _expirations.Add(expired, Tag("room", room));
    }

    public void Left(string room) => _leaves.Add(1, Tag("room", room));

    public void Gate(string room, string outcome) => _gateDecisions.Add(1, Tag("room", room), Tag("outcome", outcome));

    public void StoreCall(string operation, double seconds) => _storeDuration.Record(seconds, Tag("operation", operation));

    public void StoreError(string operation) => _storeErrors.Add(1, Tag("operation", operation));

    public void Position(string room, long position) => _position.Record(position, Tag("room", room));

    public void EtaAccuracy(string room, double accuracy) => _etaAccuracy.Record(accuracy, Tag("room", room));

    public void RoomState(string room, long queueLength, double tokens, double refillPerSecond) =>
        _gauges[room] = new RoomGauges(queueLength, tokens, refillPerSecond);

    public void Dispose() => _meter.Dispose();

    private IEnumerable<Measurement<double>> Observe(Func<RoomGauges, double> value)
    {
        foreach (var (room, gauges) in _gauges)
            yield return new Measurement<double>(value(gauges), Tag("room", room));
    }

    private static KeyValuePair<string, object?> Tag(string key, string value) => new(key, value);

    private sealed record RoomGauges(double QueueLength, double Tokens, double RefillPerSecond);
}
