using System.Diagnostics;
using System.Text.Json;
using LoadTest.Engine;
using static System.FormattableString;

namespace LoadTest.Scenarios;

/// <summary>Settings of a flash crowd.</summary>
public sealed record FlashCrowdOptions
{
    /// <summary>Gateway origin, e.g. http://127.0.0.1:5000.</summary>
    public required Uri Gateway { get; init; }

    /// <summary>The room (event id) everyone queues for.</summary>
    public string EventId { get; init; } = "concert";

    /// <summary>Number of users.</summary>
    public int Users { get; init; } = 1000;

    /// <summary>The users' joins are spread evenly over this period.</summary>
    public TimeSpan JoinPeriod { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Whole run, joins included; users still waiting at the end are counted as such.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>User ids are this prefix + the user's number.</summary>
    public string UserPrefix { get; init; } = "u-";

    /// <summary>Throws <see cref="ArgumentException"/> on inconsistent or out-of-bounds values.</summary>
    public void Validate()
    {
        if (Users < 1 || Users > LoadLimits.MaxInFlight)
        {
            throw new ArgumentException(Invariant($"users must be in [1, {LoadLimits.MaxInFlight}], got {Users}"));
        }

        if (Duration > LoadLimits.MaxDuration || JoinPeriod <= TimeSpan.Zero || JoinPeriod > Duration)
        {
            throw new ArgumentException(Invariant($"need 0 < join period <= duration <= {LoadLimits.MaxDuration.TotalSeconds} s"));
        }

        new ConstantRate(Users / JoinPeriod.TotalSeconds, JoinPeriod).Validate();
    }
}

/// <summary>What happened to one user.</summary>
public enum UserFate
{
    /// <summary>The run ended before this user's join was due.</summary>
    NotStarted,

    /// <summary>The join failed.</summary>
    JoinFailed,

    /// <summary>Still waiting when the run ended.</summary>
    Waiting,

    /// <summary>Status answered 404: the place was lost (dropped or expired).</summary>
    LostPlace,

    /// <summary>Admitted, but at least one gated call failed.</summary>
    AdmittedGatedFailed,

    /// <summary>Admitted and all three gated calls succeeded.</summary>
    Completed,
}

/// <summary>One user's journey.</summary>
/// <param name="UserId">The user id sent on join.</param>
/// <param name="Fate">How it ended.</param>
/// <param name="PositionAtJoin">Position the join answered.</param>
/// <param name="EtaAtJoinSec">The eta_sec the join answered: the wait the user was promised.</param>
/// <param name="WaitSec">From the join's response to the granted enter: the wait the user really had.</param>
/// <param name="TimeToAdmissionSec">From the join's scheduled time to the granted enter.</param>
public sealed record UserRecord(string UserId, UserFate Fate, long? PositionAtJoin, double? EtaAtJoinSec, double? WaitSec, double? TimeToAdmissionSec)
{
    /// <summary>
    /// max(0, 1 - |predicted - actual| / actual), with actual floored at 1 s: users let in at once
    /// would otherwise divide by almost nothing.
    /// </summary>
    public double? EtaAccuracy => EtaAtJoinSec is { } predicted && WaitSec is { } actual
        ? Math.Max(0, 1 - (Math.Abs(predicted - actual) / Math.Max(actual, 1)))
        : null;
}

/// <summary>A distribution of values in seconds (or a ratio), by nearest rank.</summary>
public sealed record Distribution(int Count, double Mean, double P10, double P50, double P90, double P99, double Max)
{
    /// <summary>Summarises <paramref name="values"/>; all zero when empty.</summary>
    public static Distribution Of(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0)
        {
            return new Distribution(0, 0, 0, 0, 0, 0, 0);
        }

