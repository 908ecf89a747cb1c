using System.Globalization;
using System.Net;
using System.Runtime.Versioning;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Gateway.Tests.Deployment;

/// <summary>
/// What the image holds, without a container engine: the Dockerfile's publish command run on this tree. Its
/// output carries nothing of the embedded store, and it serves the way the chart runs it: from a read-only
/// directory, configured by the chart's environment (Deployment env and Secret), a ConfigMap file and a
/// writable temp directory only.
/// </summary>
[UnsupportedOSPlatform("windows")] // the image is Linux; the test sets Unix file modes
public sealed class PublishTests(ITestOutputHelper output)
{
    /// <summary>What the embedded store (Gateway.Admission.Embedded, on Microsoft.Garnet) brings into a publish.</summary>
    private static readonly string[] EmbeddedStorePrefixes = ["Gateway.Admission.Embedded.", "Garnet.", "Tsavorite.", "KeraLua.", "BfTreeInterop."];

    private static readonly TimeSpan PublishTimeout = TimeSpan.FromSeconds(180);

    // A room only the ConfigMap names (the shipped appsettings.json has "concert").
    private const string Room = "chart-room";

    [Fact]
    public async Task PublishCommand_LeavesOutTheEmbeddedStore_AndItsOutputServesReadOnly_WithTheChartsEnvironment()
    {
        var command = DockerfileTests.PublishCommand();
        Assert.Contains(" -o /app/publish ", command, StringComparison.Ordinal);
        Assert.EndsWith(" -p:EmbeddedStore=false", command, StringComparison.Ordinal);
        var work = Directory.CreateTempSubdirectory("wr-publish-").FullName;
        try
        {
            var published = Path.Combine(work, "publish");
            var took = Publish(command.Replace("/app/publish", published, StringComparison.Ordinal), "image");
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{command}: {Size(published):N0} bytes (published in {took.TotalSeconds:F0} s)"));
            var withStore = Path.Combine(work, "publish-with-embedded-store");
            took = Publish(command.Replace("/app/publish", withStore, StringComparison.Ordinal)[..^" -p:EmbeddedStore=false".Length], "with-store");
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"the same without -p:EmbeddedStore=false: {Size(withStore):N0} bytes (published in {took.TotalSeconds:F0} s)"));

            Assert.DoesNotContain(Files(published), FromTheEmbeddedStore);
            Assert.DoesNotContain("Garnet", await File.ReadAllTextAsync(Path.Combine(published, "Gateway.Proxy.deps.json")), StringComparison.OrdinalIgnoreCase);
            // The check above can fail: a publish with the store holds all of these.
            var stored = Files(withStore);
            foreach (var expected in (string[])["Garnet.server.dll", "Tsavorite.core.dll", "KeraLua.dll", "runtimes/linux-x64/native/liblua54.so"])
                Assert.Contains(expected, stored);
            AssertThreadPoolDefaults(published);

