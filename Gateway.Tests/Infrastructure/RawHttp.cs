using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Gateway.Tests.Infrastructure;

/// <summary>HTTP over a bare socket, for requests that must reach the gateway exactly as written.</summary>
public static class RawHttp
{
    public static async Task<string> GetAsync(Uri server, string path, params (string Name, string Value)[] headers)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(server.Host, server.Port);
        // HTTP/1.0 so the response is never chunked and the body can be read as is.
        var request = new StringBuilder($"GET {path} HTTP/1.0\r\nHost: {server.Authority}\r\nConnection: close\r\n");
        foreach (var (name, value) in headers)
            request.Append(name).Append(": ").Append(value).Append("\r\n");
        request.Append("\r\n");
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request.ToString()));
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync();
    }

    /// <summary>
    /// Sends <paramref name="request"/> as is (any bytes) on a new connection and reads one final response (interim
    /// 1xx answers are skipped): its status, headers and body (Content-Length, chunked, or up to the close). Null
    /// when the server closed or reset the connection without answering. Throws <see cref="TimeoutException"/>
    /// when the server went <paramref name="timeout"/> without sending anything before the answer was complete (a hang;
    /// a long answer that keeps arriving, like a big /metrics page on a loaded machine, is not one). With <paramref name="halfClose"/> the sending
    /// side is shut after the request, so a body shorter than declared ends there.
    /// </summary>
    public static async Task<RawResponse?> SendAsync(Uri server, byte[] request, bool headRequest, TimeSpan timeout, bool halfClose = false)
    {
        using var cancel = new CancellationTokenSource(timeout);
        using var tcp = new TcpClient { NoDelay = true };
        var received = new MemoryStream();
        try
        {
            await tcp.ConnectAsync(server.Host, server.Port, cancel.Token);
            var stream = tcp.GetStream();
            try
            {
                await stream.WriteAsync(request, cancel.Token);
                if (halfClose)
                    tcp.Client.Shutdown(SocketShutdown.Send);
            }
            catch (Exception ex) when (ex is IOException or SocketException)
            {
                // The server may answer and close before reading everything (413, 431): read what it said.
            }
            var buffer = new byte[64 * 1024];
            while (true)
            {
                if (TryParse(received.GetBuffer().AsSpan(0, (int)received.Length), headRequest, out var response))
                    return response;
                int read;
                try
                {
                    read = await stream.ReadAsync(buffer, cancel.Token);
                }
                catch (IOException)
                {
                    read = 0;
                }
                if (read == 0)
                    return TryParse(received.GetBuffer().AsSpan(0, (int)received.Length), headRequest, out response, closed: true) ? response : null;
                received.Write(buffer, 0, read);
                cancel.CancelAfter(timeout);
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"nothing more for {timeout.TotalSeconds} s before the answer was complete; received {received.Length} bytes: " +
                Encoding.Latin1.GetString(received.GetBuffer(), 0, (int)Math.Min(received.Length, 300)));
        }
        catch (SocketException)
        {
            return null;
        }
    }

    private static bool TryParse(ReadOnlySpan<byte> data, bool headRequest, out RawResponse? response, bool closed = false)
    {
        response = null;
        while (true)
        {
            var end = data.IndexOf("\r\n\r\n"u8);
            if (end < 0)
                return false;
            var head = Encoding.Latin1.GetString(data[..end]).Split("\r\n");
            var statusParts = head[0].Split(' ', 3);
            if (statusParts.Length < 2 || !int.TryParse(statusParts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var status))
                return false;
            var headers = head.Skip(1).Select(line => line.Split(':', 2)).Where(p => p.Length == 2)
                .GroupBy(p => p[0].Trim(), StringComparer.OrdinalIgnoreCase)
                .ToDictionary(g => g.Key, g => string.Join(", ", g.Select(p => p[1].Trim())), StringComparer.OrdinalIgnoreCase);
            var rest = data[(end + 4)..];
            if (status is >= 100 and < 200)
            {
                data = rest;
                continue;
            }
            if (headRequest || status is 204 or 304)
            {
                response = new RawResponse(status, headers, []);
                return true;
            }
            if (headers.TryGetValue("Content-Length", out var length) && long.TryParse(length, CultureInfo.InvariantCulture, out var contentLength))
            {
                if (rest.Length < contentLength)
                    return false;
                response = new RawResponse(status, headers, rest[..(int)contentLength].ToArray());
                return true;
            }
            if (headers.TryGetValue("Transfer-Encoding", out var encoding) && encoding.Contains("chunked", StringComparison.OrdinalIgnoreCase))
            {
                if (!TryDechunk(rest, out var body))
                    return false;
                response = new RawResponse(status, headers, body);
                return true;
            }
            if (!closed)
                return false;
            response = new RawResponse(status, headers, rest.ToArray());
            return true;
        }
    }

    private static bool TryDechunk(ReadOnlySpan<byte> data, out byte[] body)
    {
        var result = new MemoryStream();
        body = [];
        while (true)
        {
            var line = data.IndexOf("\r\n"u8);
            if (line < 0)
                return false;
            var sizeText = Encoding.ASCII.GetString(data[..line]).Split(';')[0].Trim();
            if (!int.TryParse(sizeText, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var size))
                return false;
            data = data[(line + 2)..];
            if (size == 0)
            {
                body = result.ToArray();
                return data.IndexOf("\r\n"u8) >= 0;
            }
            if (data.Length < size + 2)
                return false;
            result.Write(data[..size]);
            data = data[(size + 2)..];
        }
    }
}

/// <summary>One HTTP response as read off the socket.</summary>
public sealed record RawResponse(int Status, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    public string Text => Encoding.UTF8.GetString(Body);
}
