using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Gateway.Admission.ProofOfWork;
using Gateway.Proxy;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;

namespace Gateway.PowSolver;

/// <summary>
/// The numbers behind docs/SECURITY.md, "Proof of work", on this machine: how long the page's worker takes in
/// headless Chromium per difficulty, the gateway's CPU per issued challenge and per verification (thread CPU
/// time, so other processes on a shared machine do not inflate it), the native hash rate of one core (what a
/// farm that rewrites the solver pays), and what that costs per place.
/// </summary>
internal static partial class Measurements
{
    private const string Room = "bench";
    private const string Chromium = "/usr/bin/chromium";

    public static async Task<int> RunAsync(Options options)
    {
        var min = options.Int("min", 12);
        var max = options.Int("max", 22);
        var minRuns = options.Int("min-runs", 9);
        var maxRuns = options.Int("max-runs", 41);
        var budget = TimeSpan.FromSeconds(options.Number("budget", 60));
        var price = options.Number("vcpu-hour-usd", 0.0446);
        if (min < 1 || max > 28 || min > max || minRuns < 1 || maxRuns < minRuns)
            throw new ArgumentException("need 1 <= --min <= --max <= 28 and 1 <= --min-runs <= --max-runs");
        if (!File.Exists(Chromium))
            throw new ArgumentException($"{Chromium} is missing: apt-get install -y chromium");

        var app = GatewayApp.Build(
        [
            "--environment", "Development", "--urls", "http://127.0.0.1:0",
            $"--WaitingRoom:Rooms:{Room}:Capacity", "100", $"--WaitingRoom:Rooms:{Room}:ProofOfWork:Enabled", "true",
        ], builder => builder.Logging.ClearProviders());
        await app.StartAsync();
        try
        {
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            var challenges = app.Services.GetRequiredService<Challenges>();
            var report = new StringBuilder();
            Line(report, $"Measured {DateTimeOffset.UtcNow:yyyy-MM-dd} on {Environment.ProcessorCount} cores ({Cpu()}), load average {Load()} at the start.");
            Line(report, "");

            var gateway = GatewayCost(challenges);
            Line(report, "| gateway, per call (thread CPU, median of 7 x 20,000) | µs |");
            Line(report, "|---|---|");
            foreach (var (what, seconds) in gateway)
                Line(report, $"| {what} | {seconds * 1e6:F2} |");
            Line(report, "");

            var native = NativeRate(challenges);
            Line(report, $"Native hash rate, one core, the reference solver (.NET SHA256.HashData, {Environment.Version}): {native / 1e6:F2} M hashes per CPU-second (median of 5).");
            Line(report, "");
            Console.Error.Write(report.ToString());

            var browser = await BrowserAsync(new Uri(address), challenges, min, max, minRuns, maxRuns, budget);
            // The CPU rate over every level: solves of a few ms are too short for the 10 ms CPU clock on their own.
            var browserRate = browser.Sum(l => l.Hashes) / browser.Sum(l => l.CpuSeconds);
            Line(report, $"Chromium {browser.Count} levels: {browserRate / 1e3:F0} k hashes per CPU-second over all runs (WebCrypto, {ProofOfWorkWorkerBatch} digests in flight).");
            Line(report, "Model: the hashes a solve needs are geometric with p = 2^-bits, so the median is ln 2 x 2^bits / rate and the p95 ln 20 x 2^bits / rate.");
            Line(report, "");
            Line(report, "| bits | runs | median, measured (wall) | p95, measured (wall, n >= 20) | hashes/s (wall) | median, idle core (model) | p95, idle core (model) | phone median (3-5x) | phone p95 (3-5x) |");
            Line(report, "|---|---|---|---|---|---|---|---|---|");
            foreach (var level in browser)
            {
                var work = Math.Pow(2, level.Bits);
                var median = Math.Log(2) * work / browserRate;
                var p95 = Math.Log(20) * work / browserRate;
                Line(report, $"| {level.Bits} | {level.Runs.Count} | {Seconds(Percentile(level.Runs, 0.5))} | {(level.Runs.Count >= 20 ? Seconds(Percentile(level.Runs, 0.95)) : "-")} | " +
                    $"{level.Rate / 1e3:F0} k | {Seconds(median)} | {Seconds(p95)} | {Seconds(median * 3)} - {Seconds(median * 5)} | {Seconds(p95 * 3)} - {Seconds(p95 * 5)} |");
            }
            Line(report, "");

            Line(report, $"A farm pays per place (expected 2^bits hashes), at ${price} per vCPU-hour; the gateway's side is one verification ({gateway[1].Seconds * 1e6:F1} µs).");
            Line(report, "");
            Line(report, "| bits | native CPU-s per place | $ per 1,000 places (native) | headless-browser CPU-s per place | $ per 1,000 places (browser) | work / gateway's verification |");
            Line(report, "|---|---|---|---|---|---|");
            for (var bits = min; bits <= max; bits++)
            {
                var work = Math.Pow(2, bits);
                var nativeSeconds = work / native;
                var browserSeconds = work / browserRate;
                Line(report, $"| {bits} | {nativeSeconds:G3} | {Dollars(nativeSeconds * 1000 * price / 3600)} | {browserSeconds:G3} | {Dollars(browserSeconds * 1000 * price / 3600)} | {nativeSeconds / gateway[1].Seconds:N0}x |");
            }

            Console.WriteLine(report.ToString());
            if (options.Optional("out") is { } path)
                await File.WriteAllTextAsync(path, report.ToString());
            return 0;
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    /// <summary>Issuing, verifying a solution, refusing a forged MAC: thread CPU per call.</summary>
    private static List<(string What, double Seconds)> GatewayCost(Challenges challenges)
    {
        var issued = challenges.Issue(Room, 12, TimeSpan.FromMinutes(2));
        var (nonce, _) = ProofOfWorkSolver.Solve(issued.Text, 12);
        var forged = issued.Text[..^1] + (issued.Text[^1] == 'A' ? 'B' : 'A');
        if (challenges.Verify(Room, issued.Text, nonce, 1).Verdict != ChallengeVerdict.Valid)
            throw new InvalidOperationException("the reference solver's solution was refused by the gateway");
        return
        [
            ("issue a challenge (GET /challenge, without HTTP)", CpuPerCall(() => challenges.Issue(Room, 15, TimeSpan.FromMinutes(2)))),
            ("verify a solution (shape, MAC, room, expiry, SHA-256)", CpuPerCall(() => challenges.Verify(Room, issued.Text, nonce, 1))),
            ("refuse a forged challenge (MAC)", CpuPerCall(() => challenges.Verify(Room, forged, nonce, 1))),
        ];
    }

    private static double CpuPerCall(Action call)
    {
        const int Calls = 20_000;
        for (var i = 0; i < Calls; i++)
            call();
        var samples = new List<double>();
        for (var repeat = 0; repeat < 7; repeat++)
        {
            var start = ThreadCpuSeconds();
            for (var i = 0; i < Calls; i++)
                call();
            samples.Add((ThreadCpuSeconds() - start) / Calls);
        }
        return Percentile(samples, 0.5);
    }

    private static double NativeRate(Challenges challenges)
    {
        var rates = new List<double>();
        for (var repeat = 0; repeat < 5; repeat++)
        {
            long hashes = 0;
            var start = ThreadCpuSeconds();
            for (var i = 0; i < 8; i++)
                hashes += ProofOfWorkSolver.Solve(challenges.Issue(Room, 18, TimeSpan.FromMinutes(2)).Text, 18).Hashes;
            rates.Add(hashes / (ThreadCpuSeconds() - start));
        }
        return Percentile(rates, 0.5);
    }

    private static async Task<List<Level>> BrowserAsync(Uri gateway, Challenges challenges, int min, int max, int minRuns, int maxRuns, TimeSpan budget)
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-gpu", "--no-first-run"],
        });
        var page = await browser.NewPageAsync();
        // Any page of the gateway's origin will do: the worker is the page's own (/waiting-room/pow-worker.js).
        await page.GotoAsync(new Uri(gateway, "/healthz").ToString());
        var levels = new List<Level>();
        for (var bits = min; bits <= max; bits++)
        {
            var runs = new List<double>();
            long hashes = 0;
            double cpu = 0;
            var started = Stopwatch.GetTimestamp();
            while (runs.Count < maxRuns && (runs.Count < minRuns || Stopwatch.GetElapsedTime(started) < budget))
            {
                var challenge = challenges.Issue(Room, bits, TimeSpan.FromMinutes(30)).Text;
                var cpuBefore = BrowserCpuSeconds();
                var answer = await page.EvaluateAsync<System.Text.Json.JsonElement>("""
                    ([challenge, difficulty]) => new Promise((resolve, reject) => {
                      const worker = new Worker('/waiting-room/pow-worker.js');
                      worker.onmessage = (event) => {
                        if (event.data.type === 'progress') return;
                        worker.terminate();
                        event.data.type === 'solved' ? resolve(event.data) : reject(new Error('the worker refused the challenge'));
                      };
                      worker.onerror = (event) => reject(new Error(event.message));
                      worker.postMessage({ challenge, difficulty });
                    })
                    """, new object[] { challenge, bits });
                var solved = new Solved(answer.GetProperty("nonce").GetString()!, answer.GetProperty("hashes").GetInt64(), answer.GetProperty("ms").GetDouble(), answer.GetProperty("webCrypto").GetBoolean());
                if (!solved.WebCrypto || !ProofOfWorkSolver.IsSolution(challenge, solved.Nonce, bits))
                    throw new InvalidOperationException($"the worker's answer {solved.Nonce} (WebCrypto: {solved.WebCrypto}) does not solve {challenge} at {bits} bits");
                cpu += BrowserCpuSeconds() - cpuBefore;
                runs.Add(solved.Ms / 1000);
                hashes += solved.Hashes;
            }
            var level = new Level(bits, runs, hashes / runs.Sum(), hashes, cpu);
            levels.Add(level);
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{bits} bits: {runs.Count} runs, median {Percentile(runs, 0.5):F3} s, {level.Rate / 1e3:F0} k hashes/s, {hashes / cpu / 1e3:F0} k per CPU-second"));
        }
        return levels;
    }

    /// <param name="Rate">Hashes per second of wall-clock time, as the person waits (on this shared machine, under its load).</param>
    /// <param name="CpuSeconds">CPU time all of Chromium's processes used meanwhile: the worker's rate on an idle core.</param>
    private sealed record Level(int Bits, List<double> Runs, double Rate, long Hashes, double CpuSeconds);

    private sealed record Solved(string Nonce, long Hashes, double Ms, bool WebCrypto);

    private static double Percentile(List<double> values, double share)
    {
        var sorted = values.Order().ToArray();
        return sorted[Math.Clamp((int)Math.Ceiling(share * sorted.Length) - 1, 0, sorted.Length - 1)];
    }

    private static string Seconds(double seconds) => seconds < 1
        ? string.Create(CultureInfo.InvariantCulture, $"{seconds * 1000:F0} ms")
        : string.Create(CultureInfo.InvariantCulture, $"{seconds:F1} s");

    private static string Dollars(double usd) => string.Create(CultureInfo.InvariantCulture, $"${usd:G2}");

    private static void Line(StringBuilder report, FormattableString text) => report.Append(text.ToString(CultureInfo.InvariantCulture)).Append('\n');

    private static void Line(StringBuilder report, string text) => report.Append(text).Append('\n');

    private static string Cpu() =>
        File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU";

    private const int ProofOfWorkWorkerBatch = Gateway.Admission.Pages.ProofOfWorkWorker.Batch;

    /// <summary>User and system CPU time of every process below this one (the Playwright driver and Chromium's processes).</summary>
    private static double BrowserCpuSeconds()
    {
        var parents = new Dictionary<int, (int Parent, long Ticks)>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
                continue;
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                // After "pid (comm) ": state ppid ... utime (14th field) stime (15th).
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                parents[pid] = (int.Parse(fields[1], CultureInfo.InvariantCulture),
                    long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture));
            }
            catch (IOException)
            {
            }
        }
        var self = Environment.ProcessId;
        long ticks = 0;
        foreach (var (pid, (_, used)) in parents)
        {
            for (var p = parents[pid].Parent; p > 1 && parents.ContainsKey(p); p = parents[p].Parent)
            {
                if (p == self)
                {
                    ticks += used;
                    break;
                }
            }
        }
        return ticks / 100.0; // USER_HZ
    }

    private static string Load() => File.ReadAllText("/proc/loadavg").Split(' ')[0];

    private static double ThreadCpuSeconds()
    {
        // CLOCK_THREAD_CPUTIME_ID: CPU time of this thread only (the loops above never leave it).
        if (ClockGetTime(3, out var now) != 0)
            throw new InvalidOperationException("clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
        return now.Seconds + (now.Nanoseconds / 1e9);
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out TimeSpec time);
}
