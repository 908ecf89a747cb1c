namespace SoakReport;

/// <summary>One point of a memory series: when, and how many MiB.</summary>
internal readonly record struct MemoryPoint(double Unix, double MiB);

/// <summary>
/// The memory of one process while it kept one pid (a restart starts a new segment), or Redis's own count of
/// its data (<c>used_memory</c>) for one redis-server process.
/// </summary>
internal sealed record MemorySegment(string Series, string Pid, IReadOnlyList<MemoryPoint> Points)
{
    /// <summary>Points after the first minute of the process (start-up, JIT and pools filling are not a trend).</summary>
    public IReadOnlyList<MemoryPoint> Warm => [.. Points.Where(p => p.Unix >= Points[0].Unix + WarmUpSeconds)];

    public const double WarmUpSeconds = 60;

    /// <summary>Least-squares slope in MiB per hour over <paramref name="points"/>, or null for fewer than 3 points or under 2 minutes.</summary>
    public static double? SlopePerHour(IReadOnlyList<MemoryPoint> points)
    {
        if (points.Count < 3 || points[^1].Unix - points[0].Unix < 120)
        {
            return null;
        }

        var meanX = points.Average(p => p.Unix);
        var meanY = points.Average(p => p.MiB);
        var sxx = points.Sum(p => (p.Unix - meanX) * (p.Unix - meanX));
        var sxy = points.Sum(p => (p.Unix - meanX) * (p.MiB - meanY));
        return sxx > 0 ? sxy / sxx * 3600 : null;
    }
}

internal static class Memory
{
    /// <summary>The series the chart and the summary show: label, the samples.csv column of the pid, of the value, and the unit's divisor to MiB.</summary>
    public static readonly IReadOnlyList<(string Label, string PidColumn, string ValueColumn, double ToMiB)> Series =
    [
        ("gateway 1 RSS", "gw1_pid", "gw1_rss_kb", 1024),
        ("gateway 2 RSS", "gw2_pid", "gw2_rss_kb", 1024),
        ("gateway 1 managed heap", "gw1_pid", "gw1_heap_bytes", 1024 * 1024),
        ("gateway 2 managed heap", "gw2_pid", "gw2_heap_bytes", 1024 * 1024),
        ("redis-server RSS", "redis_pid", "redis_rss_kb", 1024),
        ("Redis used_memory", "redis_pid", "redis_used_memory", 1024 * 1024),
        ("nginx RSS", "nginx_pid", "nginx_rss_kb", 1024),
        ("sample backends RSS", "backends_pid", "backends_rss_kb", 1024),
    ];

    /// <summary>Each series cut where its process's pid changed; samples without a value (a process restarting) are skipped.</summary>
    public static IReadOnlyList<MemorySegment> Segments(SoakRun run)
    {
        var segments = new List<MemorySegment>();
        foreach (var (label, pidColumn, valueColumn, toMiB) in Series)
        {
            string? pid = null;
            List<MemoryPoint>? points = null;
            foreach (var sample in run.Samples)
            {
                if (sample.Text(pidColumn) is not { } samplePid || sample[valueColumn] is not { } value)
                {
                    continue;
                }

                if (samplePid != pid)
                {
                    if (points is { Count: > 0 })
                    {
                        segments.Add(new MemorySegment(label, pid!, points));
                    }

                    pid = samplePid;
                    points = [];
                }

                points!.Add(new MemoryPoint(sample.Unix, value / toMiB));
            }

            if (points is { Count: > 0 })
            {
                segments.Add(new MemorySegment(label, pid!, points));
            }
        }

        return segments;
    }
}
