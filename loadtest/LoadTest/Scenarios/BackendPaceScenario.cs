using System.Diagnostics;
using System.Text;
using LoadTest.Engine;
using static System.FormattableString;

namespace LoadTest.Scenarios;

/// <summary>From this many seconds into the run, the sample backends admit <paramref name="PerSecond"/> requests per second.</summary>
public sealed record CapacityStep(double AtSeconds, double PerSecond);

/// <summary>Settings of a backend-pace run.</summary>
public sealed record BackendPaceOptions
{
    /// <summary>Gateway origin, e.g. http://127.0.0.1:5000.</summary>
    public required Uri Gateway { get; init; }

    /// <summary>The room (event id) everyone queues for.</summary>
    public string EventId { get; init; } = "concert";

    /// <summary>User ids are this prefix + the user's number.</summary>
    public string UserPrefix { get; init; } = "u-";

    /// <summary>New users per second (open model) for the whole run.</summary>
    public double ArrivalsPerSecond { get; init; } = 100;

    /// <summary>How long users keep arriving; users still in line or browsing then stop.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(150);

    /// <summary>The sample backends whose capacity the schedule sets and whose counters are sampled every second.</summary>
    public IReadOnlyList<Uri> Backends { get; init; } = [];

    /// <summary>Capacity changes, by time; the first should be at 0.</summary>
    public IReadOnlyList<CapacityStep> CapacitySchedule { get; init; } = [];

