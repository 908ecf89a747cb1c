using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Gateway.Admission.Queue;
using Gateway.Admission.Rooms;
using HdrHistogram;

namespace OpeningStampede;

/// <summary>
/// The pre-queued pages at the opening, as the built-in page behaves: each had joined at a random moment of the
/// last hour and followed <c>poll_after_ms</c> (the real <see cref="PollCadence"/>, times the page's 0.95-1.05),
/// which puts its first poll after the opening; from then on it polls when each answer says, until it sees a
/// position (or is ready). Open model: every poll has a scheduled time and its latency counts from it, so a
/// gateway that falls behind shows as latency, not as a lower rate. Pages are spread over the gateways round-robin.
/// </summary>
internal sealed class PagePolls : IDisposable
{
    private readonly string[] _tokens;
    private readonly double[] _seenMs;
    private readonly HttpClient[] _clients;
    private readonly PriorityQueue<int, double> _due = new();
    private readonly SemaphoreSlim _slots;
    private readonly LongHistogram _latency = new(600_000_000, 3); // microseconds, up to 10 minutes
    private readonly int[] _sentPerSecond = new int[3600];
    private readonly Random _random = new(20261224);
    private readonly Stopwatch _clock = new();
    private double _startOffsetMs;
    private int _seen;
    private long _polls;
    private long _prequeueAnswers;
    private long _degraded;
    private long _errors;
    private long _notFound;
    private long _lateOver100Ms;
    private int _inFlight;

