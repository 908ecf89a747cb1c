using System.Collections.Concurrent;
using HdrHistogram;

namespace LoadTest.Engine;

/// <summary>
/// Counters and histograms of one run. Requests record from any thread without locks; a single reader
/// (the ticker, then the final summary) drains the per-interval recorders into running totals.
/// </summary>
internal sealed class RunMetrics
{
    private readonly ConcurrentDictionary<OutcomeKey, OutcomeRecorder> _outcomes = new();
    private readonly Recorder _lag = LatencyHistograms.CreateRecorder();
    private readonly HistogramBase _lagTotal = LatencyHistograms.Create();
    private readonly Dictionary<string, HistogramBase> _windowSteps = new(StringComparer.Ordinal);
    private HistogramBase? _intervalScratch;
    private HistogramBase? _lagScratch;
    private long _started;
    private long _errors;
    private long _late;
    private long _capHits;
    private long _inFlight;
    private long _failed;
    private long _cancelled;
    private string? _firstFailure;
    private long _lastStarted;
    private long _lastErrors;
    private long _lastLate;
    private long _stepOrder;

    public long InFlight => Interlocked.Read(ref _inFlight);

    public long Started => Interlocked.Read(ref _started);

    public long Late => Interlocked.Read(ref _late);

    public long CapHits => Interlocked.Read(ref _capHits);

    public long TotalCompleted { get; private set; }

    public long TotalErrors => Interlocked.Read(ref _errors);

    public void IterationStarting()
    {
        Interlocked.Increment(ref _inFlight);
        Interlocked.Increment(ref _started);
    }

    public void IterationEnded() => Interlocked.Decrement(ref _inFlight);

    public void IterationFailed(Exception exception)
    {
        Interlocked.Increment(ref _failed);
        Interlocked.CompareExchange(ref _firstFailure, $"{exception.GetType().Name}: {exception.Message}", null);
    }

    public void IterationCancelled() => Interlocked.Increment(ref _cancelled);

    public void CapHit() => Interlocked.Increment(ref _capHits);

    public void RecordStartLag(long lagTicks, long lateThresholdTicks)
    {
        _lag.RecordValue(LatencyHistograms.ToMicros(Math.Max(lagTicks, 0)));
        if (lagTicks > lateThresholdTicks)
        {
            Interlocked.Increment(ref _late);
        }
    }

    public void RecordStep(string step, string label, ErrorKind? error, long elapsedTicks, string? detail)
    {
        var micros = LatencyHistograms.ToMicros(elapsedTicks);
        // A static factory with an argument: a lambda closing over this was allocated on every call (~70 bytes).
        var outcome = _outcomes.GetOrAdd(
            new OutcomeKey(step, label, error), static (_, metrics) => new OutcomeRecorder(Interlocked.Increment(ref metrics._stepOrder)), this);

        outcome.Recorder.RecordValue(micros);
        outcome.Describe(detail);
        if (error is not null)
        {
            Interlocked.Increment(ref _errors);
        }
    }

    /// <summary>Drains what was recorded since the previous call. Single reader only.</summary>
    public TimelinePoint Sample(double elapsedSeconds, double intervalSeconds, double? targetRate)
    {
        // The interval's histogram is the sum of the outcomes' intervals: one recorder write per request, not two.
        _intervalScratch ??= LatencyHistograms.Create();
        _intervalScratch.Reset();
        foreach (var (key, outcome) in _outcomes)
        {
            var interval = outcome.Drain();
            _intervalScratch.Add(interval);
            if (interval.TotalCount > 0)
            {
                outcome.WindowCount += interval.TotalCount;
                if (!_windowSteps.TryGetValue(key.Step, out var window))
                {
                    _windowSteps[key.Step] = window = LatencyHistograms.Create();
                }

                window.Add(interval);
            }
        }

        _lagScratch = _lag.GetIntervalHistogram(_lagScratch);
        _lagTotal.Add(_lagScratch);
        TotalCompleted += _intervalScratch.TotalCount;

        var started = Started;
        var errors = TotalErrors;
        var late = Late;
        var point = new TimelinePoint(
            elapsedSeconds,
            intervalSeconds,
            started - _lastStarted,
            _intervalScratch.TotalCount,
            errors - _lastErrors,
            late - _lastLate,
            InFlight,
            targetRate,
            LatencySummary.From(_intervalScratch));
        (_lastStarted, _lastErrors, _lastLate) = (started, errors, late);
        return point;
    }

