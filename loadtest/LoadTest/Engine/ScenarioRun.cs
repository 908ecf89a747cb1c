using System.Diagnostics;

namespace LoadTest.Engine;

/// <summary>Executes one scenario once: starts iterations per the simulation, drains, summarises.</summary>
internal sealed class ScenarioRun : IDisposable
{
    // Stragglers get this long to notice cancellation after the drain before the run is summarised anyway.
    private static readonly TimeSpan CancellationGrace = TimeSpan.FromSeconds(5);
    // Past the last request's timeout the drain waits this long more: a timeout is a timer, and on a machine whose
    // thread pool is starved (a CI run of many tests at once) timers fire late; 500 ms once cancelled 3 of 20
    // requests that would have timed out. The wait ends as soon as nothing is in flight, so it costs nothing otherwise.
    private static readonly TimeSpan DrainGrace = TimeSpan.FromSeconds(2);
    // The scheduler wakes at most this often, 1,000 times a second: arrivals due in between start together,
    // each timed from its own due time, so a start lags up to ~1 ms behind because of batching. Wake-ups are
    // context switches, dear in a VM (and sends spread thinner wake the socket thread more often too): at
    // 5,000/s, waking every 0.25 ms cost 37 us of CPU per request more than every 1 ms, every 0.5 ms 16 us.
    private static readonly long ReleaseInterval = Stopwatch.Frequency / 1000;

    // Arrivals the scheduler starts itself per wake-up; more go to the thread pool in work items of at most
    // ArrivalsPerWorkItem, spread over the workers rather than started one after another.
    private const int InlineStarts = 32;

    // Long runs are also summarised per minute: a p99 per second is noisy and per run hides a trend.
    private const double WindowSeconds = 60;

    private const int ArrivalsPerWorkItem = 16;

    private readonly Scenario _scenario;
    private readonly LoadRunOptions _options;
    private readonly CancellationToken _callerToken;
    private readonly CancellationTokenSource _stop;
    private readonly long _lateTicks;
    private readonly List<TimelinePoint> _timeline = [];
    private readonly List<WindowStats> _windows = [];
    private double _windowStart;
    private long _origin;
    private double _lastSampleSeconds;
    private long _due;

    public ScenarioRun(Scenario scenario, LoadRunOptions options, CancellationToken callerToken)
    {
        _scenario = scenario;
        _options = options;
        _callerToken = callerToken;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(callerToken);
        _lateTicks = (long)(options.LateThreshold.TotalSeconds * Stopwatch.Frequency);
        Timeouts = new TimeoutTokens(options.RequestTimeout, _stop.Token);
    }