        double At(double percentile) => sorted[Math.Clamp((int)Math.Ceiling(percentile / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];
        return new Distribution(sorted.Length, sorted.Average(), At(10), At(50), At(90), At(99), sorted[^1]);
    }
}

/// <summary>Summary of a flash crowd.</summary>
/// <param name="Users">Per-user records, by user number.</param>
/// <param name="TimeToAdmission">Seconds from scheduled join to granted enter, over admitted users.</param>
/// <param name="EtaAccuracy">Per-user ETA accuracy (see <see cref="UserRecord.EtaAccuracy"/>).</param>
/// <param name="EtaErrorSec">Predicted minus actual wait, seconds: positive means the ETA was pessimistic.</param>
/// <param name="Gateway5xx">5xx answers across all steps.</param>
/// <param name="StatusLatency">Latency of the status polls.</param>
/// <param name="Backends">Sample backends' load, when their stats were fetched.</param>
public sealed record FlashCrowdResult(
    IReadOnlyList<UserRecord> Users,
    Distribution TimeToAdmission,
    Distribution EtaAccuracy,
    Distribution EtaErrorSec,
    long Gateway5xx,
    LatencySummary StatusLatency,
    IReadOnlyList<BackendLoad> Backends)
{
    /// <summary>Users per fate.</summary>
    public IReadOnlyDictionary<UserFate, int> Fates =>
        Users.GroupBy(user => user.Fate).ToDictionary(group => group.Key, group => group.Count());
}

/// <summary>
/// Scenario <c>flash-crowd</c>: users arrive (open model, evenly over the join period), join, poll their
/// status every 2-4 s with jitter, enter when ready, then call the three gated backends with their admission.
/// </summary>
public sealed class FlashCrowdScenario
{
    /// <summary>Step name of the join.</summary>
    public const string JoinStep = "join";

    /// <summary>Step name of the status polls.</summary>
    public const string StatusStep = "status";

    /// <summary>Step name of the enter calls.</summary>
    public const string EnterStep = "enter";

    /// <summary>Step name of the gated inventory call.</summary>
    public const string SeatsStep = "GET seats";

    /// <summary>Step name of the gated reservation call.</summary>
    public const string ReserveStep = "POST reservation";

    /// <summary>Step name of the gated payment call.</summary>
    public const string PayStep = "POST payment";

    private readonly FlashCrowdOptions _options;
    private readonly UserState[] _users;
    private long _joined;
    private long _admitted;

    /// <summary>Prepares a crowd; validates <paramref name="options"/>.</summary>
    public FlashCrowdScenario(FlashCrowdOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _users = Enumerable.Range(0, options.Users).Select(n => new UserState(Invariant($"{options.UserPrefix}{n}"))).ToArray();
    }

    /// <summary>
    /// The scenario to pass to <see cref="LoadRunner.RunAsync"/>; its in-flight cap must be at least the user
    /// count. The users' records live in this instance: one run per instance.
    /// </summary>
    public Scenario Create() => new()
    {
        Name = "flash-crowd",
        Simulation = new ConstantRate(_options.Users / _options.JoinPeriod.TotalSeconds, _options.JoinPeriod),
        MaxIterations = _options.Users,
        DrainTimeout = _options.Duration - _options.JoinPeriod,
        Iteration = RunUserAsync,
        ProgressDetail = () =>
        {
            var joined = Interlocked.Read(ref _joined);
            var admitted = Interlocked.Read(ref _admitted);
            return Invariant($"joined {joined}/{_options.Users}, admitted {admitted}, waiting {joined - admitted}");
        },
    };

    /// <summary>Summarises the users after the run.</summary>
    public FlashCrowdResult Summarize(LoadTestResult run, IReadOnlyList<BackendLoad> backends)
    {
        ArgumentNullException.ThrowIfNull(run);
        var users = _users.Select(user => user.ToRecord()).ToList();
        var admitted = users.Where(user => user.TimeToAdmissionSec is not null).ToList();
        var withEta = admitted.Where(user => user.EtaAccuracy is not null).ToList();
        return new FlashCrowdResult(
            users,
            Distribution.Of(admitted.Select(user => user.TimeToAdmissionSec!.Value)),
            Distribution.Of(withEta.Select(user => user.EtaAccuracy!.Value)),
            Distribution.Of(withEta.Select(user => user.EtaAtJoinSec!.Value - user.WaitSec!.Value)),
            run.Steps.Sum(step => step.ErrorsByKind.GetValueOrDefault(ErrorKind.Http5xx)),
            run.Steps.FirstOrDefault(step => step.Name == StatusStep)?.Latency ?? LatencySummary.From(LatencyHistograms.Create()),
            backends);
    }

