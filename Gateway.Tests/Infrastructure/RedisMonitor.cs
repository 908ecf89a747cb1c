using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// A <c>MONITOR</c> connection to a test's own redis-server: every command the server runs, as it runs it, one
/// line each. Proves what did (and did not) reach the store.
/// </summary>
public sealed class RedisMonitor : IAsyncDisposable
{
    private readonly TcpClient _client;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly Task _reader;

    private RedisMonitor(TcpClient client, StreamReader reader)
    {
        _client = client;
        _reader = Task.Run(async () =>
        {
            try
            {
                while (await reader.ReadLineAsync(_stop.Token) is { } line)
                    _lines.Enqueue(line);
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
            {
            }
        });
    }

    /// <summary>Every command seen so far, as MONITOR prints it (<c>1700000000.123 [0 127.0.0.1:5555] "EVALSHA" "..."</c>).</summary>
    public IReadOnlyCollection<string> Lines => _lines;

    public static async Task<RedisMonitor> StartAsync(RedisServer server)
    {
        var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", server.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes("MONITOR\r\n"));
        var reader = new StreamReader(stream, Encoding.UTF8);
        var ok = await reader.ReadLineAsync();
        if (ok != "+OK")
            throw new InvalidOperationException("MONITOR answered " + ok);
        return new RedisMonitor(client, reader);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _client.Dispose();
        await _reader;
        _stop.Dispose();
    }
}
