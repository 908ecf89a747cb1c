using SoakReport;

// Reads a run directory of loadtest/soak.sh (meta.env, events.csv, samples.csv, keys.csv, nginx-unusual.log and the
// load tool's report in load/) and writes summary.md and soak.png next to them; prints the summary.
if (args.Length != 1 || !Directory.Exists(args[0]))
{
    Console.Error.WriteLine("usage: SoakReport <loadtest/results/soak-... directory>");
    return 2;
}

var run = SoakRun.Read(args[0]);
Chart.Write(run, Path.Combine(args[0], "soak.png"));
var summary = Summary.Render(run, "soak.png");
File.WriteAllText(Path.Combine(args[0], "summary.md"), summary);
Console.WriteLine(summary);
return 0;