    private async Task RunUserAsync(IterationContext context)
    {
        var user = _users[context.Number];
        var gateway = _options.Gateway;
        var join = await context.SendAsync(JoinStep, QueueApi.Join(gateway, _options.EventId, user.UserId), readBody: true);
        if (!join.IsSuccess)
        {
            user.Fate = UserFate.JoinFailed;
            return;
        }

        var joined = QueueApi.Parse(join.Body, QueueJson.Default.JoinResponse);
        var joinedAt = Stopwatch.GetTimestamp();
        (user.PositionAtJoin, user.EtaAtJoinSec, user.Fate) = (joined.Position, joined.EtaSec, UserFate.Waiting);
        Interlocked.Increment(ref _joined);

        var admissionToken = await WaitForAdmissionAsync(context, joined.WaitingToken, user);
        if (admissionToken is null)
        {
            return;
        }

        user.WaitSec = Stopwatch.GetElapsedTime(joinedAt).TotalSeconds;
        user.TimeToAdmissionSec = Stopwatch.GetElapsedTime(context.StartTimestamp).TotalSeconds;
        Interlocked.Increment(ref _admitted);
        user.Fate = await CallGatedRoutesAsync(context, admissionToken) ? UserFate.Completed : UserFate.AdmittedGatedFailed;
    }

    private async Task<string?> WaitForAdmissionAsync(IterationContext context, string waitingToken, UserState user)
    {
        // The first poll right after joining, as the waiting page does; then every 2-4 s.
        var delay = TimeSpan.Zero;
        while (true)
        {
            await Task.Delay(delay, context.CancellationToken);
            delay = TimeSpan.FromSeconds(2 + (2 * Random.Shared.NextDouble()));
            var status = await context.SendAsync(StatusStep, QueueApi.Status(_options.Gateway, waitingToken), readBody: true);
            if (status.StatusCode == 404)
            {
                user.Fate = UserFate.LostPlace;
                return null;
            }

            if (!status.IsSuccess || !QueueApi.Parse(status.Body, QueueJson.Default.StatusResponse).IsReady)
            {
                continue;
            }

            // 403 NOT_READY is the gateway's normal answer when the bucket is empty: try again at the next poll.
            var enter = await context.SendAsync(
                EnterStep, QueueApi.Enter(_options.Gateway, waitingToken), readBody: true, isExpectedStatus: code => code == 403);
            if (enter.StatusCode == 200)
            {
                return QueueApi.Parse(enter.Body, QueueJson.Default.EnterResponse).ReservationToken;
            }
        }
    }

    private async Task<bool> CallGatedRoutesAsync(IterationContext context, string admissionToken)
    {
        var gateway = _options.Gateway;
        var eventId = _options.EventId;
        var seats = await context.SendAsync(
            SeatsStep, QueueApi.Get(new Uri(gateway, $"/api/inventory/events/{Uri.EscapeDataString(eventId)}/seats"), admissionToken));
        var reservation = await context.SendAsync(
            ReserveStep,
            QueueApi.Post(new Uri(gateway, "/api/reservations"), new ReservationRequest(eventId, ["A1"]), QueueJson.Default.ReservationRequest, admissionToken),
            readBody: true);
        var reservationId = ReservationId(reservation) ?? Invariant($"r-{context.Number}");
        var payment = await context.SendAsync(
            PayStep,
            QueueApi.Post(new Uri(gateway, "/api/payments"), new PaymentRequest(reservationId, 120, "KRW"), QueueJson.Default.PaymentRequest, admissionToken));
        return seats.IsSuccess && reservation.IsSuccess && payment.IsSuccess;
    }

    // The sample reservation backend's answer is not part of the gateway contract: take an id if there is one.
    private static string? ReservationId(StepResult reservation)
    {
        if (!reservation.IsSuccess || reservation.Body.Length == 0)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(reservation.Body);
            var root = document.RootElement;
            return root.ValueKind != JsonValueKind.Object ? null
                : root.TryGetProperty("reservation_id", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString()
                : root.TryGetProperty("id", out id) && id.ValueKind == JsonValueKind.String ? id.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private sealed class UserState(string userId)
    {
        public string UserId { get; } = userId;

        public UserFate Fate { get; set; } = UserFate.NotStarted;

        public long? PositionAtJoin { get; set; }

        public double? EtaAtJoinSec { get; set; }

        public double? WaitSec { get; set; }

        public double? TimeToAdmissionSec { get; set; }

        public UserRecord ToRecord() => new(UserId, Fate, PositionAtJoin, EtaAtJoinSec, WaitSec, TimeToAdmissionSec);
    }
}
