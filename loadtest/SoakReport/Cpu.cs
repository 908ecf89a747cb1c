namespace SoakReport;

/// <summary>CPU used between two samples, in cores: the soak's own processes, everything else on the machine, and the machine in all.</summary>
internal readonly record struct CpuPoint(double From, double To, double Soak, double Others, double Machine);

internal static class Cpu
{
    // USER_HZ: /proc/stat and /proc/<pid>/stat count CPU time in hundredths of a second.
    private const double TicksPerSecond = 100;

    private static readonly string[] Processes = ["gw1", "gw2", "redis", "nginx", "backends", "tool"];

    /// <summary>One point per pair of consecutive samples.</summary>
    public static IReadOnlyList<CpuPoint> Series(SoakRun run)
    {
        var points = new List<CpuPoint>();
        for (var i = 1; i < run.Samples.Count; i++)
        {
            var (before, after) = (run.Samples[i - 1], run.Samples[i]);
            var seconds = after.Unix - before.Unix;
            if (seconds <= 0 || before["cpu_busy_ticks"] is not { } busyBefore || after["cpu_busy_ticks"] is not { } busyAfter)
            {
                continue;
            }

            var soak = 0.0;
            foreach (var name in Processes)
            {
                if (after[name + "_cpu_ticks"] is not { } ticks)
                {
                    continue;
                }

                // A new pid (a restart) counts from its start.
                var earlier = before.Text(name + "_pid") == after.Text(name + "_pid") ? before[name + "_cpu_ticks"] ?? 0 : 0;
                soak += Math.Max(0, ticks - earlier);
            }

            var machine = (busyAfter - busyBefore) / TicksPerSecond / seconds;
            soak = soak / TicksPerSecond / seconds;
            points.Add(new CpuPoint(before.Unix, after.Unix, soak, Math.Max(0, machine - soak), machine));
        }

        return points;
    }

    /// <summary>The points whose interval overlaps [from, to].</summary>
    public static IEnumerable<CpuPoint> Between(IReadOnlyList<CpuPoint> points, double from, double to) =>
        points.Where(point => point.From < to && point.To > from);
}