    /// <summary>Pause between an admitted user's gated calls.</summary>
    public TimeSpan ThinkTime { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Seconds after each capacity change that the settled figures leave out.</summary>
    public TimeSpan Transient { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Throws <see cref="ArgumentException"/> on inconsistent or out-of-bounds values.</summary>
    public void Validate()
    {
        new ConstantRate(ArrivalsPerSecond, Duration).Validate();
        if (Backends.Count == 0)
        {
            throw new ArgumentException("backend-pace needs at least one sample backend (--backends)");
        }

        if (CapacitySchedule.Count == 0 || CapacitySchedule[0].AtSeconds != 0 || CapacitySchedule.Any(step => !(step.PerSecond > 0)))
        {
            throw new ArgumentException("the capacity schedule must start at 0 s and every capacity must be > 0, e.g. 0:200,60:100,100:200");
        }

        if (CapacitySchedule.Zip(CapacitySchedule.Skip(1)).Any(pair => pair.Second.AtSeconds <= pair.First.AtSeconds || pair.Second.AtSeconds >= Duration.TotalSeconds))
        {
            throw new ArgumentException("capacity changes must be in increasing time order and within --duration");
        }

        if (ThinkTime < TimeSpan.Zero || Transient < TimeSpan.Zero)
        {
            throw new ArgumentException("--think-ms and --transient must not be negative");
        }
    }
}

/// <summary>
/// Scenario <c>backend-pace</c>: users arrive at a steady rate, join, poll status when the gateway says to
/// (<c>poll_after_ms</c>), enter when ready, then browse: one gated call to each sample backend (seats,
/// reservation, payment) with a think time between them. Meanwhile <see cref="PaceSampler"/> sets the
/// backends' capacity on a schedule and samples, every second, the room's effective rate and the backends'
/// counters. Built to show whether the room's admissions follow what the backends can take.
/// </summary>
public sealed class BackendPaceScenario
{
    /// <summary>Step names.</summary>
    public const string JoinStep = "join";

    /// <summary>Step name of the status polls.</summary>
    public const string StatusStep = "status";

    /// <summary>Step name of the enter calls.</summary>
    public const string EnterStep = "enter";

    /// <summary>Step name of the gated calls.</summary>
    public const string GatedStep = "gated";

    private static readonly TimeSpan MinimumPoll = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan FallbackPoll = TimeSpan.FromSeconds(2);
    private static readonly byte[] GatewayBreakerCode = Encoding.UTF8.GetBytes("BACKEND_UNAVAILABLE");

    private readonly BackendPaceOptions _options;
    private readonly List<double> _waits = [];
    private readonly Lock _gate = new();
    private long _joined;
    private long _joinFailed;
    private long _lostPlaces;
    private long _admitted;
    private long _gatedOk;
    private long _gatedBackend503;
    private long _gatedGateway503;
    private long _gatedOther;

    /// <summary>Prepares a run; validates <paramref name="options"/>.</summary>
    public BackendPaceScenario(BackendPaceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
    }

    /// <summary>The options of the run.</summary>
    public BackendPaceOptions Options => _options;

    /// <summary>Cumulative client-side counts, read by the sampler every second.</summary>
    public ClientCounts Counts => new(
        Interlocked.Read(ref _joined),
        Interlocked.Read(ref _admitted),
        Interlocked.Read(ref _gatedOk),
        Interlocked.Read(ref _gatedBackend503),
        Interlocked.Read(ref _gatedGateway503),
        Interlocked.Read(ref _gatedOther),
        Interlocked.Read(ref _joinFailed),
        Interlocked.Read(ref _lostPlaces));

    /// <summary>Seconds from join to granted enter of every admitted user.</summary>
    public IReadOnlyList<double> Waits
    {
        get
        {
            lock (_gate)
            {
                return [.. _waits];
            }
        }
    }

    /// <summary>The scenario for <see cref="LoadRunner.RunAsync"/>; one run per instance.</summary>
    public Scenario Create() => new()
    {
        Name = "backend-pace",
        Simulation = new ConstantRate(_options.ArrivalsPerSecond, _options.Duration),
        // Users in line when arrivals stop are not waited for: the run measures the pace, not the line's end.
        DrainTimeout = TimeSpan.FromSeconds(1),
        Iteration = RunUserAsync,
        ProgressDetail = () =>
        {
            var counts = Counts;
            return Invariant($"joined {counts.Joined}, admitted {counts.Admitted}, gated ok {counts.GatedOk}, backend 503 {counts.GatedBackend503}, gateway 503 {counts.GatedGateway503}, lost places {counts.LostPlaces}");
        },
    };

    private async Task RunUserAsync(IterationContext context)
    {
        var gateway = _options.Gateway;
        var join = await context.SendAsync(JoinStep, QueueApi.Join(gateway, _options.EventId, Invariant($"{_options.UserPrefix}{context.Number}")), readBody: true);
        if (!join.IsSuccess)
        {
            Interlocked.Increment(ref _joinFailed);
            return;
        }

        var joinedAt = Stopwatch.GetTimestamp();
        Interlocked.Increment(ref _joined);
        var waitingToken = QueueApi.Parse(join.Body, QueueJson.Default.JoinResponse).WaitingToken;
        var admission = await WaitForAdmissionAsync(context, waitingToken);
        if (admission is null)
        {
            return;
        }

        lock (_gate)
        {
            _waits.Add(Stopwatch.GetElapsedTime(joinedAt).TotalSeconds);
        }

        Interlocked.Increment(ref _admitted);
        Uri[] pages =
        [
            new(gateway, $"/api/inventory/events/{Uri.EscapeDataString(_options.EventId)}/seats"),
            new(gateway, "/api/reservations"),
            new(gateway, "/api/payments"),
        ];
        for (var i = 0; i < pages.Length; i++)
        {
            if (i > 0)
            {
                await Task.Delay(_options.ThinkTime, context.CancellationToken);
            }

            Count(await context.SendAsync(GatedStep, QueueApi.Get(pages[i], admission), readBody: true));
        }
    }

    private async Task<string?> WaitForAdmissionAsync(IterationContext context, string waitingToken)
    {
        // The first poll right after joining, as the waiting page does; then when the gateway says.
        var delay = TimeSpan.Zero;
        while (true)
        {
            await Task.Delay(delay, context.CancellationToken);
            var status = await context.SendAsync(StatusStep, QueueApi.Status(_options.Gateway, waitingToken), readBody: true);
            if (status.StatusCode == 404)
            {
                // The gateway no longer knows a place this user held and kept polling for.
                Interlocked.Increment(ref _lostPlaces);
                return null;
            }

            delay = FallbackPoll;
            if (!status.IsSuccess)
            {
                continue;
            }

            var answer = QueueApi.Parse(status.Body, QueueJson.Default.StatusResponse);
            if (answer.PollAfterMs is { } after)
            {
                delay = TimeSpan.FromMilliseconds(Math.Max(after, MinimumPoll.TotalMilliseconds));
            }

            if (!answer.IsReady)
            {
                continue;
            }

            var enter = await context.SendAsync(EnterStep, QueueApi.Enter(_options.Gateway, waitingToken), readBody: true, isExpectedStatus: code => code == 403);
            if (enter.StatusCode == 200)
            {
                return QueueApi.Parse(enter.Body, QueueJson.Default.EnterResponse).ReservationToken;
            }

            if (enter.StatusCode == 404)
            {
                Interlocked.Increment(ref _lostPlaces);
                return null;
            }

            delay = MinimumPoll;
        }
    }

    private void Count(StepResult result)
    {
        if (result.IsSuccess)
        {
            Interlocked.Increment(ref _gatedOk);
        }
        else if (result.StatusCode == 503 && result.Body.AsSpan().IndexOf(GatewayBreakerCode) >= 0)
        {
            Interlocked.Increment(ref _gatedGateway503);
        }
        else if (result.StatusCode == 503)
        {
            Interlocked.Increment(ref _gatedBackend503);
        }
        else
        {
            Interlocked.Increment(ref _gatedOther);
        }
    }
}

/// <summary>Cumulative counts the users keep.</summary>
/// <param name="Joined">Users who joined.</param>
/// <param name="Admitted">Users granted an admission.</param>
/// <param name="GatedOk">Gated calls answered 2xx.</param>
/// <param name="GatedBackend503">Gated calls the backend turned away (503 from the backend, forwarded).</param>
/// <param name="GatedGateway503">Gated calls the gateway answered 503 BACKEND_UNAVAILABLE itself (open breaker).</param>
/// <param name="GatedOther">Gated calls with any other failure.</param>
/// <param name="JoinFailed">Users whose join was not answered 2xx (they leave).</param>
/// <param name="LostPlaces">Users who held a place and were then told it is unknown (status or enter 404).</param>
public sealed record ClientCounts(long Joined, long Admitted, long GatedOk, long GatedBackend503, long GatedGateway503, long GatedOther, long JoinFailed, long LostPlaces);
