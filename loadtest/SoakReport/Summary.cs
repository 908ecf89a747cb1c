using System.Globalization;
using System.Text;
using static System.FormattableString;

namespace SoakReport;

/// <summary>The run in Markdown: settings, errors by window, lost places, p99 per minute, memory per process, the keys left.</summary>
internal static class Summary
{
    public static string Render(SoakRun run, string chartFile)
    {
        var load = run.Load;
        var md = new StringBuilder();
        md.AppendLine(Invariant($"# Soak: {run.MetaOr("minutes")} minutes of a sale")).AppendLine();
        md.AppendLine(Invariant($"- Command: `{run.MetaOr("command")}`; started {run.MetaOr("started")}, commit {run.MetaOr("commit")}"));
        md.AppendLine(Invariant($"- Machine: {run.MetaOr("machine")}; {run.MetaOr("versions")}"));
        var loads = run.Samples.Select(s => s["load1"]).OfType<double>().ToList();
        md.AppendLine(Invariant(
            $"- Load average (1 min) at start {run.MetaOr("load_at_start")}, at end {run.MetaOr("load_at_end")}; sampled during the run: {Range(loads, "0.##")} (median {Median(loads):0.##})"));
        var cpu = Cpu.Series(run);
        var loadCpu = Cpu.Between(cpu, run.Load.Start, run.Load.End).ToList();
        if (loadCpu.Count > 0)
        {
            var others = loadCpu.Select(p => p.Others).ToList();
            md.AppendLine(Invariant(
                $"- CPU while arrivals ran (cores of {Environment.ProcessorCount}, per {run.MetaOr("sample_every")} s sample): the soak's processes {loadCpu.Average(p => p.Soak):0.00} on average (max {loadCpu.Max(p => p.Soak):0.00}); **everything else on the machine {others.Average():0.00} on average, median {Median(others):0.00}, max {others.Max():0.00}**; the machine was {Percent(loadCpu.Count(p => p.Machine > Environment.ProcessorCount * 0.9), loadCpu.Count)} of the time over 90% busy"));
        }

        md.AppendLine(Invariant(
            $"- The sale: {run.MetaOr("arrivals")} people/s for {run.MetaOr("minutes")} min (backend-pace through nginx over two gateways); room refill {run.MetaOr("refill")}/s, burst {run.MetaOr("burst")}, AdmissionTtl {run.MetaOr("admission_ttl")}, AbandonAfter {run.MetaOr("abandon_after")}; each sample backend takes {run.MetaOr("capacity")} requests/s"));
        if (run.Events.FirstOrDefault(e => e.Name == "opening") is { } opening)
        {
            md.AppendLine(Invariant($"- The room began paused and opened at {Clock(run, opening.Start)} ({opening.Detail}); admitting as many per second as arrive, it kept that line"));
        }

        foreach (var window in run.Restarts)
        {
            md.AppendLine(Invariant(
                $"- {Capital(window.Label)} at {Clock(run, window.Event.Start)}: {window.Event.Detail}; whole again after {window.Event.End - window.Event.Start:0.#} s (window counted {Clock(run, window.From)}-{Clock(run, window.To)}, {run.Grace:0} s of grace)"));
        }

        if (run.Drain is { } drain)
        {
            md.AppendLine(Invariant($"- Arrivals stopped at {Clock(run, load.End)}; the room was empty {drain.End - drain.Start:0} s later ({drain.Detail})"));
        }

        md.AppendLine(Invariant($"- Load tool: {string.Join("; ", run.ToolSummary)}")).AppendLine();
        md.AppendLine(Invariant($"![soak]({chartFile})")).AppendLine();

        Errors(md, run);
        Minutes(md, run);
        MemoryTable(md, run);
        Keys(md, run);
        return md.ToString();
    }

    private static void Errors(StringBuilder md, SoakRun run)
    {
        md.AppendLine("## Requests and errors").AppendLine();
        var groups = run.Seconds
            .GroupBy(second => run.WindowOf(second.Unix - 0.5)?.Label ?? "outside the restarts")
            .ToDictionary(group => group.Key, group => (Requests: group.Sum(s => s.Completed), Errors: group.Sum(s => s.Errors), Seconds: group.Count()));
        var rows = new List<IReadOnlyList<string>>();
        foreach (var name in run.Restarts.Select(w => w.Label).Append("outside the restarts"))
        {
            var (requests, errors, seconds) = groups.GetValueOrDefault(name);
            rows.Add([name, seconds.ToString(CultureInfo.InvariantCulture), requests.ToString("N0", CultureInfo.InvariantCulture), Bold(errors, errors > 0 && name.StartsWith("outside", StringComparison.Ordinal)), Share(errors, requests)]);
        }

        var total = (Requests: run.Seconds.Sum(s => s.Completed), Errors: run.Seconds.Sum(s => s.Errors));
        rows.Add(["all", run.Seconds.Count.ToString(CultureInfo.InvariantCulture), total.Requests.ToString("N0", CultureInfo.InvariantCulture), total.Errors.ToString(CultureInfo.InvariantCulture), Share(total.Errors, total.Requests)]);
        Table(md, ["window", "seconds", "requests", "errors", "error rate"], rows);

        var pace = run.PaceTotals;
        md.AppendLine(Invariant(
            $"Users: {pace.GetValueOrDefault("admitted_total", "?")} admitted; joins failed: {pace.GetValueOrDefault("join_failed_total", "?")}; **lost places (status or enter 404 after joining): {pace.GetValueOrDefault("lost_places_total", "?")}**; gated calls: {pace.GetValueOrDefault("gated_ok_total", "?")} ok, {pace.GetValueOrDefault("gated_backend_503_total", "?")} turned away by a backend, {pace.GetValueOrDefault("gated_gateway_503_total", "?")} by the gateway's breaker, {pace.GetValueOrDefault("gated_other_total", "?")} other failures.")).AppendLine();

        var failed = run.Minutes.Where(row => row.Step != "all" && row.Status != "all" && row.Errors > 0)
            .GroupBy(row => (Window: WindowOfMinute(run, row), row.Step, row.Status))
            .OrderBy(group => group.Key.Window).ThenByDescending(group => group.Sum(row => row.Errors))
            .Select(group => (IReadOnlyList<string>)[group.Key.Window, group.Key.Step, group.Key.Status, group.Sum(row => row.Errors).ToString(CultureInfo.InvariantCulture)])
            .ToList();
        if (failed.Count > 0)
        {
            md.AppendLine("Failed requests by step and status (from the tool's minutes, so a minute touching a restart window counts as in it):").AppendLine();
            Table(md, ["minutes", "step", "status", "requests"], failed);
        }

        Episodes(md, run);
        if (run.Nginx.Count > 0)
        {
            md.AppendLine("What nginx saw (every request not answered 2xx by the first gateway it tried; `a > b` = retried on the other gateway):").AppendLine();
            Table(
                md,
                ["window", "status", "request", "gateway(s)", "gateway status", "requests"],
                run.Nginx
                    .GroupBy(line => (
                        Window: run.WindowOf(line.Unix)?.Label ?? "outside the restarts",
                        line.Status,
                        Request: line.Method + " " + Route(line.Uri),
                        Upstream: string.Join(" > ", line.Upstream.Split(", ").Select(run.UpstreamName)),
                        line.UpstreamStatus))
                    .OrderBy(group => group.Key.Window).ThenByDescending(group => group.Count())
                    .Select(group => (IReadOnlyList<string>)[group.Key.Window, group.Key.Status.ToString(CultureInfo.InvariantCulture), group.Key.Request, group.Key.Upstream, group.Key.UpstreamStatus, group.Count().ToString(CultureInfo.InvariantCulture)]));
        }
    }

    /// <summary>Errors outside the restart windows, in episodes (seconds with errors at most 10 s apart), beside what the machine was doing.</summary>
    private static void Episodes(StringBuilder md, SoakRun run)
    {
        var outside = run.Seconds.Where(s => s.Errors > 0 && run.WindowOf(s.Unix - 0.5) is null).ToList();
        if (outside.Count == 0)
        {
            return;
        }

        var episodes = new List<List<Second>>();
        foreach (var second in outside)
        {
            if (episodes.Count == 0 || second.Unix - episodes[^1][^1].Unix > 10)
            {
                episodes.Add([]);
            }

            episodes[^1].Add(second);
        }

        var cpu = Cpu.Series(run);
        md.AppendLine("Errors outside the restart windows, by episode (seconds with errors at most 10 s apart). *Before* is the 10 s before the first error: a stall shows as late starts of the tool (it could not send on time either), seconds-long p99 and other processes taking the cores:").AppendLine();
        Table(
            md,
            ["from", "to", "errors", "requests not answered 2xx (nginx)", "tool's late starts (before, during)", "worst p99 of a second (before, during)", "others' CPU, cores (before, during: max)"],
            episodes.Select(episode =>
            {
                double from = episode[0].Unix - 1, to = episode[^1].Unix;
                var before = run.Seconds.Where(s => s.Unix > from - 10 && s.Unix <= from).ToList();
                var during = run.Seconds.Where(s => s.Unix > from && s.Unix <= to).ToList();
                var nginx = string.Join(", ", run.Nginx.Where(line => line.Unix > from - 1 && line.Unix <= to + 1 && line.Status is not (>= 200 and < 300))
                    .GroupBy(line => Invariant($"{line.Status} {Kind(line.Uri)}"))
                    .OrderByDescending(group => group.Count())
                    .Select(group => Invariant($"{group.Key} x{group.Count()}")));
                string Max(IEnumerable<CpuPoint> points) => points.Select(p => p.Others).DefaultIfEmpty(double.NaN).Max().ToString("0.00", CultureInfo.InvariantCulture);
                return (IReadOnlyList<string>)
                [
                    Clock(run, from),
                    Clock(run, to),
                    episode.Sum(s => s.Errors).ToString(CultureInfo.InvariantCulture),
                    nginx,
                    Invariant($"{before.Sum(s => s.Late)}, {during.Sum(s => s.Late)}"),
                    Invariant($"{Ms(before.Select(s => s.P99Ms).DefaultIfEmpty(0).Max())}, {Ms(during.Select(s => s.P99Ms).DefaultIfEmpty(0).Max())} ms"),
                    Invariant($"{Max(Cpu.Between(cpu, from - 10, from))}, {Max(Cpu.Between(cpu, from, to))}"),
                ];
            }));
    }

    private static string Kind(string uri) =>
        uri.StartsWith("/api/v1/queue/", StringComparison.Ordinal) ? uri["/api/v1/queue/".Length..] : "gated";

    private static string Percent(int part, int whole) => whole > 0 ? ((double)part / whole).ToString("0%", CultureInfo.InvariantCulture) : "-";

    private static void Minutes(StringBuilder md, SoakRun run)
    {
        var cpu = Cpu.Series(run);
        md.AppendLine("## Latency per minute").AppendLine();
        var windows = run.Minutes.GroupBy(row => row.Window).OrderBy(group => group.Key).ToList();
        var quiet = new List<double>();
        var touched = new List<double>();
        var rows = new List<IReadOnlyList<string>>();
        foreach (var window in windows)
        {
            var all = window.First(row => row.Step == "all");
            var restart = WindowOfMinute(run, all);
            // The first minute holds the start-up (cold JIT and pools) and the opening; a short last one the stragglers.
            var note = restart != "outside the restarts" ? restart
                : all.Window == 0 ? "start-up, opening"
                : all.Seconds < 55 || all.FromUnix + all.Seconds > run.Load.End ? "after the arrivals"
                : string.Empty;
            if (note.Length == 0)
            {
                quiet.Add(all.P99Ms ?? 0);
            }
            else if (note == restart)
            {
                touched.Add(all.P99Ms ?? 0);
            }

            string StepP99(string step) => window.FirstOrDefault(row => row.Step == step && row.Status == "all")?.P99Ms is { } p99 ? Ms(p99) : "-";
            var lost = window.Where(row => row.Step is "status" or "enter" && row.Status == "404").Sum(row => row.Count);
            rows.Add(
            [
                Invariant($"{(all.FromUnix - run.Load.Start) / 60:0}"),
                all.Count.ToString(CultureInfo.InvariantCulture),
                all.Errors.ToString(CultureInfo.InvariantCulture),
                lost.ToString(CultureInfo.InvariantCulture),
                Ms(all.P50Ms ?? 0),
                Ms(all.P99Ms ?? 0),
                StepP99("join"),
                StepP99("status"),
                StepP99("enter"),
                StepP99("gated"),
                Ms(all.MaxMs ?? 0),
                Cpu.Between(cpu, all.FromUnix, all.FromUnix + all.Seconds).Select(p => p.Others).DefaultIfEmpty(double.NaN).Average().ToString("0.00", CultureInfo.InvariantCulture),
                note,
            ]);
        }

        md.AppendLine(Invariant(
            $"p99 of every request, per minute: **{Range(quiet, "0.#")} ms** (median {Median(quiet):0.#}) in the {quiet.Count} minutes outside the restarts (leaving out the first minute and a partial last one); {Range(touched, "0.#")} ms in the {touched.Count} minutes touching a restart. Minutes are the load tool's, from its start.")).AppendLine();
        Table(md, ["minute", "requests", "errors", "lost places", "p50", "p99", "p99 join", "p99 status", "p99 enter", "p99 gated", "max", "others' CPU (cores)", "note"], rows);
    }

    private static void MemoryTable(StringBuilder md, SoakRun run)
    {
        md.AppendLine("## Memory").AppendLine();
        md.AppendLine(Invariant(
            $"MiB, sampled every {run.MetaOr("sample_every")} s; one row per process (a restart starts a new row). *After 1 min* is the first sample a minute into the process's life (start-up left out of the trend), *trend* the least-squares slope from then until arrivals stopped.")).AppendLine();
        var load = run.Load;
        var rows = new List<IReadOnlyList<string>>();
        foreach (var segment in Memory.Segments(run))
        {
            var warm = segment.Warm;
            var during = warm.Where(p => p.Unix <= load.End).ToList();
            var after = segment.Points.Where(p => p.Unix > load.End).ToList();
            rows.Add(
            [
                segment.Series,
                Invariant($"{Clock(run, segment.Points[0].Unix)}-{Clock(run, segment.Points[^1].Unix)}"),
                warm.Count > 0 ? Invariant($"{warm[0].MiB:0.0}") : "-",
                during.Count > 0 ? Invariant($"{during[^1].MiB:0.0}") : "-",
                after.Count > 0 ? Invariant($"{after[^1].MiB:0.0}") : "-",
                Invariant($"{segment.Points.Max(p => p.MiB):0.0}"),
                MemorySegment.SlopePerHour(during) is { } slope ? Invariant($"{slope:+0.0;-0.0;0.0} MiB/h over {(during[^1].Unix - during[0].Unix) / 60:0} min") : "-",
            ]);
        }

        Table(md, ["process", "sampled (mm:ss from the first arrival)", "after 1 min", "when arrivals stopped", "after the room emptied", "peak", "trend while arrivals ran"], rows);
        var last = run.Samples.LastOrDefault(s => s["places"] is not null);
        var peakPlaces = run.Samples.Select(s => s["places"]).OfType<double>().DefaultIfEmpty(0).Max();
        var peakActive = run.Samples.Select(s => s["active"]).OfType<double>().DefaultIfEmpty(0).Max();
        var peakWaiting = run.Samples.Select(s => s["waiting"]).OfType<double>().DefaultIfEmpty(0).Max();
        md.AppendLine(Invariant(
            $"The room: at most {peakPlaces:0} places ({peakWaiting:0} waiting, {peakActive:0} admissions in force); {last?["places"] ?? 0:0} places at the last sample.")).AppendLine();
    }

    private static void Keys(StringBuilder md, SoakRun run)
    {
        md.AppendLine("## Redis keys after the room emptied").AppendLine();
        var persistent = run.Keys.Count(key => key.PttlMs == -1);
        md.AppendLine(Invariant($"{run.Keys.Count} keys; **{persistent} without a TTL**.")).AppendLine();
        Table(
            md,
            ["key", "type", "TTL"],
            run.Keys.OrderBy(key => key.Key, StringComparer.Ordinal).Select(key => (IReadOnlyList<string>)
                [$"`{key.Key}`", key.Type, key.PttlMs switch { -1 => "**none**", -2 => "gone", var ms => Invariant($"{ms / 60000.0:0.0} min") }]));
    }

    /// <summary>The restart window a tool minute touches, or "outside the restarts".</summary>
    public static string WindowOfMinute(SoakRun run, MinuteRow row) =>
        run.Restarts.FirstOrDefault(w => w.Overlaps(row.FromUnix, row.FromUnix + row.Seconds))?.Label ?? "outside the restarts";

    private static string Route(string uri) =>
        uri.StartsWith("/api/v1/", StringComparison.Ordinal) ? uri
        : uri.StartsWith("/api/inventory/", StringComparison.Ordinal) ? "/api/inventory/... (gated)"
        : uri.StartsWith("/api/", StringComparison.Ordinal) ? uri + " (gated)"
        : uri;

    private static string Clock(SoakRun run, double unix)
    {
        var seconds = (int)Math.Round(unix - run.Load.Start);
        return Invariant($"{(seconds < 0 ? "-" : string.Empty)}{Math.Abs(seconds) / 60}:{Math.Abs(seconds) % 60:00}");
    }

    private static string Range(List<double> values, string format) =>
        values.Count == 0 ? "-" : values.Min().ToString(format, CultureInfo.InvariantCulture) + "-" + values.Max().ToString(format, CultureInfo.InvariantCulture);

    private static double Median(List<double> values) =>
        values.Count == 0 ? 0 : values.Order().ElementAt(values.Count / 2);

    private static string Ms(double ms) => ms.ToString(ms < 10 ? "0.##" : ms < 1000 ? "0.#" : "0", CultureInfo.InvariantCulture);

    private static string Share(long part, long whole) => whole > 0 ? ((double)part / whole).ToString("0.###%", CultureInfo.InvariantCulture) : "-";

    private static string Bold(long value, bool bold) => bold ? Invariant($"**{value}**") : value.ToString(CultureInfo.InvariantCulture);

    private static string Capital(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];

    private static void Table(StringBuilder md, IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows)
    {
        md.Append("| ").AppendJoin(" | ", headers).AppendLine(" |");
        md.Append('|').AppendJoin("|", headers.Select(_ => "---")).AppendLine("|");
        foreach (var row in rows)
        {
            md.Append("| ").AppendJoin(" | ", row).AppendLine(" |");
        }

        md.AppendLine();
    }
}
