using System.Diagnostics;
using HdrHistogram;

namespace LoadTest.Engine;

/// <summary>One histogram shape for every latency the tool records: microseconds, 1 µs to 1 hour, 3 significant digits.</summary>
internal static class LatencyHistograms
{
    private const long HighestMicros = 3_600_000_000;
    private static readonly double MicrosPerTick = 1_000_000.0 / Stopwatch.Frequency;

    public static HistogramBase Create() =>
        HistogramFactory.With64BitBucketSize().WithValuesFrom(1).WithValuesUpTo(HighestMicros).WithPrecisionOf(3).Create();

    // Lock-free for many writers and one interval reader: requests record from any thread while the
    // once-a-second ticker drains.
    public static Recorder CreateRecorder() =>
        HistogramFactory.With64BitBucketSize().WithValuesFrom(1).WithValuesUpTo(HighestMicros).WithPrecisionOf(3)
            .WithThreadSafeWrites().WithThreadSafeReads().Create();

    public static long ToMicros(long stopwatchTicks) => Math.Clamp((long)(stopwatchTicks * MicrosPerTick), 1, HighestMicros);
}
