using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Gateway.Tests.Infrastructure;

/// <summary>An error reply (<c>-ERR ...</c>, <c>-CLUSTERDOWN ...</c>) from a Redis node.</summary>
public sealed record RespError(string Message);

/// <summary>
/// A bare RESP2 connection to one node, for administering test servers (CLUSTER INFO, CLUSTER NODES, WAIT):
/// no cluster routing, no redirects, no reconnects, so the tests see exactly what that node answers.
/// Every reply is bounded by the timeout given at open.
/// </summary>
public sealed class RespConnection : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private readonly TimeSpan _timeout;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    private RespConnection(TcpClient tcp, TimeSpan timeout)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
        _timeout = timeout;
    }

    public static async Task<RespConnection> OpenAsync(int port, TimeSpan? timeout = null)
    {
        var bound = timeout ?? TimeSpan.FromSeconds(5);
        var tcp = new TcpClient { NoDelay = true };
        try
        {
            using var cts = new CancellationTokenSource(bound);
            await tcp.ConnectAsync(IPAddress.Loopback, port, cts.Token);
            return new RespConnection(tcp, bound);
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
    }

    /// <summary>One command on a new connection: a string, long, null, <see cref="RespError"/> or object?[].</summary>
    public static async Task<object?> CommandAsync(int port, params string[] args)
    {
        await using var connection = await OpenAsync(port);
        return await connection.SendAsync(args);
    }

    /// <summary>One command whose reply must be text (status or bulk string); an error reply throws.</summary>
    public static async Task<string> TextAsync(int port, params string[] args) =>
        await CommandAsync(port, args) switch
        {
            string text => text,
            RespError error => throw new InvalidOperationException($"127.0.0.1:{port} answered {string.Join(' ', args)} with {error.Message}"),
            var other => throw new InvalidOperationException($"127.0.0.1:{port} answered {string.Join(' ', args)} with {other ?? "nil"}"),
        };

    public async Task<object?> SendAsync(params string[] args)
    {
        var request = new StringBuilder().Append('*').Append(args.Length).Append("\r\n");
        foreach (var arg in args)
            request.Append('$').Append(Encoding.UTF8.GetByteCount(arg)).Append("\r\n").Append(arg).Append("\r\n");
        using var cts = new CancellationTokenSource(_timeout);
        await _stream.WriteAsync(Encoding.UTF8.GetBytes(request.ToString()), cts.Token);
        return await ReadReplyAsync(cts.Token);
    }

    public ValueTask DisposeAsync()
    {
        _tcp.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task<object?> ReadReplyAsync(CancellationToken cancellation)
    {
        var line = await ReadLineAsync(cancellation);
        var payload = line[1..];
        switch (line[0])
        {
            case '+':
                return payload;
            case '-':
                return new RespError(payload);
            case ':':
                return long.Parse(payload, CultureInfo.InvariantCulture);
            case '$':
                var length = int.Parse(payload, CultureInfo.InvariantCulture);
                if (length < 0)
                    return null;
                var bytes = await ReadExactlyAsync(length + 2, cancellation);
                return Encoding.UTF8.GetString(bytes, 0, length);
            case '*':
                var count = int.Parse(payload, CultureInfo.InvariantCulture);
                if (count < 0)
                    return null;
                var items = new object?[count];
                for (var i = 0; i < count; i++)
                    items[i] = await ReadReplyAsync(cancellation);
                return items;
            default:
                throw new InvalidDataException("not a RESP2 reply: " + line);
        }
    }

    private async Task<string> ReadLineAsync(CancellationToken cancellation)
    {
        var line = new List<byte>();
        while (true)
        {
            if (_start == _end)
                await FillAsync(cancellation);
            var b = _buffer[_start++];
            if (b == '\n' && line.Count > 0 && line[^1] == '\r')
                return Encoding.UTF8.GetString([.. line[..^1]]);
            line.Add(b);
        }
    }

    private async Task<byte[]> ReadExactlyAsync(int count, CancellationToken cancellation)
    {
        var result = new byte[count];
        var filled = 0;
        while (filled < count)
        {
            if (_start == _end)
                await FillAsync(cancellation);
            var take = Math.Min(count - filled, _end - _start);
            Array.Copy(_buffer, _start, result, filled, take);
            _start += take;
            filled += take;
        }
        return result;
    }

    private async Task FillAsync(CancellationToken cancellation)
    {
        _start = 0;
        _end = await _stream.ReadAsync(_buffer, cancellation);
        if (_end == 0)
            throw new IOException("the node closed the connection");
    }
}
