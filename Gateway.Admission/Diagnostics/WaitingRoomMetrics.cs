using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;

namespace Gateway.Admission.Diagnostics;

/// <summary>
/// The waiting room's instruments (System.Diagnostics.Metrics). The gateway publishes them on <c>/metrics</c>
/// under Prometheus names: dots become underscores, the unit a suffix, counters end in <c>_total</c>
/// (<c>waitingroom.joins</c> = <c>waitingroom_joins_total</c>, <c>waitingroom.store.duration</c> =
/// <c>waitingroom_store_duration_seconds</c>). docs/OBSERVABILITY.md lists them all.
/// </summary>
internal sealed class WaitingRoomMetrics : IDisposable
{
    public const string MeterName = WaitingRoomTelemetry.MeterName;

    private readonly Meter _meter;
    private readonly ConcurrentDictionary<string, RoomGauges> _gauges = new(StringComparer.Ordinal);
    private readonly Counter<long> _joins;
    private readonly Counter<long> _promotions;
    private readonly Counter<long> _admissions;
    private readonly Counter<long> _denials;
    private readonly Counter<long> _drops;
    private readonly Counter<long> _expirations;
    private readonly Counter<long> _leaves;
    // The gate runs on every proxied request: a lock-free per-(room, decision) count, read at scrape, costs
    // an interlocked add instead of a measurement callback with tags (measured in docs/BENCHMARKS.md).
    private readonly ConcurrentDictionary<(string Room, Gateway.Admission.Gate.GateDecision Decision), StrongBox<long>> _gateDecisions = new();
    private readonly Counter<long> _storeErrors;
    private readonly Histogram<double> _storeDuration;
    private readonly Histogram<long> _position;
    private readonly Histogram<long> _statusBatch;
    private readonly Histogram<double> _etaAccuracy;
    private readonly Counter<long> _revocations;
    private readonly Counter<long> _adminChanges;
    private readonly Counter<long> _adminAuthFailures;
    private readonly Counter<long> _challenges;
    private readonly ConcurrentDictionary<string, int> _difficulty = new(StringComparer.Ordinal);
    private readonly Counter<long> _adaptiveChanges;