    public PagePolls(Options options, Room room, string[] tokens)
    {
        _tokens = tokens;
        _seenMs = new double[tokens.Length];
        Array.Fill(_seenMs, double.NaN);
        _slots = new SemaphoreSlim(options.MaxInFlight);
        _clients = [.. options.Gateways.Select(g => new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = Math.Max(1, options.MaxInFlight / options.Gateways.Count),
            UseCookies = false,
            UseProxy = false,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        })
        { BaseAddress = g, Timeout = TimeSpan.FromSeconds(30) })];
        for (var page = 0; page < tokens.Length; page++)
            _due.Enqueue(page, FirstPollAfterOpening(room));
    }

    /// <summary>Runs until every page has seen a position, or <paramref name="cancellationToken"/> ends the run.</summary>
    public async Task RunAsync(DateTimeOffset opensAt, CancellationToken cancellationToken)
    {
        _clock.Start();
        _startOffsetMs = (DateTimeOffset.UtcNow - opensAt).TotalMilliseconds;
        try
        {
            while (Volatile.Read(ref _seen) < _tokens.Length)
            {
                int page;
                double due;
                lock (_due)
                {
                    if (!_due.TryPeek(out page, out due))
                        due = double.MaxValue;
                }
                var now = Now();
                if (due > now)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(Math.Clamp(due - now, 1, 20)), cancellationToken);
                    continue;
                }
                lock (_due)
                    _due.Dequeue();
                await _slots.WaitAsync(cancellationToken);
                _ = PollAsync(page, due);
            }
        }
        catch (OperationCanceledException)
        {
        }
        // Let the polls in flight finish (bounded by the client timeout).
        for (var i = 0; i < 300 && Volatile.Read(ref _inFlight) > 0; i++)
            await Task.Delay(100, CancellationToken.None);
    }

    public PollSummary Summary()
    {
        var seen = _seenMs.Where(s => !double.IsNaN(s)).Order().ToArray();
        double At(double q) => seen.Length == 0 ? double.NaN : seen[(int)Math.Min(seen.Length - 1, Math.Ceiling(seen.Length * q) - 1)] / 1000;
        var busiest = _sentPerSecond.Max();
        return new PollSummary(
            _polls, _prequeueAnswers, _degraded, _errors, _notFound, _lateOver100Ms, busiest, Array.IndexOf(_sentPerSecond, busiest),
            _latency.GetValueAtPercentile(50) / 1000.0, _latency.GetValueAtPercentile(99) / 1000.0, _latency.GetMaxValue() / 1000.0,
            _tokens.Length - seen.Length, At(0.5), At(0.9), At(0.99), seen.Length == 0 ? double.NaN : seen[^1] / 1000,
            [.. _sentPerSecond.Take(Math.Max(1, Array.FindLastIndex(_sentPerSecond, c => c > 0) + 1))]);
    }

    public void Dispose()
    {
        _slots.Dispose();
        foreach (var client in _clients)
            client.Dispose();
    }

    /// <summary>Milliseconds since the opening.</summary>
    private double Now() => _startOffsetMs + _clock.Elapsed.TotalMilliseconds;

    private double FirstPollAfterOpening(Room room)
    {
        var t = -_random.NextDouble() * 3_600_000;
        while (t < 0)
            t += PollCadence.Prequeue(room, TimeSpan.FromMilliseconds(-t)) * PageJitter(_random);
        return t;
    }

    private static double PageJitter(Random random) => 0.95 + (random.NextDouble() * 0.1);

    private async Task PollAsync(int page, double scheduled)
    {
        Interlocked.Increment(ref _inFlight);
        var sent = Now();
        if (sent - scheduled > 100)
            Interlocked.Increment(ref _lateOver100Ms);
        Interlocked.Increment(ref _sentPerSecond[Math.Clamp((int)(sent / 1000), 0, _sentPerSecond.Length - 1)]);
        Interlocked.Increment(ref _polls);
        double next;
        try
        {
            using var response = await _clients[page % _clients.Length].GetAsync("/api/v1/queue/status?token=" + Uri.EscapeDataString(_tokens[page]));
            var body = await response.Content.ReadAsByteArrayAsync();
            var answered = Now();
            lock (_latency)
                _latency.RecordValue((long)Math.Max(0, (answered - scheduled) * 1000));
            if (response.StatusCode != System.Net.HttpStatusCode.OK)
            {
                if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
                    Interlocked.Increment(ref _notFound);
                else
                    Interlocked.Increment(ref _errors);
                next = answered + (response.Headers.RetryAfter?.Delta?.TotalMilliseconds ?? 1000) * PageJitter(Random.Shared);
            }
            else
            {
                using var json = JsonDocument.Parse(body);
                var root = json.RootElement;
                var status = root.GetProperty("status").GetString();
                var positioned = status is "ready" or "admitted" || (status == "waiting" && root.GetProperty("position").ValueKind == JsonValueKind.Number);
                if (status == "prequeue")
                    Interlocked.Increment(ref _prequeueAnswers);
                if (root.TryGetProperty("degraded", out var degraded) && degraded.ValueKind == JsonValueKind.True)
                    Interlocked.Increment(ref _degraded);
                if (positioned && double.IsNaN(_seenMs[page]))
                {
                    _seenMs[page] = answered;
                    Interlocked.Increment(ref _seen);
                }
                // A ready page enters and leaves the waiting room: it polls no more.
                next = status is "ready" or "admitted" ? double.NaN : answered + (Math.Clamp(root.GetProperty("poll_after_ms").GetInt32(), 250, 300_000) * PageJitter(Random.Shared));
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException)
        {
            Interlocked.Increment(ref _errors);
            next = Now() + 1000;
        }
        finally
        {
            _slots.Release();
            Interlocked.Decrement(ref _inFlight);
        }
        if (!double.IsNaN(next))
        {
            lock (_due)
                _due.Enqueue(page, next);
        }
    }
}

/// <summary>The pages' polls after the opening. Times in seconds after the opening.</summary>
internal sealed record PollSummary(
    long Polls, long PrequeueAnswers, long Degraded, long Errors, long NotFound, long LateOver100Ms, int BusiestSecondPolls, int BusiestSecond,
    double LatencyP50Ms, double LatencyP99Ms, double LatencyMaxMs,
    int Unseen, double SeenP50, double SeenP90, double SeenP99, double SeenAll, int[] SentPerSecond)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"polls {Polls:N0} (answered 'prequeue' {PrequeueAnswers:N0}, degraded {Degraded:N0}, errors {Errors:N0}, 404 {NotFound:N0}, sent >100 ms late {LateOver100Ms:N0}); busiest second +{BusiestSecond} s: {BusiestSecondPolls:N0}; " +
        $"latency from schedule p50 {LatencyP50Ms:F1} ms, p99 {LatencyP99Ms:F1} ms, max {LatencyMaxMs:F1} ms; " +
        $"first saw a position: p50 {SeenP50:F1} s, p90 {SeenP90:F1} s, p99 {SeenP99:F1} s, all {SeenAll:F1} s; never {Unseen:N0}");
}
