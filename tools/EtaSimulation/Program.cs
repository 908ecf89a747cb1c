using Gateway.EtaSimulation.Engine;
using Gateway.EtaSimulation.Reporting;
using Gateway.EtaSimulation.Scenarios;

// dotnet run -c Release --project tools/EtaSimulation -- [--size full|quick] [--scenario name] [--seed n] [--redis host:port] [--out file.md]
var size = "full";
string? only = null;
string? redis = null;
string? output = null;
var seed = 1;
for (var i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
    switch (args[i])
    {
        case "--size": size = Next(); break;
        case "--scenario": only = Next(); break;
        case "--seed": seed = int.Parse(Next(), System.Globalization.CultureInfo.InvariantCulture); break;
        case "--redis": redis = Next(); break;
        case "--out": output = Next(); break;
        default:
            Console.Error.WriteLine($"Unknown argument '{args[i]}'. Usage: [--size full|quick] [--scenario name] [--seed n] [--redis host:port] [--out file.md]");
            return 2;
    }
}

var scenarios = ScenarioCatalog.For(size).Where(s => only is null || s.Name == only).ToArray();
if (scenarios.Length == 0)
{
    Console.Error.WriteLine($"No scenario named '{only}'. Known: {string.Join(", ", ScenarioCatalog.Full.Select(s => s.Name))}.");
    return 2;
}

await using var store = await SimulationStore.StartAsync(redis);
var results = new List<ScenarioResult>();
foreach (var scenario in scenarios)
{
    var result = await Simulation.RunAsync(scenario, store, seed);
    results.Add(result);
    Console.Error.WriteLine(FormattableString.Invariant(
        $"{scenario.Name}: at join {result.JoinAccuracy.Mean:P1} (n={result.JoinAccuracy.Count}), later {result.LaterAccuracy.Mean:P1} (n={result.LaterAccuracy.Count}), {result.WallTime.TotalSeconds:0.0} s"));
}

var command = "dotnet run -c Release --project tools/EtaSimulation -- " + string.Join(' ', args);
var report = MarkdownReport.Render(results, store.Description, command.TrimEnd());
Console.WriteLine(report);
if (output is not null)
    await File.WriteAllTextAsync(output, report);
return 0;
