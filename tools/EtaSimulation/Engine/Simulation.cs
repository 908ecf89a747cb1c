using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Gateway.Admission.Clients;
using Gateway.Admission.Diagnostics;
using Gateway.Admission.Gate;
using Gateway.Admission.Queue;
using Gateway.Admission.Rooms;
using Gateway.Admission.Tokens;
using Gateway.EtaSimulation.Reporting;
using Gateway.EtaSimulation.Scenarios;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.EtaSimulation.Engine;

/// <summary>
/// Replays one scenario against the real store under a fake clock and scores every ETA given.
/// <para>
/// What runs is production code: the queue scripts (built with the clock read from an argument instead of
/// Redis TIME, see <see cref="QueueScripts.ArgumentClock"/>), <see cref="RedisQueueStore"/>,
/// <see cref="QueueService"/> (join, status, enter, leave and the ETA it answers with) and
/// <see cref="RoomMaintenance"/> ticking each simulated gateway instance. Only the users are simulated.
/// </para>
/// <para>
/// Time moves in 100 ms slots. Within a slot, configuration changes and maintenance ticks run first, then
/// every user call due in the slot is sent at once (pipelined, in a fixed order, so the store sees the same
/// sequence on every run with the same seed).
/// </para>
/// </summary>
internal sealed class Simulation : IDisposable
{
    private const long SlotMs = 100;
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly long MaxSimulatedMs = (long)TimeSpan.FromHours(6).TotalMilliseconds;
    private static readonly string SigningSecret = Convert.ToBase64String(new byte[32]);

    private readonly Scenario _scenario;
    private readonly int _seed;
    private readonly string _roomId;
    private readonly FakeTimeProvider _clock = new(Start);
    private readonly MutableOptionsMonitor<WaitingRoomOptions> _options;
    private readonly ServiceProvider _meterServices;
    private readonly MeterListener _listener = new();
    private readonly WaitingRoomMetrics _metrics;
    private readonly RoomRegistry _rooms;
    private readonly KeyRing _keys;
    private readonly ClientRateLimits _limits;
    private readonly Instance[] _instances;
    private readonly ConcurrentQueue<double> _productionMetric = new();
    private readonly PriorityQueue<Event, (long AtMs, long Sequence)> _events = new();
    private readonly List<User> _users = [];
    private long _sequence;
    private long _storeCalls;
    private int _active;

    public Simulation(Scenario scenario, SimulationStore store, int seed)
    {
        _scenario = scenario;
        _seed = seed;
        var roomId = $"sim-{scenario.Name}-{seed}-{Guid.NewGuid():N}";
        _roomId = roomId[..Math.Min(64, roomId.Length)];
        _options = new MutableOptionsMonitor<WaitingRoomOptions>(Options(scenario.Room));

        _meterServices = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meterFactory = _meterServices.GetRequiredService<IMeterFactory>();
        // The production metric scores each admitted user's first ETA; collect it to compare with our own scoring.
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Scope == meterFactory && instrument.Name == "waitingroom.eta.accuracy")
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<double>((_, value, _, _) => _productionMetric.Enqueue(value));
        _listener.Start();
        _metrics = new WaitingRoomMetrics(meterFactory);