    public WaitingRoomMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(MeterName);
        _joins = _meter.CreateCounter<long>("waitingroom.joins", description: "Join calls by outcome (created, existing, already_queued, rate_limited, too_many_places, full, closed, not_open, invalid_user_id, invalid_idempotency_key, invalid_user_token, challenge_required, challenge_invalid, challenge_expired, challenge_replayed, unavailable).");
        _promotions = _meter.CreateCounter<long>("waitingroom.promotions", description: "Users moved from waiting to ready; each uses one token-bucket token.");
        _admissions = _meter.CreateCounter<long>("waitingroom.admissions", description: "Admission tokens granted by enter (first grant per waiting token only).");
        _denials = _meter.CreateCounter<long>("waitingroom.denials", description: "Status and enter calls refused, by reason (not_ready, not_found, room_paused, room_closed, rate_limited, unavailable).");
        _drops = _meter.CreateCounter<long>("waitingroom.drops", description: "Users who lost their place: waiting users who stopped polling for AbandonAfter, ready users who did not enter within it.");
        _expirations = _meter.CreateCounter<long>("waitingroom.expirations", description: "Admissions that ran out their AdmissionTtl.");
        _leaves = _meter.CreateCounter<long>("waitingroom.leaves", description: "Users who left the queue themselves.");
        _meter.CreateObservableCounter("waitingroom.gate.decisions", ObserveGate, description: "Gated-route decisions by outcome (allowed, redirected, rejected, misconfigured).");
        _storeErrors = _meter.CreateCounter<long>("waitingroom.store.errors", description: "Store calls that failed or timed out, by operation.");
        _storeDuration = _meter.CreateHistogram<double>("waitingroom.store.duration", unit: "s", description: "Store call latency by operation.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1] });
        _position = _meter.CreateHistogram<long>("waitingroom.queue.position", description: "Positions reported to waiting users.",
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [1, 10, 100, 1_000, 10_000, 50_000, 100_000, 300_000, 1_000_000] });
        _statusBatch = _meter.CreateHistogram<long>("waitingroom.status.batch", unit: "{poll}", description: "Status polls per store call (one script call per batch), by room.",
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256] });
        _etaAccuracy = _meter.CreateHistogram<double>("waitingroom.eta.accuracy", unit: "1", description: "Per admitted user: max(0, 1 - |first ETA - actual wait| / actual wait).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.5, 0.7, 0.8, 0.9, 0.95, 0.97, 0.98, 0.99, 0.995, 1] });
        _revocations = _meter.CreateCounter<long>("waitingroom.revocations", description: "Admissions ended before their expiry, by source (admin, origin, leave).");
        _adminChanges = _meter.CreateCounter<long>("waitingroom.admin.changes", description: "Changes made through the admin API, by room and action (update, clear_overrides, revoke).");
        _adminAuthFailures = _meter.CreateCounter<long>("waitingroom.admin.auth.failures", description: "Admin API calls refused before authentication, by reason (missing, wrong_key, locked_out).");
        _challenges = _meter.CreateCounter<long>("waitingroom.challenges", description: "Proof-of-work challenges issued by GET /api/v1/queue/challenge.");
        _meter.CreateObservableGauge("waitingroom.challenge.difficulty", ObserveDifficulty, unit: "{bit}", description: "Leading zero bits the room's latest challenge asked for (configuration, override and automatic mode combined).");
        _adaptiveChanges = _meter.CreateCounter<long>("waitingroom.adaptive.changes", description: "Changes of a room's adaptive rate by this instance's reports, by action (decrease, increase, pause, resume, off).");
        _meter.CreateObservableGauge("waitingroom.queue.length", () => Observe(g => g.Waiting), description: "People in line (waiting, not yet ready), from the last tick.");
        _meter.CreateObservableGauge("waitingroom.prequeue.length", () => Observe(g => g.Prequeued), description: "People in the pre-queue not yet placed in line, from the last tick.");
        _meter.CreateObservableGauge("waitingroom.ready", () => Observe(g => g.Ready), description: "People whose admission is reserved but who have not entered yet, from the last tick.");
        _meter.CreateObservableGauge("waitingroom.active", () => Observe(g => g.Active), description: "Admissions in force (entered, not expired, left or revoked), from the last tick.");
        _meter.CreateObservableGauge("waitingroom.admitted", () => Observe(g => g.AdmittedTotal), description: "Admissions granted in the room so far, across all instances, from the last tick.");
        _meter.CreateObservableGauge("waitingroom.oldest.wait", () => Observe(g => g.OldestWaitSeconds), unit: "s", description: "How long the person at the head of the line has waited, from the last tick.");
        _meter.CreateObservableGauge("waitingroom.bucket.tokens", () => Observe(g => g.Tokens), description: "Whole admission tokens in the bucket, from the last tick.");
        _meter.CreateObservableGauge("waitingroom.refill.rate", () => Observe(g => g.RefillPerSecond), unit: "{admission}/s", description: "Configured token-bucket refill: admissions per second.");
        _meter.CreateObservableGauge("waitingroom.refill.effective", () => Observe(g => g.EffectiveRefillPerSecond), unit: "{admission}/s", description: "The refill in force: configuration, operator override and adaptive admission combined.");
        _meter.CreateObservableGauge("waitingroom.overrides", () => Observe(g => g.Overrides), description: "Operator overrides in force for the room (0 = configuration only).");
        _meter.CreateObservableGauge("waitingroom.room.state", ObserveStates, description: "1 for the room's current state (open, paused, closed), 0 for the others.");
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

    public void Gate(string room, Gateway.Admission.Gate.GateDecision decision) =>
        Interlocked.Increment(ref _gateDecisions.GetOrAdd((room, decision), static _ => new StrongBox<long>()).Value);

    public static string Outcome(Gateway.Admission.Gate.GateDecision decision) => decision switch
    {
        Gateway.Admission.Gate.GateDecision.Allowed => "allowed",
        Gateway.Admission.Gate.GateDecision.Redirected => "redirected",
        Gateway.Admission.Gate.GateDecision.Rejected => "rejected",
        _ => "misconfigured",
    };

    public void ChallengeIssued(string room, int difficulty)
    {
        _challenges.Add(1, Tag("room", room));
        _difficulty[room] = difficulty;
    }

    public void StoreCall(string operation, double seconds) => _storeDuration.Record(seconds, Tag("operation", operation));

    public void StoreError(string operation) => _storeErrors.Add(1, Tag("operation", operation));

    public void StatusBatch(string room, int polls) => _statusBatch.Record(polls, Tag("room", room));

    public void Position(string room, long position) => _position.Record(position, Tag("room", room));

    public void EtaAccuracy(string room, double accuracy) => _etaAccuracy.Record(accuracy, Tag("room", room));

    public void AdaptiveChange(string room, Queue.AdaptAction action) =>
        _adaptiveChanges.Add(1, Tag("room", room), Tag("action", action switch
        {
            Queue.AdaptAction.Decrease => "decrease",
            Queue.AdaptAction.Increase => "increase",
            Queue.AdaptAction.Pause => "pause",
            Queue.AdaptAction.Resume => "resume",
            _ => "off",
        }));

    public void Revoked(string room, string source) => _revocations.Add(1, Tag("room", room), Tag("source", source));

    public void AdminChange(string room, string action) => _adminChanges.Add(1, Tag("room", room), Tag("action", action));

    public void AdminAuthFailed(string reason) => _adminAuthFailures.Add(1, Tag("reason", reason));

    public void RoomState(string room, Queue.RoomSnapshot snapshot, double configuredRefill) =>
        _gauges[room] = new RoomGauges(snapshot.Waiting, snapshot.Prequeued, snapshot.Ready, snapshot.Active, snapshot.AdmittedTotal,
            snapshot.OldestJoinedAt is { } oldest ? Math.Max(0, (snapshot.TakenAt - oldest).TotalSeconds) : 0,
            Math.Floor(snapshot.TokensAvailable), configuredRefill, snapshot.EffectiveRefillPerSecond, snapshot.Overrides.Keys.Count(Queue.ControlFields.Operator.Contains), snapshot.State);

    /// <summary>Forgets the gauges of rooms no longer configured, so a removed room's series end.</summary>
    public void KeepRooms(IEnumerable<string> rooms)
    {
        var keep = rooms.ToHashSet(StringComparer.Ordinal);
        foreach (var room in _gauges.Keys)
        {
            if (!keep.Contains(room))
                _gauges.TryRemove(room, out _);
        }
        foreach (var room in _difficulty.Keys)
        {
            if (!keep.Contains(room))
                _difficulty.TryRemove(room, out _);
        }
    }

    public void Dispose() => _meter.Dispose();

    private IEnumerable<Measurement<double>> Observe(Func<RoomGauges, double> value)
    {
        foreach (var (room, gauges) in _gauges)
            yield return new Measurement<double>(value(gauges), Tag("room", room));
    }

    private static KeyValuePair<string, object?> Tag(string key, string value) => new(key, value);

    private IEnumerable<Measurement<int>> ObserveDifficulty()
    {
        foreach (var (room, bits) in _difficulty)
            yield return new Measurement<int>(bits, Tag("room", room));
    }

    private IEnumerable<Measurement<long>> ObserveGate()
    {
        foreach (var ((room, decision), count) in _gateDecisions)
            yield return new Measurement<long>(Volatile.Read(ref count.Value), Tag("room", room), Tag("outcome", Outcome(decision)));
    }

    private IEnumerable<Measurement<double>> ObserveStates()
    {
        foreach (var (room, gauges) in _gauges)
        {
            foreach (var state in States)
                yield return new Measurement<double>(gauges.State == state ? 1 : 0, Tag("room", room), Tag("state", state.ToString().ToLowerInvariant()));
        }
    }

    private static readonly Rooms.RoomState[] States = Enum.GetValues<Rooms.RoomState>();

    private sealed record RoomGauges(
        double Waiting, double Prequeued, double Ready, double Active, double AdmittedTotal, double OldestWaitSeconds,
        double Tokens, double RefillPerSecond, double EffectiveRefillPerSecond, double Overrides, Rooms.RoomState State);
}
