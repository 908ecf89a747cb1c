using System.Diagnostics;
using System.Runtime.InteropServices;

namespace LoadTest.Engine;

/// <summary>
/// Sleeps until a <see cref="Stopwatch"/> timestamp. On Linux, where timestamps are CLOCK_MONOTONIC
/// nanoseconds, with clock_nanosleep to the absolute time: it wakes ~50-100 us after the time asked, where
/// Thread.Sleep rounds to whole milliseconds (~1.06 ms for 1) and the rest had to be spun away with
/// Thread.Yield (up to a core at a few hundred arrivals per second). Elsewhere, Thread.Sleep and Thread.Yield.
/// </summary>
internal static partial class PreciseSleep
{
    private const int ClockMonotonic = 1;
    private const int TimerAbsoluteTime = 1;
    private const int Interrupted = 4; // EINTR
    private static readonly long OneMillisecond = Stopwatch.Frequency / 1000;

    /// <summary>True when sleeps end within ~0.1 ms of the time asked rather than ~1 ms.</summary>
    public static bool IsPrecise { get; } = Probe();

    /// <summary>Sleeps until <paramref name="timestamp"/> (a Stopwatch timestamp) or, at most, for <paramref name="maxMilliseconds"/>.</summary>
    public static void Until(long timestamp, int maxMilliseconds)
    {
        var remaining = timestamp - Stopwatch.GetTimestamp();
        if (remaining <= 0)
        {
            return;
        }

        if (IsPrecise)
        {
            var until = Math.Min(timestamp, Stopwatch.GetTimestamp() + (maxMilliseconds * OneMillisecond));
            var request = new Timespec(until / 1_000_000_000, until % 1_000_000_000);
            while (ClockNanosleep(ClockMonotonic, TimerAbsoluteTime, in request, IntPtr.Zero) == Interrupted)
            {
            }
        }
        else if (remaining > 2 * OneMillisecond)
        {
            // Linux sleeps about 1.06 ms for 1; wake up a little early and finish by yielding.
            Thread.Sleep((int)Math.Clamp((remaining / OneMillisecond) - 1, 1, maxMilliseconds));
        }
        else
        {
            Thread.Yield();
        }
    }

    private static bool Probe()
    {
        if (!OperatingSystem.IsLinux() || Stopwatch.Frequency != 1_000_000_000)
        {
            return false;
        }

        try
        {
            // Stopwatch reads CLOCK_MONOTONIC on Linux; check rather than assume, since absolute sleeps depend on it.
            var before = Stopwatch.GetTimestamp();
            var monotonic = ClockGettime(ClockMonotonic, out var now) == 0 ? (now.Seconds * 1_000_000_000) + now.Nanoseconds : long.MinValue;
            var after = Stopwatch.GetTimestamp();
            return monotonic >= before - OneMillisecond && monotonic <= after + OneMillisecond;
        }
        catch (Exception exception) when (exception is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private readonly record struct Timespec(long Seconds, long Nanoseconds);

    [LibraryImport("libc", EntryPoint = "clock_nanosleep")]
    private static partial int ClockNanosleep(int clock, int flags, in Timespec request, IntPtr remaining);

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGettime(int clock, out Timespec time);
}