    /// <summary>Sends one request; the response is returned after its headers, the body still to read.</summary>
    public Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        _options.Client is LoadTestHttpClient client
            ? client.Invoker.SendAsync(request, cancellationToken)
            : _options.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);

    public TimeoutTokens Timeouts { get; }

    public RunMetrics Metrics { get; } = new();

    private double ElapsedSeconds => Stopwatch.GetElapsedTime(_origin).TotalSeconds;

    public async Task<LoadTestResult> ExecuteAsync()
    {
        var startedAt = DateTimeOffset.UtcNow;
        var toolAtStart = ToolStats.Now();
        _origin = Stopwatch.GetTimestamp();
        using var tickerStop = new CancellationTokenSource();
        var ticker = TickAsync(tickerStop.Token);

        await (_scenario.Simulation switch
        {
            OpenModelSimulation open => RunOpenModelAsync(open),
            ClosedModel closed => RunClosedModelAsync(closed),
            _ => throw new NotSupportedException($"unknown simulation {_scenario.Simulation.GetType().Name}"),
        });

        await tickerStop.CancelAsync();
        await ticker;
        // The last, usually partial, interval: it holds the requests that completed during the drain.
        _timeline.Add(Sample(ElapsedSeconds));
        var elapsed = _lastSampleSeconds;
        if (Metrics.CloseWindow(_windowStart, elapsed) is { Latency.Count: > 0 } last)
        {
            _windows.Add(last);
        }

        var steps = Metrics.Steps();
        var latency = LatencyHistograms.Create();
        foreach (var step in steps)
        {
            latency.Add(step.Histogram);
        }

        var schedule = _scenario.Simulation is OpenModelSimulation
            ? new ScheduleStats(true, _due, Metrics.Started, Metrics.Late, _options.LateThreshold, Metrics.StartLag(), _options.MaxInFlight, Metrics.CapHits)
            : new ScheduleStats(false, 0, 0, 0, TimeSpan.Zero, LatencySummary.From(LatencyHistograms.Create()), _options.MaxInFlight, 0);
        return new LoadTestResult(
            _scenario.Name,
            _scenario.Simulation,
            _scenario.MaxIterations,
            startedAt,
            TimeSpan.FromSeconds(elapsed),
            steps,
            _timeline,
            _windows,
            schedule,
            Metrics.Iterations(),
            _callerToken.IsCancellationRequested,
            latency,
            ToolStats.Now().Since(toolAtStart));
    }

    public void Dispose()
    {
        Timeouts.Dispose();
        _stop.Dispose();
    }

    private async Task RunOpenModelAsync(OpenModelSimulation simulation)
    {
        // A thread of its own: the schedule must not wait behind request continuations in the thread pool.
        var completion = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                ScheduleArrivals(simulation);
                completion.SetResult();
            }
            catch (Exception exception)
            {
                completion.SetException(exception);
            }
        })
        {
            IsBackground = true,
            Name = "LoadTest scheduler",
            Priority = ThreadPriority.AboveNormal,
        };
        thread.Start();
        await completion.Task;
        await DrainAsync();
    }

    private void ScheduleArrivals(OpenModelSimulation simulation)
    {
        var durationSeconds = simulation.Duration.TotalSeconds;
        var end = _origin + (long)(durationSeconds * Stopwatch.Frequency);
        var maxIterations = _scenario.MaxIterations ?? long.MaxValue;
        var token = _stop.Token;
        var batch = new PendingBatch(this, simulation);
        var lastWake = long.MinValue;
        for (long n = 0; n < maxIterations && !token.IsCancellationRequested; n++)
        {
            var at = simulation.ArrivalSeconds(n);
            if (!(at < durationSeconds))
            {
                break;
            }

            var due = _origin + (long)(at * Stopwatch.Frequency);
            if (due > Stopwatch.GetTimestamp())
            {
                // Nothing else is due yet: start what is, then sleep until this arrival. One wake-up per arrival
                // at 20,000/s would cost a context switch each; waking at most every ReleaseInterval releases
                // the arrivals that fell due meanwhile together, each still timed from its own due time.
                batch.Release();
                if (!SleepUntil(Math.Max(due, lastWake + ReleaseInterval), token))
                {
                    break;
                }

                lastWake = Stopwatch.GetTimestamp();
            }

            if (!TakeSlot(batch, end, token))
            {
                break;
            }

            Metrics.IterationStarting();
            batch.Add(n);
        }

        batch.Release();
        _due = CountArrivalsBefore(simulation, Math.Min(durationSeconds, ElapsedSeconds), maxIterations);
    }

    private static bool SleepUntil(long timestamp, CancellationToken token)
    {
        while (!token.IsCancellationRequested)
        {
            if (Stopwatch.GetTimestamp() >= timestamp)
            {
                return true;
            }

            // At most 50 ms at a time, to notice a stop.
            PreciseSleep.Until(timestamp, 50);
        }

        return false;
    }

    private bool TakeSlot(PendingBatch batch, long end, CancellationToken token)
    {
        // Only this thread starts open-model iterations, so the in-flight count can only fall between this
        // check and the start: a counter does what a semaphore did, without its lock.
        if (Metrics.InFlight < _options.MaxInFlight)
        {
            return true;
        }

        batch.Release();
        Metrics.CapHit();
        while (Metrics.InFlight >= _options.MaxInFlight)
        {
            if (token.IsCancellationRequested || Stopwatch.GetTimestamp() >= end)
            {
                return false;
            }

            Thread.Sleep(1);
        }

        return true;
    }

    private static long CountArrivalsBefore(OpenModelSimulation simulation, double seconds, long maxIterations)
    {
        // Smallest n whose arrival is at or after `seconds` (arrival times only grow with n).
        long low = 0;
        long high = 1;
        while (high < maxIterations && simulation.ArrivalSeconds(high) < seconds)
        {
            low = high;
            high *= 2;
        }

        high = Math.Min(high, maxIterations);
        while (low < high)
        {
            var middle = low + ((high - low) / 2);
            if (simulation.ArrivalSeconds(middle) < seconds)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return low;
    }

    private async Task RunClosedModelAsync(ClosedModel simulation)
    {
        var maxIterations = _scenario.MaxIterations ?? long.MaxValue;
        long next = -1;
        using var stopStarting = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        stopStarting.CancelAfter(simulation.Duration);

        async Task UserAsync()
        {
            while (!stopStarting.IsCancellationRequested)
            {
                var n = Interlocked.Increment(ref next);
                if (n >= maxIterations)
                {
                    return;
                }

                Metrics.IterationStarting();
                await RunIterationAsync(n, scheduled: null);
            }
        }

        var users = Task.WhenAll(Enumerable.Range(0, simulation.Concurrency).Select(_ => Task.Run(UserAsync)));
        // Whichever comes first: every user done (iteration budget spent), or the duration is over.
        await Task.WhenAny(users, Task.Delay(Timeout.Infinite, stopStarting.Token));
        await stopStarting.CancelAsync();
        await DrainAsync();
        await users;
    }

    private async Task RunIterationAsync(long number, long? scheduled)
    {
        try
        {
            if (scheduled is { } due)
            {
                Metrics.RecordStartLag(Stopwatch.GetTimestamp() - due, _lateTicks);
            }

            await _scenario.Iteration(new IterationContext(this, number, scheduled, _stop.Token));
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            Metrics.IterationCancelled();
        }
        catch (Exception exception)
        {
            Metrics.IterationFailed(exception);
        }
        finally
        {
            Metrics.IterationEnded();
        }
    }

    private async Task DrainAsync()
    {
        // By default long enough for the last request to reach its timeout (which fires up to a slice late) and
        // be counted as one, rather than be cancelled by the stop.
        var drain = _scenario.DrainTimeout ?? _options.RequestTimeout + Timeouts.Granularity + DrainGrace;
        var deadline = Stopwatch.GetTimestamp() + (long)(drain.TotalSeconds * Stopwatch.Frequency);
        await WaitForInFlightAsync(deadline, _stop.Token);
        if (!_stop.IsCancellationRequested)
        {
            await _stop.CancelAsync();
        }

        await WaitForInFlightAsync(Stopwatch.GetTimestamp() + (long)(CancellationGrace.TotalSeconds * Stopwatch.Frequency), CancellationToken.None);
    }

    private async Task WaitForInFlightAsync(long deadline, CancellationToken token)
    {
        while (Metrics.InFlight > 0 && Stopwatch.GetTimestamp() < deadline && !token.IsCancellationRequested)
        {
            await Task.Delay(10, CancellationToken.None);
        }
    }

    private async Task TickAsync(CancellationToken token)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(token))
            {
                var point = Sample(ElapsedSeconds);
                _timeline.Add(point);
                if (point.ElapsedSeconds >= _windowStart + WindowSeconds - 0.5)
                {
                    _windows.Add(Metrics.CloseWindow(_windowStart, point.ElapsedSeconds));
                    _windowStart = point.ElapsedSeconds;
                }
                _options.OnProgress?.Invoke(new ProgressSnapshot(
                    TimeSpan.FromSeconds(point.ElapsedSeconds),
                    _scenario.Simulation.Duration + (_scenario.DrainTimeout ?? TimeSpan.Zero),
                    point,
                    Metrics.TotalCompleted,
                    Metrics.TotalErrors,
                    Metrics.Late,
                    _scenario.ProgressDetail?.Invoke()));
            }
        }
        catch (OperationCanceledException)
        {
            // The run is over; the final partial interval is sampled by the caller.
        }
    }

    private TimelinePoint Sample(double elapsedSeconds)
    {
        var interval = elapsedSeconds - _lastSampleSeconds;
        var middle = _lastSampleSeconds + (interval / 2);
        _lastSampleSeconds = elapsedSeconds;
        double? target = _scenario.Simulation is OpenModelSimulation open && middle < open.Duration.TotalSeconds
            ? open.RateAt(middle)
            : null;
        return Metrics.Sample(elapsedSeconds, interval, target);
    }

    /// <summary>Consecutive arrivals due and counted as started, not yet started.</summary>
    private sealed class PendingBatch(ScenarioRun run, OpenModelSimulation simulation)
    {
        private long _first;
        private long _count;

        public void Add(long n)
        {
            if (_count == 0)
            {
                _first = n;
            }

            _count++;
        }

        public void Release()
        {
            if (_count == 0)
            {
                return;
            }

            // The first arrivals start on this thread: handing them to the thread pool wakes a worker for each
            // batch (at 5,000/s: 85 us per request with every start in the pool, 73 us with these on this
            // thread). Beyond InlineStarts per wake-up (32,000/s), the rest go to the pool in work items, so
            // that the schedule does not wait for them.
            var inline = Math.Min(_count, InlineStarts);
            for (var first = _first + inline; first < _first + _count; first += ArrivalsPerWorkItem)
            {
                var count = (int)Math.Min(ArrivalsPerWorkItem, _first + _count - first);
                ThreadPool.UnsafeQueueUserWorkItem(new StartArrivals(run, simulation, first, count), preferLocal: false);
            }

            new StartArrivals(run, simulation, _first, (int)inline).Execute();
            _count = 0;
        }
    }

    private sealed class StartArrivals(ScenarioRun run, OpenModelSimulation simulation, long first, int count) : IThreadPoolWorkItem
    {
        public void Execute()
        {
            for (var n = first; n < first + count; n++)
            {
                var due = run._origin + (long)(simulation.ArrivalSeconds(n) * Stopwatch.Frequency);
                _ = run.RunIterationAsync(n, due);
            }
        }
    }
}
