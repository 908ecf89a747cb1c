using System.Globalization;
using System.Text.RegularExpressions;

namespace SoakReport;

/// <summary>Something the soak did to the system, in Unix seconds: the load, a restart, the wait until the room was empty.</summary>
internal sealed record SoakEvent(string Name, double Start, double End, string Detail);

/// <summary>
/// A restart window: from a second before the restart began until <c>grace</c> seconds after the system was
/// whole again (a request stuck in the restart completes, as an error, up to the tool's timeout later).
/// </summary>
internal sealed record RestartWindow(string Label, double From, double To, SoakEvent Event)
{
    public bool Contains(double unix) => unix >= From && unix <= To;

    public bool Overlaps(double from, double to) => from <= To && to >= From;
}

/// <summary>One row of samples.csv: the script's sampler, every few seconds.</summary>
internal sealed record Sample(double Unix, IReadOnlyDictionary<string, string> Cells)
{
    public double? this[string column] =>
        Cells.TryGetValue(column, out var text) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value : null;

    public string? Text(string column) => Cells.TryGetValue(column, out var text) && text.Length > 0 ? text : null;
}

/// <summary>One second of the load tool's timeline.csv; <see cref="Unix"/> is the end of the second.</summary>
internal sealed record Second(double Unix, long Completed, long Errors, long Late, double P99Ms);

/// <summary>One row of the load tool's minutes.csv.</summary>
internal sealed record MinuteRow(int Window, double FromUnix, double Seconds, string Step, string Status, long Count, long Errors, double? P50Ms, double? P99Ms, double? MaxMs);

/// <summary>A Redis key left when the room was empty.</summary>
internal sealed record KeyRow(string Key, string Type, long PttlMs);

/// <summary>A request nginx did not answer 2xx from the first gateway it tried (nginx-unusual.log).</summary>
internal sealed record NginxLine(double Unix, int Status, string Upstream, string UpstreamStatus, string Method, string Uri);

/// <summary>Everything loadtest/soak.sh left in its run directory.</summary>
internal sealed partial class SoakRun
{
    private SoakRun(string directory) => Directory = directory;

    public string Directory { get; }

    public required IReadOnlyDictionary<string, string> Meta { get; init; }

    public required IReadOnlyList<SoakEvent> Events { get; init; }

    public required IReadOnlyList<Sample> Samples { get; init; }

    public required IReadOnlyList<Second> Seconds { get; init; }

    public required IReadOnlyList<MinuteRow> Minutes { get; init; }

    public required IReadOnlyList<KeyRow> Keys { get; init; }

    public required IReadOnlyList<NginxLine> Nginx { get; init; }

    /// <summary>The last row of the tool's pace.csv: the users' cumulative counts.</summary>
    public required IReadOnlyDictionary<string, string> PaceTotals { get; init; }

    /// <summary>The tool's closing lines: totals, the schedule verdict, its own cost.</summary>
    public required IReadOnlyList<string> ToolSummary { get; init; }

    public required IReadOnlyList<RestartWindow> Restarts { get; init; }

    public SoakEvent Load => Events.First(e => e.Name == "load");

    public SoakEvent? Drain => Events.FirstOrDefault(e => e.Name == "drain");

    public double Grace => double.Parse(Meta.GetValueOrDefault("grace", "12"), CultureInfo.InvariantCulture);

    public RestartWindow? WindowOf(double unix) => Restarts.FirstOrDefault(w => w.Contains(unix));

    public string MetaOr(string key, string fallback = "?") => Meta.TryGetValue(key, out var value) ? value : fallback;