    /// <summary>
    /// What was drained by <see cref="Sample"/> since the previous window closed, per step and outcome; starts the
    /// next window. Single reader only: one histogram per step is kept for the window, reused.
    /// </summary>
    public WindowStats CloseWindow(double fromSeconds, double toSeconds)
    {
        var all = LatencyHistograms.Create();
        var steps = new List<WindowStep>();
        foreach (var group in _outcomes.GroupBy(pair => pair.Key.Step).OrderBy(group => group.Min(pair => pair.Value.Order)))
        {
            if (!_windowSteps.TryGetValue(group.Key, out var histogram) || histogram.TotalCount == 0)
            {
                continue;
            }

            var outcomes = group
                .Where(pair => pair.Value.WindowCount > 0)
                .Select(pair => new OutcomeCount(pair.Key.Label, pair.Key.Error, pair.Value.WindowCount))
                .OrderByDescending(outcome => outcome.Count)
                .ToList();
            steps.Add(new WindowStep(group.Key, LatencySummary.From(histogram), outcomes));
            all.Add(histogram);
            histogram.Reset();
            foreach (var pair in group)
            {
                pair.Value.WindowCount = 0;
            }
        }

        return new WindowStats(fromSeconds, toSeconds, LatencySummary.From(all), steps.Sum(step => step.Errors), steps);
    }

    /// <summary>Per-step totals; call after the final <see cref="Sample"/>.</summary>
    public IReadOnlyList<StepStats> Steps() =>
        _outcomes
            .GroupBy(pair => pair.Key.Step)
            .OrderBy(group => group.Min(pair => pair.Value.Order))
            .Select(group =>
            {
                var histogram = LatencyHistograms.Create();
                foreach (var pair in group)
                {
                    histogram.Add(pair.Value.Total);
                }

                var outcomes = group
                    .Select(pair => new OutcomeStats(pair.Key.Label, pair.Key.Error, LatencySummary.From(pair.Value.Total), pair.Value.FirstDetail))
                    .OrderByDescending(outcome => outcome.Latency.Count)
                    .ToList();
                return new StepStats(group.Key, histogram, outcomes);
            })
            .ToList();

    public LatencySummary StartLag() => LatencySummary.From(_lagTotal);

    public IterationStats Iterations() =>
        new(Started, Interlocked.Read(ref _failed), Interlocked.Read(ref _cancelled), Volatile.Read(ref _firstFailure));

    private readonly record struct OutcomeKey(string Step, string Label, ErrorKind? Error);

    private sealed class OutcomeRecorder(long order)
    {
        private HistogramBase? _scratch;
        private string? _firstDetail;

        public long Order { get; } = order;

        public Recorder Recorder { get; } = LatencyHistograms.CreateRecorder();

        public HistogramBase Total { get; } = LatencyHistograms.Create();

        /// <summary>Requests drained since the current window began (see <see cref="CloseWindow"/>).</summary>
        public long WindowCount { get; set; }

        public string? FirstDetail => Volatile.Read(ref _firstDetail);

        public void Describe(string? detail)
        {
            if (detail is not null)
            {
                Interlocked.CompareExchange(ref _firstDetail, detail, null);
            }
        }

        /// <summary>Adds what was recorded since the last drain to the total, and returns it.</summary>
        public HistogramBase Drain()
        {
            _scratch = Recorder.GetIntervalHistogram(_scratch);
            Total.Add(_scratch);
            return _scratch;
        }
    }
}
