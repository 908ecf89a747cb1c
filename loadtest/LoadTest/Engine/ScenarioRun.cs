using System.Diagnostics;

namespace LoadTest.Engine;

/// <summary>Executes one scenario once: starts iterations per the simulation, drains, summarises.</summary>
internal sealed class ScenarioRun : IDisposable
{
    // Stragglers get this long to notice cancellation after the drain before the run is summarised anyway.
    private static readonly TimeSpan CancellationGrace = TimeSpan.FromSeconds(5);
    private static readonly long OneMillisecond = Stopwatch.Frequency / 1000;

    private readonly Scenario _scenario;
    private readonly LoadRunOptions _options;
    private readonly CancellationToken _callerToken;
    private readonly CancellationTokenSource _stop;
    private readonly SemaphoreSlim _slots;
    private readonly List<TimelinePoint> _timeline = [];
    private long _origin;
    private double _lastSampleSeconds;
    private long _due;

    public ScenarioRun(Scenario scenario, LoadRunOptions options, CancellationToken callerToken)
    {
        _scenario = scenario;
        _options = options;
        _callerToken = callerToken;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(callerToken);
        _slots = new SemaphoreSlim(options.MaxInFlight, options.MaxInFlight);
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
        _slots.Dispose();
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
        var previousDue = _origin;
        for (long n = 0; n < maxIterations; n++)
        {
            var at = simulation.ArrivalSeconds(n);
            if (!(at < durationSeconds))
            {
                break;
            }

            var due = _origin + (long)(at * Stopwatch.Frequency);
            // Below 1 ms between arrivals, spinning for each would burn a core: release them in ~1 ms batches
            // instead. Each still counts its latency from its own due time.
            var batched = due - previousDue < OneMillisecond;
            previousDue = due;
            if (!WaitUntil(due, batched, token) || !TakeSlot(end, token))
            {
                break;
            }

            Metrics.IterationStarting();
            ThreadPool.UnsafeQueueUserWorkItem(
                static state => _ = state.Run.RunIterationAsync(state.N, state.Due),
                (Run: this, N: n, Due: due),
                preferLocal: false);
        }

        _due = CountArrivalsBefore(simulation, Math.Min(durationSeconds, ElapsedSeconds), maxIterations);
    }

    private static bool WaitUntil(long due, bool batched, CancellationToken token)
    {
        while (!token.IsCancellationRequested)
        {
            var remaining = due - Stopwatch.GetTimestamp();
            if (remaining <= 0)
            {
                return true;
            }

            if (batched || remaining > 2 * OneMillisecond)
            {
                // Linux sleeps about 1.06 ms for 1; wake up a little early and finish by yielding.
                Thread.Sleep((int)Math.Clamp((remaining / OneMillisecond) - 1, 1, 50));
            }
            else
            {
                Thread.Yield();
            }
        }

        return false;
    }

    private bool TakeSlot(long end, CancellationToken token)
    {
        if (_slots.Wait(0, CancellationToken.None))
        {
            return true;
        }

        Metrics.CapHit();
        var untilEnd = (end - Stopwatch.GetTimestamp()) / OneMillisecond;
        try
        {
            return untilEnd > 0 && _slots.Wait((int)Math.Min(untilEnd, int.MaxValue), token);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
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
                Metrics.RecordStartLag(Stopwatch.GetTimestamp() - due, (long)(_options.LateThreshold.TotalSeconds * Stopwatch.Frequency));
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
            if (scheduled is not null)
            {
                _slots.Release();
            }
        }
    }

    private async Task DrainAsync()
    {
        var deadline = Stopwatch.GetTimestamp() + (long)((_scenario.DrainTimeout ?? _options.RequestTimeout).TotalSeconds * Stopwatch.Frequency);
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
}