    public static SoakRun Read(string directory)
    {
        var meta = File.ReadAllLines(Path.Combine(directory, "meta.env"))
            .Select(line => line.Split('=', 2))
            .Where(parts => parts.Length == 2)
            .GroupBy(parts => parts[0])
            .ToDictionary(group => group.Key, group => group.Last()[1]);
        var events = Csv(Path.Combine(directory, "events.csv"))
            .Select(row => new SoakEvent(row["name"], Number(row["start_unix"]), Number(row["end_unix"]), row["detail"]))
            .ToList();
        var grace = double.Parse(meta.GetValueOrDefault("grace", "12"), CultureInfo.InvariantCulture);
        var restarts = events
            .Where(e => e.Name.EndsWith("-restart", StringComparison.Ordinal))
            .Select(e => new RestartWindow(e.Name == "redis-restart" ? "redis restart" : "gateway 2 restart", e.Start - 1, e.End + grace, e))
            .ToList();
        var load = Path.Combine(directory, "load");
        return new SoakRun(directory)
        {
            Meta = meta,
            Events = events,
            Restarts = restarts,
            Samples = Csv(Path.Combine(directory, "samples.csv"))
                .Select(row => new Sample(Number(row["unix_s"]), row))
                .ToList(),
            Seconds = Csv(Path.Combine(load, "timeline.csv"))
                .Select(row => new Second(Number(row["unix_s"]), (long)Number(row["completed"]), (long)Number(row["errors"]), (long)Number(row["late"]), Number(row["p99_ms"])))
                .ToList(),
            Minutes = Csv(Path.Combine(load, "minutes.csv"))
                .Select(row => new MinuteRow(
                    (int)Number(row["window"]),
                    Number(row["from_unix_s"]),
                    Number(row["to_s"]) - Number(row["from_s"]),
                    row["step"],
                    row["status"],
                    (long)Number(row["count"]),
                    (long)Number(row["errors"]),
                    Optional(row["p50_ms"]),
                    Optional(row["p99_ms"]),
                    Optional(row["max_ms"])))
                .ToList(),
            Keys = File.Exists(Path.Combine(directory, "keys.csv"))
                ? Csv(Path.Combine(directory, "keys.csv")).Select(row => new KeyRow(row["key"], row["type"], (long)Number(row["pttl_ms"]))).ToList()
                : [],
            Nginx = File.Exists(Path.Combine(directory, "nginx-unusual.log"))
                ? File.ReadLines(Path.Combine(directory, "nginx-unusual.log")).Select(ParseNginx).OfType<NginxLine>().ToList()
                : [],
            PaceTotals = Csv(Path.Combine(load, "pace.csv")).LastOrDefault() ?? new Dictionary<string, string>(),
            ToolSummary = File.Exists(Path.Combine(directory, "logs", "loadtest.log"))
                ? File.ReadLines(Path.Combine(directory, "logs", "loadtest.log"))
                    .Where(line => line.Contains(" requests, ", StringComparison.Ordinal) && line.Contains("errors", StringComparison.Ordinal)
                        || line.StartsWith("schedule kept", StringComparison.Ordinal) || line.StartsWith("SCHEDULE NOT KEPT", StringComparison.Ordinal)
                        || line.StartsWith("tool: ", StringComparison.Ordinal))
                    .Where(line => !line.StartsWith('['))
                    .ToList()
                : [],
        };
    }

    /// <summary>The gateway an nginx upstream address was ("127.0.0.1:5001" -> "gw1"), from the ports in meta.env.</summary>
    public string UpstreamName(string address)
    {
        var port = address[(address.LastIndexOf(':') + 1)..];
        return port == MetaOr("gw1_port") ? "gw1" : port == MetaOr("gw2_port") ? "gw2" : address;
    }

    private static NginxLine? ParseNginx(string line)
    {
        var match = NginxFormat().Match(line);
        return match.Success
            ? new NginxLine(Number(match.Groups[1].Value), int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture), match.Groups[3].Value, match.Groups[4].Value, match.Groups[5].Value, match.Groups[6].Value)
            : null;
    }

    // log_format soak '$msec $status "$upstream_addr" "$upstream_status" $request_method $uri $request_time' (soak.sh)
    [GeneratedRegex("""^(\S+) (\d+) "([^"]*)" "([^"]*)" (\S+) (\S+)""")]
    private static partial Regex NginxFormat();

    private static double Number(string text) => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);

    private static double? Optional(string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value : null;

    // The files are written by soak.sh and the load tool: one header row, no quoted commas.
    private static List<Dictionary<string, string>> Csv(string path)
    {
        var lines = File.ReadAllLines(path).Where(line => line.Length > 0).ToList();
        if (lines.Count == 0)
        {
            return [];
        }

        var header = lines[0].Split(',');
        return lines.Skip(1)
            .Select(line => line.Split(',', header.Length))
            .Select(cells => header.Select((name, i) => (name, value: i < cells.Length ? cells[i] : string.Empty)).ToDictionary(pair => pair.name, pair => pair.value))
            .ToList();
    }
}
