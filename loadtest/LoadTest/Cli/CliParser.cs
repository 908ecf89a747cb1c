using System.Globalization;
using LoadTest.Engine;
using static System.FormattableString;

namespace LoadTest.Cli;

/// <summary>
/// Parses <c>--name value</c> / <c>--name=value</c> arguments. Anything unknown, repeated, out of bounds or
/// not applying to the chosen scenario is refused with a message naming the option: a mistyped load
/// test should not run at all rather than run something else.
/// </summary>
internal static class CliParser
{
    private static readonly HashSet<string> Flags = ["find-max", "help"];

    private static readonly string[] Common = ["scenario", "out", "timeout-ms", "max-connections", "late-ms", "help"];

    private static readonly string[] RateModel =
        ["duration", "rate", "ramp-to", "concurrency", "max-in-flight", "warmup", "find-max", "start-rate", "step", "step-seconds", "max-rate", "p99-ms"];

    private static readonly string[] FindMaxOnly = ["start-rate", "step", "step-seconds", "max-rate", "p99-ms"];

    private static readonly string[] SingleRunOnly = ["rate", "ramp-to", "concurrency", "duration"];

    private static readonly Dictionary<string, (ScenarioKind Kind, string[] Options)> Scenarios = new(StringComparer.Ordinal)
    {
        ["http"] = (ScenarioKind.Http, [.. RateModel, "url"]),
        ["admitted"] = (ScenarioKind.Admitted, [.. RateModel, "target", "event", "user-prefix", "path", "admit-timeout"]),
        ["status-storm"] = (ScenarioKind.StatusStorm, [.. RateModel, "target", "event", "user-prefix", "prefill", "prefill-concurrency", "sample"]),
        ["flash-crowd"] = (ScenarioKind.FlashCrowd,
            ["target", "event", "user-prefix", "users", "join-seconds", "duration", "backend-stats", "bucket-capacity", "bucket-refill"]),
        ["backend-pace"] = (ScenarioKind.BackendPace,
            ["target", "event", "user-prefix", "arrivals", "duration", "backend-stats", "capacity-schedule", "think-ms", "transient", "label"]),
    };

    /// <summary>True when the arguments ask for help (or are empty).</summary>
    public static bool WantsHelp(IReadOnlyList<string> args) =>
        args.Count == 0 || args.Any(arg => arg is "--help" or "-h" or "-?");

    /// <exception cref="ArgumentException">The command line is invalid; the message says why.</exception>
    public static CliOptions Parse(IReadOnlyList<string> args)
    {
        var values = Tokenize(args);
        var reader = new Reader(values);
        var scenarioName = reader.Text("scenario", null) ?? throw new ArgumentException("--scenario is required (http, admitted, status-storm, flash-crowd, backend-pace)");
        if (!Scenarios.TryGetValue(scenarioName, out var scenario))
        {
            throw new ArgumentException($"unknown --scenario '{scenarioName}' (http, admitted, status-storm, flash-crowd, backend-pace)");
        }

        foreach (var name in values.Keys.Where(name => !Common.Contains(name) && !scenario.Options.Contains(name)))
        {
            throw new ArgumentException($"--{name} does not apply to --scenario {scenarioName}");
        }

        var options = new CliOptions
        {
            Scenario = scenario.Kind,
            ScenarioName = scenarioName,
            OutputDirectory = reader.Text("out", null)
                ?? Path.Combine("loadtest", "results", Invariant($"{scenarioName}-{DateTime.UtcNow:yyyyMMdd-HHmmss}")),
            RequestTimeout = TimeSpan.FromMilliseconds(reader.Number("timeout-ms", 10_000, 1, LoadLimits.MaxRequestTimeout.TotalMilliseconds)),
            MaxConnections = reader.Integer("max-connections", 1000, 1, LoadLimits.MaxConcurrency),
            LateThreshold = TimeSpan.FromMilliseconds(reader.Number("late-ms", 10, 0.1, 60_000)),
            MaxInFlight = reader.Integer("max-in-flight", 10_000, 1, LoadLimits.MaxInFlight),
        };

        return scenario.Kind switch
        {
            ScenarioKind.Http => WithRateModel(options, reader) with { Url = reader.Url("url") },
            ScenarioKind.Admitted => WithRateModel(options, reader) with
            {
                Target = reader.Url("target"),
                EventId = reader.Text("event", "concert")!,
                UserPrefix = reader.Text("user-prefix", "u-")!,
                GatedPath = reader.Text("path", null) ?? $"/api/inventory/events/{reader.Text("event", "concert")}/seats",
                AdmitTimeout = TimeSpan.FromSeconds(reader.Number("admit-timeout", 120, 1, LoadLimits.MaxDuration.TotalSeconds)),
            },
            ScenarioKind.StatusStorm => WithRateModel(options, reader) with
            {
                Target = reader.Url("target"),
                EventId = reader.Text("event", "concert")!,
                UserPrefix = reader.Text("user-prefix", "u-")!,
                Prefill = reader.Integer("prefill", 0, 0, LoadLimits.MaxInFlight),
                PrefillConcurrency = reader.Integer("prefill-concurrency", 256, 1, LoadLimits.MaxConcurrency),
                Sample = reader.Integer("sample", 1000, 1, LoadLimits.MaxInFlight),
            },
            ScenarioKind.FlashCrowd => WithFlashCrowd(options, reader),
            _ => WithBackendPace(options, reader),
        };
    }