        var queueStore = RedisQueueStore.WithArgumentClock(store.Connection, _metrics, NullLogger<RedisQueueStore>.Instance, _clock);
        // No batch window: its timer would wait on the simulation's clock, which moves only between events.
        var storeOptions = Microsoft.Extensions.Options.Options.Create(new Gateway.Admission.Storage.StoreOptions { ConnectionString = store.IsEmbedded ? null : "redis", StatusBatchWindow = TimeSpan.Zero });
        _rooms = new RoomRegistry(_options, storeOptions);
        _keys = new KeyRing(_options, NullLogger<KeyRing>.Instance);
        _limits = new ClientRateLimits(_options, _clock);
        _instances = new Instance[scenario.Instances];
        for (var i = 0; i < _instances.Length; i++)
        {
            var snapshots = new RoomSnapshots();
            var revoked = new RevokedAdmissions(_clock);
            var pending = new PendingRevocations();
            _instances[i] = new Instance(
                new QueueService(queueStore, new StatusBatcher(queueStore, _metrics, _clock, storeOptions), new WaitingTokens(_keys), new AdmissionTokens(_keys, _clock), new CallerIdentity(_keys),
                    revoked, pending, snapshots, _limits, _options, _metrics, _clock, NullLogger<QueueService>.Instance),
                snapshots,
                new RoomMaintenance(queueStore, _rooms, snapshots, revoked, pending, _metrics, _options, _clock, NullLogger<RoomMaintenance>.Instance));
        }
    }

    public static async Task<ScenarioResult> RunAsync(Scenario scenario, SimulationStore store, int seed)
    {
        using var simulation = new Simulation(scenario, store, seed);
        return await simulation.RunAsync();
    }

    public void Dispose()
    {
        foreach (var instance in _instances)
            instance.Maintenance.Dispose();
        _keys.Dispose();
        _rooms.Dispose();
        _metrics.Dispose();
        _listener.Dispose();
        _meterServices.Dispose();
    }

    private async Task<ScenarioResult> RunAsync()
    {
        var wall = Stopwatch.StartNew();
        var random = new Random(_seed);
        var behaviour = _scenario.Behaviour;
        foreach (var arrival in _scenario.Arrivals.Times(random))
        {
            var id = _users.Count;
            var own = new Random(unchecked((_seed * 1_000_003) + id));
            var user = new User(id, own)
            {
                Late = own.NextDouble() < behaviour.LateShare,
                Abandons = own.NextDouble() < behaviour.AbandonShare,
                LeavesOnAbandon = own.NextDouble() < behaviour.LeaveShare,
                AbandonFraction = 0.05 + (0.95 * own.NextDouble()),
            };
            _users.Add(user);
            Schedule((long)arrival.TotalMilliseconds, EventKind.Join, id);
        }
        _active = _users.Count;
        for (var i = 0; i < _scenario.RateChanges.Count; i++)
            Schedule((long)_scenario.RateChanges[i].At.TotalMilliseconds, EventKind.RateChange, i);
        var tickMs = (long)_scenario.TickInterval.TotalMilliseconds;
        for (var i = 0; i < _instances.Length; i++)
            Schedule(i * tickMs / _instances.Length, EventKind.Tick, i);

        long now = 0;
        var batch = new List<Event>();
        while (_events.Count > 0 && _events.Peek().AtMs <= MaxSimulatedMs)
        {
            now = _events.Peek().AtMs;
            _clock.SetUtcNow(Start.AddMilliseconds(now));
            batch.Clear();
            while (_events.Count > 0 && _events.Peek().AtMs == now)
                batch.Add(_events.Dequeue());

            foreach (var e in batch)
            {
                switch (e.Kind)
                {
                    case EventKind.RateChange:
                        var change = _scenario.RateChanges[e.Target];
                        _options.Set(Options(_scenario.Room with { RefillPerSecond = change.RefillPerSecond }));
                        break;
                    case EventKind.Abandon:
                        await AbandonAsync(_users[e.Target]);
                        break;
                    case EventKind.Tick:
                        await _instances[e.Target].Maintenance.TickAllAsync();
                        _storeCalls++;
                        if (_active > 0)
                            Schedule(now + tickMs, EventKind.Tick, e.Target);
                        break;
                }
            }

            var calls = batch.Where(e => e.Kind is EventKind.Join or EventKind.Poll or EventKind.Enter).ToArray();
            var followUps = new Task<Event[]>[calls.Length];
            for (var i = 0; i < calls.Length; i++)
                followUps[i] = HandleAsync(calls[i], now);
            foreach (var next in await Task.WhenAll(followUps))
            {
                foreach (var e in next)
                    Schedule(e.AtMs, e.Kind, e.Target);
            }
        }
        return Score(TimeSpan.FromMilliseconds(now), wall.Elapsed);
    }

    private async Task<Event[]> HandleAsync(Event e, long now)
    {
        var user = _users[e.Target];
        var instance = _instances[(user.Id + user.Calls++) % _instances.Length];
        if (!_rooms.TryGet(_roomId, out var room))
            throw new InvalidOperationException("The simulated room disappeared from the registry.");
        Interlocked.Increment(ref _storeCalls);
        switch (e.Kind)
        {
            case EventKind.Join:
                // Each simulated user is their own caller (a browser with its own identity).
                var joined = await instance.Queue.JoinAsync(room, new JoinCommand(null, "u" + user.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), "sim"));
                if (joined.WaitingToken is null || joined.Standing is not { } atJoin)
                    return Finish(user, Phase.Lost);
                user.PlaceId = PlaceId(joined.WaitingToken);
                user.AtJoin = Give(instance, atJoin);
                if (atJoin.Status != StandingStatus.Waiting)
                    return SawTurn(user, atJoin, now);
                user.Phase = Phase.Waiting;
                return user.Abandons
                    ? [NextPoll(user, now), new Event(now + Math.Max(1000, (long)(user.AbandonFraction * user.AtJoin.Value.Eta * 1000)), EventKind.Abandon, user.Id)]
                    : [NextPoll(user, now)];
            case EventKind.Poll when user.Phase == Phase.Waiting:
                var status = await instance.Queue.StatusAsync(room, user.PlaceId);
                if (status.Standing is not { } standing)
                    return Finish(user, Phase.Lost);
                if (standing.Status != StandingStatus.Waiting)
                    return SawTurn(user, standing, now);
                user.Later.Add(Give(instance, standing));
                return [NextPoll(user, now)];
            case EventKind.Enter when user.Phase == Phase.Ready:
                var entered = await instance.Queue.EnterAsync(room, user.PlaceId);
                return Finish(user, entered.Outcome == EnterOutcome.Granted ? Phase.Entered : Phase.Lost);
            default:
                return [];
        }
    }

    private async Task AbandonAsync(User user)
    {
        if (user.Phase != Phase.Waiting)
            return;
        Finish(user, Phase.Abandoned);
        if (user.LeavesOnAbandon && _rooms.TryGet(_roomId, out var room))
        {
            _storeCalls++;
            await _instances[user.Id % _instances.Length].Queue.LeaveAsync(room, user.PlaceId);
        }
    }

    private static Event[] SawTurn(User user, Standing standing, long now)
    {
        // The turn came when the store promoted the place, not when the user noticed.
        user.ReadyAt = standing.ReadyAt ?? standing.ServerTime;
        user.Phase = Phase.Ready;
        // The page enters as soon as status says it may.
        return [new Event(now + SlotMs, EventKind.Enter, user.Id)];
    }

    private Event[] Finish(User user, Phase phase)
    {
        user.Phase = phase;
        Interlocked.Decrement(ref _active);
        return [];
    }

    private Event NextPoll(User user, long now)
    {
        var (min, max) = user.Late ? _scenario.Behaviour.LatePollEvery : _scenario.Behaviour.PollEvery;
        return new Event(now + (long)((min + ((max - min) * user.Random.NextDouble())) * 1000), EventKind.Poll, user.Id);
    }

    private Given Give(Instance instance, Standing standing)
    {
        var eta = standing.Eta ?? new Gateway.Admission.Eta.EtaEstimate(0, 0);
        var original = OriginalEtaModel.Estimate(standing.Position ?? 0, instance.Snapshots.Get(_roomId), standing.ServerTime);
        return new Given(standing.ServerTime, eta.Seconds, eta.Confidence, original.Seconds, original.Confidence);
    }

    private static string PlaceId(string waitingToken) => waitingToken.Split('.')[1];

    private void Schedule(long atMs, EventKind kind, int target)
    {
        var slot = (atMs + SlotMs - 1) / SlotMs * SlotMs;
        _events.Enqueue(new Event(slot, kind, target), (slot, _sequence++));
    }

    private ScenarioResult Score(TimeSpan simulated, TimeSpan wall)
    {
        var atJoin = new List<EtaSample>();
        var later = new List<EtaSample>();
        foreach (var user in _users)
        {
            if (user.ReadyAt is not { } ready || user.AtJoin is not { } first)
                continue;
            // Waits under a second are admissions straight from the bucket (the production metric skips them too).
            if (Sample(first, ready) is { } join)
                atJoin.Add(join);
            foreach (var given in user.Later)
            {
                if (Sample(given, ready) is { } sample)
                    later.Add(sample);
            }
        }
        return new ScenarioResult(_scenario, _seed, _users.Count,
            ReachedTurn: _users.Count(u => u.ReadyAt is not null),
            Abandoned: _users.Count(u => u.Phase == Phase.Abandoned),
            LostPlace: _users.Count(u => u.Phase == Phase.Lost),
            atJoin, later, [.. _productionMetric], simulated, wall, _storeCalls);
    }

    private static EtaSample? Sample(Given given, DateTimeOffset ready)
    {
        var actual = (ready - given.At).TotalSeconds;
        return actual < 1 ? null : new EtaSample(given.Eta, given.Confidence, actual, given.OriginalEta, given.OriginalConfidence);
    }

    private WaitingRoomOptions Options(RoomOptions room) => new()
    {
        Rooms = new(StringComparer.Ordinal) { [_roomId] = room },
        SigningKeys = [new SigningKeyOptions { Id = "sim", Secret = SigningSecret }],
        MaintenanceInterval = _scenario.TickInterval,
        JoinsPerClientPerMinute = 0,
        MaxPlacesPerClient = 0,
        PollsPerClientPerMinute = 0,
    };

    private enum EventKind
    {
        RateChange,
        Abandon,
        Tick,
        Join,
        Poll,
        Enter,
    }

    private enum Phase
    {
        NotJoined,
        Waiting,
        Ready,
        Entered,
        Abandoned,
        Lost,
    }

    private readonly record struct Event(long AtMs, EventKind Kind, int Target);

    /// <summary>An ETA as given: when, how long, how sure; and what the original model would have said.</summary>
    private readonly record struct Given(DateTimeOffset At, long Eta, double Confidence, long OriginalEta, double OriginalConfidence);

    /// <summary>One simulated gateway instance: its own snapshots and maintenance, the shared store.</summary>
    private sealed record Instance(QueueService Queue, RoomSnapshots Snapshots, RoomMaintenance Maintenance);

    private sealed class User(int id, Random random)
    {
        public int Id { get; } = id;

        public Random Random { get; } = random;

        public bool Late { get; init; }

        public bool Abandons { get; init; }

        public bool LeavesOnAbandon { get; init; }

        public double AbandonFraction { get; init; }

        public int Calls { get; set; }

        public Phase Phase { get; set; }

        public string PlaceId { get; set; } = "";

        public DateTimeOffset? ReadyAt { get; set; }

        public Given? AtJoin { get; set; }

        public List<Given> Later { get; } = [];
    }
}
