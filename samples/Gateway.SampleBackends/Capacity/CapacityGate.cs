namespace Gateway.SampleBackends.Capacity;

/// <summary>
/// Admits at most the configured number of requests in each one-second window, windows counted from
/// start-up, and remembers the busiest window. Fixed windows rather than a token bucket so that no
/// second ever lets in more than the capacity, which is what tests compare the peak against.
/// </summary>
internal sealed class CapacityGate
{
    private const long CountMask = 0xFFFF_FFFF;

    private readonly TimeProvider _time;
    private readonly long _startTimestamp;

    // The capacity as double bits, so POST /_backend/capacity can change it while requests run.
    private long _perSecondBits;

    // Window index in the high 32 bits, requests admitted in it in the low 32: one compare-and-swap both
    // admits a request and rolls the window over, so the hot path takes no lock.
    private long _window;
    private long _peak;

    // The window state at the last reset, so admissions made before it stop counting towards the peak
    // while the gate itself keeps enforcing the capacity of the current second.
    private long _baseline;

    public CapacityGate(double perSecond, TimeProvider time)
    {
        _perSecondBits = BitConverter.DoubleToInt64Bits(perSecond);
        _time = time;
        _startTimestamp = time.GetTimestamp();
    }

    /// <summary>
    /// Requests admitted per one-second window. Changing it applies from the current window on: whatever the
    /// value, a window admits floor(c) or ceil(c) requests (see <see cref="Limit"/>).
    /// </summary>
    public double PerSecond
    {
        get => BitConverter.Int64BitsToDouble(Volatile.Read(ref _perSecondBits));
        set => Volatile.Write(ref _perSecondBits, BitConverter.DoubleToInt64Bits(value));
    }

    /// <summary>Most requests admitted in any one-second window since start or the last <see cref="ResetPeak"/>.</summary>
    public long PeakPerSecond => Math.Max(Volatile.Read(ref _peak), SinceReset(Volatile.Read(ref _window)));

    public bool TryAdmit()
    {
        var now = _time.GetElapsedTime(_startTimestamp).Ticks / TimeSpan.TicksPerSecond;
        while (true)
        {
            var state = Volatile.Read(ref _window);
            var stateWindow = state >> 32;
            // Another thread may already have rolled to a later second than the one read above.
            var window = Math.Max(stateWindow, now);
            var admitted = window == stateWindow ? state & CountMask : 0;
            if (admitted >= Limit(window))
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _window, (window << 32) | (admitted + 1), state) == state)
            {
                if (window != stateWindow)
                {
                    RaisePeak(SinceReset(state));
                }

                return true;
            }
        }
    }

    public void ResetPeak()
    {
        Volatile.Write(ref _baseline, Volatile.Read(ref _window));
        Volatile.Write(ref _peak, 0);
    }

    // Window i admits floor((i+1)·c) − floor(i·c), so a fractional capacity such as 0.5/s averages out
    // exactly (1, 0, 1, 0, ...) and a whole one is simply c every second.
    private long Limit(long window)
    {
        var perSecond = PerSecond;
        return (long)Math.Floor((window + 1) * perSecond) - (long)Math.Floor(window * perSecond);
    }

    private long SinceReset(long state)
    {
        var baseline = Volatile.Read(ref _baseline);
        var admitted = state & CountMask;
        return (state >> 32) == (baseline >> 32) ? Math.Max(0, admitted - (baseline & CountMask)) : admitted;
    }

    private void RaisePeak(long value)
    {
        var current = Volatile.Read(ref _peak);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref _peak, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}
