using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// The gateway in its own process, as operators run it: <c>dotnet Gateway.Proxy.dll</c> in Production, every
/// console line collected (and, when read, required to be a JSON object: Production's console format). It stops
/// the way Kubernetes stops a pod: SIGTERM, then the exit code.
/// </summary>
internal sealed class GatewayProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(45);

    private readonly Process _process;
    private readonly string? _ownedDir;
    private readonly ConcurrentQueue<string> _lines = new();

    private GatewayProcess(Process process, string? ownedDir, string configPath)
    {
        _process = process;
        _ownedDir = ownedDir;
        ConfigPath = configPath;
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
                _lines.Enqueue(e.Data);
        };
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
                _lines.Enqueue(e.Data);
        };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>The first address Kestrel said it listens on.</summary>
    public Uri BaseAddress => Addresses[0];

    /// <summary>Every address Kestrel said it listens on, in its order (the public URLs, then <c>Admin:Urls</c>).</summary>
    public IReadOnlyList<Uri> Addresses { get; private set; } = [];

    /// <summary>The appsettings.json in the content root (a copy the test may edit, for <see cref="StartAsync"/>).</summary>
    public string ConfigPath { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public IReadOnlyList<string> RawLines => [.. _lines];

    /// <summary>The console so far, each line parsed (a line that is not a JSON object fails the test).</summary>
    public IReadOnlyList<JsonObject> Lines => RawLines.Select(Parse).ToArray();

    /// <summary>
    /// Starts the test build's Gateway.Proxy.dll in Production on a free loopback port, its content root a copy
    /// of the shipped appsettings.json (so the test can edit it); <paramref name="args"/> come after those.
    /// </summary>
    public static Task<GatewayProcess> StartAsync(IEnumerable<string> args)
    {
        var dir = Directory.CreateTempSubdirectory("wr-gateway-process-").FullName;
        File.Copy(Repo.File("Gateway.Proxy", "appsettings.json"), Path.Combine(dir, "appsettings.json"));
        var info = DotnetInfo(Path.Combine(AppContext.BaseDirectory, "Gateway.Proxy.dll"), dir);
        foreach (var arg in (string[])["--environment", "Production", "--contentRoot", dir, "--urls", "http://127.0.0.1:0", .. args])
            info.ArgumentList.Add(arg);
        return LaunchAsync(info, dir, Path.Combine(dir, "appsettings.json"));
    }

    /// <summary>
    /// Starts the test build's Gateway.Proxy.dll in Production on a free loopback port from
    /// <paramref name="workingDirectory"/>, without <c>--contentRoot</c>: where it reads its settings from is its own
    /// choice. <paramref name="args"/> come after the environment and URLs.
    /// </summary>
    public static Task<GatewayProcess> StartFromAsync(string workingDirectory, IEnumerable<string> args)
    {
        var info = DotnetInfo(Path.Combine(AppContext.BaseDirectory, "Gateway.Proxy.dll"), workingDirectory);
        foreach (var arg in (string[])["--environment", "Production", "--urls", "http://127.0.0.1:0", .. args])
            info.ArgumentList.Add(arg);
        return LaunchAsync(info, ownedDir: null, Path.Combine(AppContext.BaseDirectory, "appsettings.json"));
    }

    /// <summary>
    /// Starts a published gateway the way the image runs it: <c>dotnet Gateway.Proxy.dll</c> in
    /// <paramref name="appDir"/> (its content root), no arguments, configured by <paramref name="environment"/> alone
    /// (which must name the URLs, e.g. <c>ASPNETCORE_URLS</c>).
    /// </summary>
    public static Task<GatewayProcess> StartPublishedAsync(string appDir, IReadOnlyDictionary<string, string> environment)
    {
        var info = DotnetInfo(Path.Combine(appDir, "Gateway.Proxy.dll"), appDir);
        foreach (var (name, value) in environment)
            info.Environment[name] = value;
        return LaunchAsync(info, ownedDir: null, Path.Combine(appDir, "appsettings.json"));
    }

    /// <summary>Sends SIGTERM, as the kubelet does to stop a container.</summary>
    public void Terminate()
    {
        var kill = RedisServer.Which("kill") ?? throw new InvalidOperationException("kill is not installed");
        using var signal = Process.Start(new ProcessStartInfo(kill) { ArgumentList = { "-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) } })!;
        signal.WaitForExit();
        Assert.True(signal.ExitCode == 0, $"kill -TERM {_process.Id} exited with {signal.ExitCode}");
    }

    /// <summary>Waits for the process to exit (failing the test after <paramref name="timeout"/>) and returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"the gateway (pid {_process.Id}) did not exit within {timeout}. Console:\n{string.Join('\n', RawLines)}");
        }
        return _process.ExitCode;
    }

    /// <summary>Waits until the console holds what <paramref name="done"/> looks for; every line must be a JSON object.</summary>
    public async Task<IReadOnlyList<JsonObject>> WaitForAsync(Func<IReadOnlyList<JsonObject>, bool> done, string what)
    {
        var deadline = DateTime.UtcNow + StartTimeout;
        while (true)
        {
            var parsed = Lines;
            if (done(parsed))
                return parsed;
            if (_process.HasExited || DateTime.UtcNow > deadline)
                Assert.Fail($"waiting for {what}: {(_process.HasExited ? "the gateway exited" : "timed out")}. Console:\n{string.Join('\n', RawLines)}");
            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        if (_ownedDir is null)
            return;
        try
        {
            Directory.Delete(_ownedDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static ProcessStartInfo DotnetInfo(string dll, string workingDirectory)
    {
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory,
        };
        info.ArgumentList.Add(dll);
        // The test runner's own settings must not leak into the gateway: it runs as configured here.
        foreach (var name in info.Environment.Keys.Where(k => k.StartsWith("ASPNETCORE_", StringComparison.OrdinalIgnoreCase)).ToList())
            info.Environment.Remove(name);
        info.Environment.Remove("DOTNET_ENVIRONMENT");
        return info;
    }

    private static async Task<GatewayProcess> LaunchAsync(ProcessStartInfo info, string? ownedDir, string configPath)
    {
        var gateway = new GatewayProcess(Process.Start(info)!, ownedDir, configPath);
        try
        {
            // Kestrel logs one "Now listening on:" line per address, all before "Application started".
            var lines = await gateway.WaitForAsync(l => l.Any(j => Message(j).StartsWith("Application started", StringComparison.Ordinal)), "start-up");
            gateway.Addresses = lines.Where(IsListening).Select(l => new Uri(l["State"]!["address"]!.GetValue<string>())).ToArray();
            return gateway;
        }
        catch
        {
            await gateway.DisposeAsync();
            throw;
        }
    }

    private static bool IsListening(JsonObject line) => Message(line).StartsWith("Now listening on:", StringComparison.Ordinal);

    private static string Message(JsonObject line) => line["Message"]?.GetValue<string>() ?? "";

    private static JsonObject Parse(string line)
    {
        try
        {
            return JsonNode.Parse(line) as JsonObject ?? throw new JsonException("not an object");
        }
        catch (JsonException ex)
        {
            Assert.Fail($"console line is not a JSON object ({ex.Message}): {line}");
            throw;
        }
    }
}
