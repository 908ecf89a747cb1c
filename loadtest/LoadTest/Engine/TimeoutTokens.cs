using System.Diagnostics;

namespace LoadTest.Engine;

/// <summary>
/// Request timeouts shared by the requests that start in the same short slice of time: one
/// <see cref="CancellationTokenSource"/> and one timer per slice instead of a linked source and a timer per
/// request (~330 bytes per request, and the timer queue's lock). A request starting in a slice is cancelled at the slice's end plus the timeout: between the
/// timeout and the timeout plus one slice (1/100 of the timeout, at most 100 ms) after it started. Each
/// slice's source is linked to the run's stop.
/// </summary>
internal sealed class TimeoutTokens : IDisposable
{
    // A fired slice is disposed this long after it fired: whoever holds its token has seen it cancelled.
    private static readonly long DisposeAfter = Stopwatch.Frequency;

    private readonly TimeSpan _timeout;
    private readonly long _sliceTicks;
    private readonly CancellationToken _stop;
    private readonly Lock _lock = new();
    private readonly Queue<(long FiresAt, CancellationTokenSource Source)> _sources = new();
    private Slice? _current;
    private bool _disposed;

    public TimeoutTokens(TimeSpan timeout, CancellationToken stop)
    {
        _timeout = timeout;
        _stop = stop;
        _sliceTicks = Math.Max(Stopwatch.Frequency / 1000, (long)(Math.Min(timeout.TotalSeconds / 100, 0.1) * Stopwatch.Frequency));
    }

    /// <summary>The most a request's timeout can fire after the timeout: one slice.</summary>
    public TimeSpan Granularity => Stopwatch.GetElapsedTime(0, _sliceTicks);

    /// <summary>The token of a request starting now: cancelled by its timeout or the run's stop.</summary>
    public CancellationToken Current()
    {
        var index = Stopwatch.GetTimestamp() / _sliceTicks;
        var slice = Volatile.Read(ref _current);
        return slice is not null && slice.Index == index ? slice.Token : Create(index);
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            while (_sources.TryDequeue(out var entry))
            {
                entry.Source.Dispose();
            }
        }
    }

    private CancellationToken Create(long index)
    {
        lock (_lock)
        {
            if (_current is { } slice && slice.Index >= index)
            {
                // Another thread made it, or this one was descheduled across a slice boundary: an older
                // request's timer is a little later, never earlier.
                return slice.Token;
            }

            ObjectDisposedException.ThrowIf(_disposed, this);
            var now = Stopwatch.GetTimestamp();
            while (_sources.TryPeek(out var oldest) && oldest.FiresAt + DisposeAfter < now && oldest.Source.IsCancellationRequested)
            {
                _sources.Dequeue().Source.Dispose();
            }

            var source = CancellationTokenSource.CreateLinkedTokenSource(_stop);
            var firesAt = ((index + 1) * _sliceTicks) + (long)(_timeout.TotalSeconds * Stopwatch.Frequency);
            source.CancelAfter(Stopwatch.GetElapsedTime(now, firesAt));
            _sources.Enqueue((firesAt, source));
            Volatile.Write(ref _current, new Slice(index, source.Token));
            return source.Token;
        }
    }

    private sealed record Slice(long Index, CancellationToken Token);
}
