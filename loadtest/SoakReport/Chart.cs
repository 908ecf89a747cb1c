using ScottPlot;

namespace SoakReport;

/// <summary>
/// soak.png: four panels over the same time axis (minutes from the first arrival): memory of the gateways (and
/// nginx and the backends), Redis's memory with the room's places, p99 per minute (log scale), failed requests and
/// lost places per minute; the restarts shaded, the opening and the end of the arrivals marked in each.
/// </summary>
internal static class Chart
{
    private const int Width = 1400;
    private const int Height = 1850;

    private static readonly Color[] Palette =
    [
        Colors.Blue, Colors.Orange, Colors.SkyBlue, Colors.Gold, Colors.Red, Colors.DarkRed, Colors.Gray, Colors.Green,
    ];

    public static void Write(SoakRun run, string path)
    {
        var processes = Panel("Memory of the processes: RSS (MiB)", "MiB");
        var redis = Panel("Redis: RSS and used_memory (MiB); the room's places (right axis)", "MiB");
        var cpu = Panel("CPU (cores): the soak's processes, and everything else on this shared machine", "cores");
        var latency = Panel("Latency per minute: p99 (ms, log scale)", "p99 (ms)");
        var errors = Panel("Failed requests and lost places per minute", "per minute");
        errors.XLabel("minutes from the first arrival");
        Plot[] panels = [processes, redis, cpu, latency, errors];

        Memory(run, processes, series => !series.StartsWith("Redis", StringComparison.Ordinal) && !series.StartsWith("redis", StringComparison.Ordinal));
        Memory(run, redis, series => series.StartsWith("Redis", StringComparison.Ordinal) || series.StartsWith("redis", StringComparison.Ordinal));
        Places(run, redis);
        Cores(run, cpu);
        Latency(run, latency);
        Errors(run, errors);
        var end = Minutes(run, run.Samples.Count > 0 ? run.Samples[^1].Unix : run.Load.End);
        foreach (var plot in panels)
        {
            Mark(run, plot);
            plot.ShowLegend(Edge.Right);
            // The same data area in every panel, whatever its legend and right axis, so the time axes line up.
            plot.Layout.Fixed(new PixelPadding(80, 330, 45, 35));
            plot.Axes.SetLimitsX(0, end + 0.5);
        }

        var multiplot = new Multiplot(processes);
        foreach (var plot in panels.Skip(1))
        {
            multiplot.AddPlot(plot);
        }

        multiplot.Layout = new ScottPlot.MultiplotLayouts.Rows();
        multiplot.SharedAxes.ShareX(panels);
        multiplot.SavePng(path, Width, Height);
    }

    private static void Memory(SoakRun run, Plot plot, Func<string, bool> shown)
    {
        var labelled = new HashSet<string>(StringComparer.Ordinal);
        var segments = SoakReport.Memory.Segments(run).Where(segment => shown(segment.Series)).ToList();
        foreach (var segment in segments)
        {
            var index = SoakReport.Memory.Series.Select((series, i) => (series.Label, i)).First(pair => pair.Label == segment.Series).i;
            var line = plot.Add.Scatter(
                segment.Points.Select(p => Minutes(run, p.Unix)).ToArray(), segment.Points.Select(p => p.MiB).ToArray(), Palette[index % Palette.Length]);
            line.MarkerSize = 0;
            line.LineWidth = 2;
            if (labelled.Add(segment.Series))
            {
                line.LegendText = segment.Series;
            }
        }

        plot.Axes.SetLimitsY(0, segments.Count == 0 ? 1 : segments.SelectMany(s => s.Points).Max(p => p.MiB) * 1.15);
    }

    private static void Cores(SoakRun run, Plot plot)
    {
        var points = Cpu.Series(run);
        var xs = points.Select(p => Minutes(run, p.To)).ToArray();
        foreach (var (values, label, color) in new[]
        {
            (points.Select(p => p.Soak).ToArray(), "the soak's processes", Colors.Blue),
            (points.Select(p => p.Others).ToArray(), "other processes", Colors.Red),
        })
        {
            var line = plot.Add.Scatter(xs, values, color);
            line.MarkerSize = 0;
            line.LineWidth = 1.5f;
            line.LegendText = label;
        }

        plot.Axes.SetLimitsY(0, Environment.ProcessorCount * 1.1);
    }

