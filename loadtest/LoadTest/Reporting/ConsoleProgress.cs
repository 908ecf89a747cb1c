using LoadTest.Engine;
using static System.FormattableString;
using static LoadTest.Reporting.Format;

namespace LoadTest.Reporting;

/// <summary>The once-a-second progress line on the console.</summary>
public static class ConsoleProgress
{
    /// <summary>A progress callback that prints one line per second, prefixed with <paramref name="label"/>.</summary>
    public static Action<ProgressSnapshot> Printer(string label) => snapshot => Console.WriteLine(Line(label, snapshot));

    /// <summary>The progress line for <paramref name="snapshot"/>.</summary>
    public static string Line(string label, ProgressSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var last = snapshot.Last;
        var target = last.TargetRate is { } rate ? Invariant($" (target {Number(rate, "0.#")}/s)") : string.Empty;
        var detail = snapshot.Detail is { } text ? "  " + text : string.Empty;
        return Invariant(
            $"[{label}] {snapshot.Elapsed.TotalSeconds,5:0}s/{snapshot.Planned.TotalSeconds:0}s  rate {Number(last.Throughput, "0.#")}/s{target}  p99 {Ms(last.Latency.P99Ms)} ms  errors {snapshot.TotalErrors}  in-flight {last.InFlight}  late {snapshot.TotalLate}{detail}");
    }
}
