using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.PowSolver;

// PowSolver solve --url http://127.0.0.1:5000 --event concert [--join]
//   fetches a challenge, solves it and prints the join body (or joins with it and prints the answer).
// PowSolver measure [--min 12] [--max 22] [--min-runs 9] [--max-runs 41] [--budget 60] [--vcpu-hour-usd 0.0446] [--out file.md]
//   the measurements of docs/SECURITY.md: solve times in headless Chromium, the gateway's CPU per verification,
//   this machine's native hash rate, and what a farm pays per place.
var command = args.Length > 0 ? args[0] : "";
var options = Options.Parse(args.Skip(1).ToArray());
try
{
    return command switch
    {
        "solve" => await SolveAsync(options),
        "measure" => await Measurements.RunAsync(options),
        _ => Usage(),
    };
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine(ex.Message);
    return Usage();
}

static int Usage()
{
    Console.Error.WriteLine("""
        usage: PowSolver solve --url http://127.0.0.1:5000 --event <event id> [--join]
               PowSolver measure [--min 12] [--max 22] [--min-runs 9] [--max-runs 41] [--budget <s per level>] [--vcpu-hour-usd 0.0446] [--out <file.md>]
        """);
    return 2;
}

static async Task<int> SolveAsync(Options options)
{
    using var http = new HttpClient { BaseAddress = new Uri(options.Text("url", "http://127.0.0.1:5000")) };
    var eventId = options.Text("event", "concert");
    using var challenge = JsonDocument.Parse(await http.GetStringAsync("/api/v1/queue/challenge?event_id=" + Uri.EscapeDataString(eventId)));
    var text = challenge.RootElement.GetProperty("challenge").GetString()!;
    var difficulty = challenge.RootElement.GetProperty("difficulty").GetInt32();
    var started = System.Diagnostics.Stopwatch.GetTimestamp();
    var (nonce, hashes) = ProofOfWorkSolver.Solve(text, difficulty);
    Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"difficulty {difficulty}: {hashes} hashes in {System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds:F0} ms"));
    var body = new Dictionary<string, object> { ["event_id"] = eventId, ["pow"] = new Dictionary<string, string> { ["challenge"] = text, ["nonce"] = nonce } };
    if (!options.Flag("join"))
    {
        Console.WriteLine(JsonSerializer.Serialize(body));
        return 0;
    }
    using var response = await http.PostAsJsonAsync("/api/v1/queue/join", body);
    Console.WriteLine($"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    return response.IsSuccessStatusCode ? 0 : 1;
}

/// <summary>Command-line options: <c>--name value</c> pairs and bare <c>--flag</c>s.</summary>
internal sealed class Options
{
    private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);

    public static Options Parse(string[] args)
    {
        var options = new Options();
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
                throw new ArgumentException($"unexpected argument '{args[i]}'");
            var hasValue = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal);
            options._values[args[i][2..]] = hasValue ? args[++i] : null;
        }
        return options;
    }

    public string Text(string name, string fallback) => _values.TryGetValue(name, out var v) && v is not null ? v : fallback;

    public int Int(string name, int fallback) => _values.TryGetValue(name, out var v) && v is not null
        ? int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : throw new ArgumentException($"--{name} must be a whole number")
        : fallback;

    public double Number(string name, double fallback) => _values.TryGetValue(name, out var v) && v is not null
        ? double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) ? n : throw new ArgumentException($"--{name} must be a number")
        : fallback;

    public bool Flag(string name) => _values.ContainsKey(name);

    public string? Optional(string name) => _values.GetValueOrDefault(name);
}