    private static void Places(SoakRun run, Plot plot)
    {
        foreach (var (column, label, color) in new[] { ("places", "places (right axis)", Colors.Gray), ("waiting", "waiting (right axis)", Colors.Teal) })
        {
            var samples = run.Samples.Where(s => s[column] is not null).ToList();
            var line = plot.Add.Scatter(samples.Select(s => Minutes(run, s.Unix)).ToArray(), samples.Select(s => s[column]!.Value).ToArray(), color);
            line.MarkerSize = 0;
            line.LineWidth = 1;
            line.LinePattern = LinePattern.Dashed;
            line.LegendText = label;
            line.Axes.YAxis = plot.Axes.Right;
        }

        plot.Axes.Right.Label.Text = "places";
        var most = run.Samples.Select(s => s["places"]).OfType<double>().DefaultIfEmpty(1).Max();
        plot.Axes.Right.Min = 0;
        plot.Axes.Right.Max = most * 1.15;
    }

    private static void Latency(SoakRun run, Plot plot)
    {
        // log10 of the milliseconds, labelled in ms: a restart minute of seconds would flatten every other minute.
        var steps = new[] { ("all", "every request"), ("status", "status"), ("gated", "gated"), ("join", "join"), ("enter", "enter") };
        var highest = 1.0;
        foreach (var (step, label) in steps)
        {
            var rows = run.Minutes.Where(row => row.Step == step && row.Status == "all" && row.P99Ms is > 0).OrderBy(row => row.Window).ToList();
            if (rows.Count == 0)
            {
                continue;
            }

            var line = plot.Add.Scatter(
                rows.Select(row => Minutes(run, row.FromUnix + (row.Seconds / 2))).ToArray(), rows.Select(row => Math.Log10(row.P99Ms!.Value)).ToArray());
            line.LegendText = label;
            line.LineWidth = step == "all" ? 3 : 1.5f;
            line.MarkerSize = step == "all" ? 6 : 4;
            highest = Math.Max(highest, rows.Max(row => row.P99Ms!.Value));
        }

        var decades = Enumerable.Range(0, (int)Math.Ceiling(Math.Log10(highest)) + 1).Select(d => (double)d).ToArray();
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            decades, decades.Select(d => Math.Pow(10, d).ToString("N0", System.Globalization.CultureInfo.InvariantCulture)).ToArray());
        plot.Axes.SetLimitsY(0, decades[^1] + 0.05);
    }

    private static void Errors(SoakRun run, Plot plot)
    {
        var windows = run.Minutes.Where(row => row.Step == "all").OrderBy(row => row.Window).ToList();
        var xs = windows.Select(row => Minutes(run, row.FromUnix + (row.Seconds / 2))).ToArray();
        var bars = plot.Add.Bars(xs, windows.Select(row => (double)row.Errors).ToArray());
        bars.LegendText = "failed requests";
        foreach (var bar in bars.Bars)
        {
            bar.Size = 0.8;
        }

        var lost = windows.Select(window => (double)run.Minutes
            .Where(row => row.Window == window.Window && row.Step is "status" or "enter" && row.Status == "404")
            .Sum(row => row.Count)).ToArray();
        var dots = plot.Add.Scatter(xs, lost, Colors.Red);
        dots.LineWidth = 0;
        dots.MarkerSize = 8;
        dots.LegendText = "lost places (status / enter 404)";
        plot.Axes.SetLimitsY(0, Math.Max(5, windows.Select(row => (double)row.Errors).Concat(lost).DefaultIfEmpty(0).Max() * 1.15));
    }

    private static void Mark(SoakRun run, Plot plot)
    {
        var colors = new[] { Colors.Orange, Colors.Purple };
        for (var i = 0; i < run.Restarts.Count; i++)
        {
            var window = run.Restarts[i];
            var span = plot.Add.HorizontalSpan(Minutes(run, window.Event.Start), Minutes(run, window.Event.End), colors[i % colors.Length].WithAlpha(0.3));
            span.LegendText = window.Label;
        }

        if (run.Events.FirstOrDefault(e => e.Name == "opening") is { } opening)
        {
            var open = plot.Add.VerticalLine(Minutes(run, opening.Start), 1.5f, Colors.Green, LinePattern.Dotted);
            open.LegendText = "room opens";
        }

        var stop = plot.Add.VerticalLine(Minutes(run, run.Load.End), 1.5f, Colors.Black, LinePattern.Dashed);
        stop.LegendText = "arrivals stop";
    }

    private static Plot Panel(string title, string yLabel)
    {
        var plot = new Plot();
        plot.Title(title);
        plot.YLabel(yLabel);
        return plot;
    }

    private static double Minutes(SoakRun run, double unix) => (unix - run.Load.Start) / 60;
}