    private static CliOptions WithRateModel(CliOptions options, Reader reader)
    {
        options = options with { WarmUp = TimeSpan.FromSeconds(reader.Number("warmup", 2, 0, 60)) };
        if (reader.Flag("find-max"))
        {
            foreach (var name in SingleRunOnly.Where(reader.Has))
            {
                throw new ArgumentException($"--{name} does not combine with --find-max (steps use --start-rate, --step, --step-seconds, --max-rate)");
            }

            var search = new RateSearchOptions
            {
                StartRate = reader.Number("start-rate", 100, 0.001, LoadLimits.MaxRate),
                Step = reader.Number("step", 100, 0.001, LoadLimits.MaxRate),
                MaxRate = reader.Number("max-rate", 50_000, 0.001, LoadLimits.MaxRate),
                StepDuration = TimeSpan.FromSeconds(reader.Number("step-seconds", 10, 1, LoadLimits.MaxDuration.TotalSeconds)),
                P99Limit = TimeSpan.FromMilliseconds(reader.Number("p99-ms", 50, 0.01, LoadLimits.MaxRequestTimeout.TotalMilliseconds)),
            };
            search.Validate();
            return options with { Search = search };
        }

        foreach (var name in FindMaxOnly.Where(reader.Has))
        {
            throw new ArgumentException($"--{name} only applies with --find-max");
        }

        var duration = TimeSpan.FromSeconds(reader.Number("duration", 30, 0.1, LoadLimits.MaxDuration.TotalSeconds));
        LoadSimulation simulation;
        if (reader.Has("concurrency"))
        {
            if (reader.Has("rate") || reader.Has("ramp-to"))
            {
                throw new ArgumentException("--concurrency (closed model) does not combine with --rate or --ramp-to (open model)");
            }

            simulation = new ClosedModel(reader.Integer("concurrency", 1, 1, LoadLimits.MaxConcurrency), duration);
        }
        else
        {
            var rate = reader.Number("rate", 100, 0, LoadLimits.MaxRate);
            simulation = reader.Has("ramp-to")
                ? new RampingRate(rate, reader.Number("ramp-to", 0, 0, LoadLimits.MaxRate), duration)
                : new ConstantRate(rate, duration);
        }

        simulation.Validate();
        return options with { Simulation = simulation };
    }

    private static CliOptions WithFlashCrowd(CliOptions options, Reader reader)
    {
        var users = reader.Integer("users", 1000, 1, LoadLimits.MaxInFlight);
        var joinPeriod = TimeSpan.FromSeconds(reader.Number("join-seconds", 10, 0.1, LoadLimits.MaxDuration.TotalSeconds));
        var duration = TimeSpan.FromSeconds(reader.Number(
            "duration", Math.Min(joinPeriod.TotalSeconds + 120, LoadLimits.MaxDuration.TotalSeconds), 0.1, LoadLimits.MaxDuration.TotalSeconds));
        if (joinPeriod > duration)
        {
            throw new ArgumentException("--join-seconds must not exceed --duration");
        }

        return options with
        {
            Target = reader.Url("target"),
            EventId = reader.Text("event", "concert")!,
            UserPrefix = reader.Text("user-prefix", "u-")!,
            Users = users,
            JoinPeriod = joinPeriod,
            CrowdDuration = duration,
            // Every user is one long session (iteration): the cap must hold them all.
            MaxInFlight = users,
            BackendStats = reader.Text("backend-stats", null) is { } list
                ? list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(url => Reader.ParseUrl("backend-stats", url)).ToList()
                : [],
            BucketCapacity = reader.Number("bucket-capacity", 100, 1, 1_000_000),
            BucketRefill = reader.Number("bucket-refill", 10, 0.001, LoadLimits.MaxRate),
        };
    }

