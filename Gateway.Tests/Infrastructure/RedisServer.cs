using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// A real redis-server on a free loopback port, started by the tests. Missing redis-server is a test
/// failure, never a skip: CI installs it through the README's test command.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("wr-redis-").FullName;
    private Process? _process;

    public RedisServer(bool persistent = false)
    {
        Port = FreePort();
        Persistent = persistent;
    }

    /// <summary>Writes every change to an append-only file (fsync always), so a killed server restarts with its data.</summary>
    public bool Persistent { get; }

    public int Port { get; }

    public string ConnectionString => $"127.0.0.1:{Port}";

    public static async Task<RedisServer> StartNewAsync(bool persistent = false)
    {
        var server = new RedisServer(persistent);
        await server.StartAsync();
        return server;
    }

    public async Task StartAsync()
    {
        var path = Which("redis-server") ?? throw new InvalidOperationException(
            "redis-server is not installed. Run the tests through README's test command (bash build/test.sh), which installs it.");
        var info = new ProcessStartInfo(path)
        {
            ArgumentList = { "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", Persistent ? "yes" : "no", "--appendfsync", "always", "--dir", _dir, "--protected-mode", "yes" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        _process = Process.Start(info)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            if (await CanConnectAsync())
                return;
            await Task.Delay(50);
        }
        throw new InvalidOperationException($"redis-server did not start on port {Port}.");
    }

    /// <summary>
    /// Stops (SIGSTOP) or resumes (SIGCONT) the server: a stall, where connections stay open and commands sent
    /// meanwhile wait in the socket to run when it resumes.
    /// </summary>
    public async Task SignalAsync(string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-" + signal, _process!.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) } })!;
        await kill.WaitForExitAsync();
        Assert.Equal(0, kill.ExitCode);
    }

    /// <summary>Kills the server (like a crash) and waits until the port refuses connections.</summary>
    public async Task StopAsync()
    {
        if (_process is null)
            return;
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
        _process = null;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task<bool> CanConnectAsync()
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, Port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    internal static string? Which(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':')
            .Concat(["/usr/bin", "/usr/local/bin", "/usr/sbin"])
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);
}