            await AssertServesReadOnlyAsync(published, work);
        }
        finally
        {
            MakeWritable(work);
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>
    /// The image runs the thread pool and the tiered JIT as measured in docs/BENCHMARKS.md (no hill climbing, no spin
    /// before a worker sleeps, hot code optimised at once): settings only a runtimeconfig.json carries, so a publish
    /// that dropped them would lose the gain silently.
    /// </summary>
    private static void AssertThreadPoolDefaults(string published)
    {
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(published, "Gateway.Proxy.runtimeconfig.json")))!;
        var properties = config["runtimeOptions"]!["configProperties"]!;
        Assert.Equal("true", properties["System.Threading.ThreadPool.HillClimbing.Disable"]?.ToJsonString());
        Assert.Equal("0", properties["System.Threading.ThreadPool.UnfairSemaphoreSpinLimit"]?.ToJsonString());
        Assert.Equal("0", properties["System.Runtime.TieredCompilation.CallCountingDelayMs"]?.ToJsonString());
        Assert.Equal("true", properties["System.GC.Server"]?.ToJsonString());
    }

    /// <summary>
    /// Starts the output as the pod does: a read-only copy as working directory, the chart's env (its URLs moved to
    /// free loopback ports, the ConfigMap file's path to a read-only copy here), HOME and TMPDIR on the writable
    /// temp volume; then /healthz and /readyz answer 200, a join works, and the directory is as it was.
    /// </summary>
    private static async Task AssertServesReadOnlyAsync(string published, string work)
    {
        await using var redis = await RedisServer.StartNewAsync();
        var values = Path.Combine(work, "values.json");
        await File.WriteAllTextAsync(values, new JsonObject
        {
            ["secrets"] = new JsonObject { ["redisConnectionString"] = redis.ConnectionString },
            ["config"] = new JsonObject { ["WaitingRoom"] = new JsonObject { ["Rooms"] = new JsonObject { [Room] = new JsonObject { ["Capacity"] = 10 } } } },
        }.ToJsonString());
        var chart = Chart.Default("-f", values);

        var app = Path.Combine(work, "app");
        CopyDirectory(published, app);
        var configDir = Path.Combine(work, "etc-waiting-room");
        Directory.CreateDirectory(configDir);
        var configMap = chart.Single("ConfigMap")["data"];
        foreach (var (name, content) in configMap.Entries)
            await File.WriteAllTextAsync(Path.Combine(configDir, name), content.Str);
        var tmp = Directory.CreateDirectory(Path.Combine(work, "tmp")).FullName;

        var environment = ChartEnvironment(chart, configDir);
        environment["HOME"] = tmp;
        environment["TMPDIR"] = tmp;
        MakeReadOnly(app);
        MakeReadOnly(configDir);
        var before = Snapshot(app);

        await using var gateway = await GatewayProcess.StartPublishedAsync(app, environment);
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false, UseCookies = false, ActivityHeadersPropagator = null })
        {
            BaseAddress = new Uri(environment["ASPNETCORE_URLS"]),
            Timeout = TimeSpan.FromSeconds(10),
        };
        using var healthz = await http.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, healthz.StatusCode);
        await Eventually.TrueAsync(async () =>
        {
            using var readyz = await http.GetAsync("/readyz");
            return readyz.StatusCode == HttpStatusCode.OK;
        }, TimeSpan.FromSeconds(15), "/readyz answering 200");
        // A join signs with the Secret's key, in the ConfigMap's room, on the Secret's Redis.
        var (joined, body, _) = await new QueueClient(http).JoinAsync(Room);
        Assert.True(joined == HttpStatusCode.Accepted, $"join answered {(int)joined}: {body.ToJsonString()}");
        string[] urls = [environment["ASPNETCORE_URLS"], environment["Admin__Urls"]];
        Assert.Equal(urls, gateway.Addresses.Select(a => a.ToString().TrimEnd('/')));
        // Root ignores the read-only mode bits, so check that nothing was written either.
        Assert.Equal(before, Snapshot(app));
    }

    /// <summary>The Deployment's env and the Secret's data, for this machine: URLs on free loopback ports, the ConfigMap in <paramref name="configDir"/>.</summary>
    private static Dictionary<string, string> ChartEnvironment(Rendered chart, string configDir)
    {
        var environment = chart.Gateway["env"].Items.ToDictionary(e => e["name"].Str!, e => e["value"].Str ?? "", StringComparer.Ordinal);
        foreach (var (name, value) in chart.Single("Secret")["data"].Entries)
            environment[name] = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(value.Str!));
        foreach (var name in new[] { "ASPNETCORE_URLS", "Admin__Urls" })
        {
            Assert.StartsWith("http://+:", environment[name], StringComparison.Ordinal);
            environment[name] = $"http://127.0.0.1:{RedisServer.FreePort()}";
        }
        var configFile = environment["Gateway__ConfigFile"];
        Assert.StartsWith("/etc/waiting-room/", configFile, StringComparison.Ordinal);
        environment["Gateway__ConfigFile"] = Path.Combine(configDir, Path.GetFileName(configFile));
        return environment;
    }

    /// <summary>
    /// Runs <paramref name="command"/> as written, on this tree. Its build output goes to an artifacts folder of
    /// this test's own (one per <paramref name="variant"/>, kept between runs so a rerun builds incrementally): a
    /// publish without the store must never overwrite the tree's bin/ and obj/, which this run was built into with it.
    /// </summary>
    private static TimeSpan Publish(string command, string variant)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        var words = command.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("dotnet", words[0]);
        var result = Tool.Run(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet", words[1..], PublishTimeout, new Dictionary<string, string>
        {
            ["UseArtifactsOutput"] = "true",
            ["ArtifactsPath"] = Path.Combine(AppContext.BaseDirectory, "publish-artifacts", variant),
            ["MSBUILDDISABLENODEREUSE"] = "1",
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            ["DOTNET_NOLOGO"] = "1",
        });
        Assert.True(result.ExitCode == 0, $"{command} failed ({result.ExitCode}):\n{result.Stdout}\n{result.Stderr}");
        return started.Elapsed;
    }

    private static bool FromTheEmbeddedStore(string relative) =>
        EmbeddedStorePrefixes.Any(p => Path.GetFileName(relative).StartsWith(p, StringComparison.OrdinalIgnoreCase))
        || relative.Split('/').Contains("native");

    private static List<string> Files(string dir) =>
        Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(dir, f)).Order(StringComparer.Ordinal).ToList();

    private static long Size(string dir) => Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);

    private static List<string> Snapshot(string dir) =>
        Directory.EnumerateFileSystemEntries(dir, "*", SearchOption.AllDirectories)
            .Select(f => new FileInfo(f))
            .Select(f => string.Create(CultureInfo.InvariantCulture, $"{Path.GetRelativePath(dir, f.FullName)} {(f.Attributes.HasFlag(FileAttributes.Directory) ? -1 : f.Length)} {f.LastWriteTimeUtc.Ticks}"))
            .Order(StringComparer.Ordinal)
            .ToList();

    private static void CopyDirectory(string from, string to)
    {
        foreach (var dir in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories).Prepend(from))
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
    }

    /// <summary><c>chmod -R a-w</c>.</summary>
    private static void MakeReadOnly(string dir)
    {
        const UnixFileMode write = UnixFileMode.UserWrite | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite;
        foreach (var entry in Directory.EnumerateFileSystemEntries(dir, "*", SearchOption.AllDirectories).Append(dir))
            File.SetUnixFileMode(entry, File.GetUnixFileMode(entry) & ~write);
    }

    /// <summary><c>chmod -R u+w</c>, so the work directory can be deleted.</summary>
    private static void MakeWritable(string dir)
    {
        foreach (var entry in Directory.EnumerateFileSystemEntries(dir, "*", SearchOption.AllDirectories).Append(dir))
            File.SetUnixFileMode(entry, File.GetUnixFileMode(entry) | UnixFileMode.UserWrite);
    }
}