    private static CliOptions WithBackendPace(CliOptions options, Reader reader)
    {
        var duration = TimeSpan.FromSeconds(reader.Number("duration", 150, 1, LoadLimits.MaxDuration.TotalSeconds));
        var arrivals = reader.Number("arrivals", 100, 0.1, LoadLimits.MaxRate);
        var schedule = ParseSchedule(reader.Text("capacity-schedule", null) ?? throw new ArgumentException("--capacity-schedule is required, e.g. 0:200,60:100,100:200"));
        var backends = reader.Text("backend-stats", null) is { } list
            ? list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(url => Reader.ParseUrl("backend-stats", url)).ToList()
            : throw new ArgumentException("--backend-stats is required: the sample backends whose capacity the schedule sets");
        var pace = new Scenarios.BackendPaceOptions
        {
            Gateway = reader.Url("target"),
            EventId = reader.Text("event", "concert")!,
            UserPrefix = reader.Text("user-prefix", "u-")!,
            ArrivalsPerSecond = arrivals,
            Duration = duration,
            Backends = backends,
            CapacitySchedule = schedule,
            ThinkTime = TimeSpan.FromMilliseconds(reader.Number("think-ms", 200, 0, 60_000)),
            Transient = TimeSpan.FromSeconds(reader.Number("transient", 10, 0, LoadLimits.MaxDuration.TotalSeconds)),
        };
        pace.Validate();
        return options with
        {
            Target = pace.Gateway,
            EventId = pace.EventId,
            UserPrefix = pace.UserPrefix,
            ArrivalsPerSecond = arrivals,
            CrowdDuration = duration,
            BackendStats = backends,
            CapacitySchedule = schedule,
            ThinkTime = pace.ThinkTime,
            Transient = pace.Transient,
            Label = reader.Text("label", null),
            // Every user is one long session (iteration): the cap must hold all who can be in flight.
            MaxInFlight = (int)Math.Min(LoadLimits.MaxInFlight, Math.Ceiling(arrivals * duration.TotalSeconds) + 1),
        };
    }

    /// <summary>"0:200,60:100,100:200": from 0 s 200/s, from 60 s 100/s, from 100 s 200/s.</summary>
    private static List<Scenarios.CapacityStep> ParseSchedule(string text)
    {
        var steps = new List<Scenarios.CapacityStep>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var fields = part.Split(':');
            if (fields.Length != 2
                || !double.TryParse(fields[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var at)
                || !double.TryParse(fields[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var perSecond))
            {
                throw new ArgumentException($"--capacity-schedule entry '{part}' is not seconds:capacity, e.g. 0:200,60:100,100:200");
            }

            steps.Add(new Scenarios.CapacityStep(at, perSecond));
        }

        return steps;
    }

    private static Dictionary<string, string> Tokenize(IReadOnlyList<string> args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg.Length == 2)
            {
                throw new ArgumentException($"unexpected argument '{arg}' (options look like --name value)");
            }

            var separator = arg.IndexOf('=', StringComparison.Ordinal);
            var name = separator < 0 ? arg[2..] : arg[2..separator];
            string value;
            if (Flags.Contains(name))
            {
                value = separator < 0 ? "true" : throw new ArgumentException($"--{name} is a flag and takes no value");
            }
            else if (separator >= 0)
            {
                value = arg[(separator + 1)..];
            }
            else if (i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                value = args[++i];
            }
            else
            {
                throw new ArgumentException($"--{name} needs a value");
            }

            if (!values.TryAdd(name, value))
            {
                throw new ArgumentException($"--{name} is given twice");
            }
        }

        return values;
    }

    /// <summary>Typed, bounded access to the raw values.</summary>
    private sealed class Reader(Dictionary<string, string> values)
    {
        public bool Has(string name) => values.ContainsKey(name);

        public bool Flag(string name) => values.ContainsKey(name);

        public string? Text(string name, string? fallback) =>
            values.TryGetValue(name, out var value) ? (value.Length > 0 ? value : throw new ArgumentException($"--{name} must not be empty")) : fallback;

        public double Number(string name, double fallback, double min, double max)
        {
            if (!values.TryGetValue(name, out var text))
            {
                return fallback;
            }

            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || double.IsNaN(value) || value < min || value > max)
            {
                throw new ArgumentException(Invariant($"--{name} must be a number in [{min}, {max}], got '{text}'"));
            }

            return value;
        }

        public int Integer(string name, int fallback, int min, int max)
        {
            var value = Number(name, fallback, min, max);
            return value == Math.Floor(value) ? (int)value : throw new ArgumentException($"--{name} must be a whole number");
        }

        public Uri Url(string name) =>
            ParseUrl(name, Text(name, null) ?? throw new ArgumentException($"--{name} is required for this scenario"));

        public static Uri ParseUrl(string name, string text) =>
            Uri.TryCreate(text, UriKind.Absolute, out var url) ? url : throw new ArgumentException($"--{name} '{text}' is not an absolute URL");
    }
}
