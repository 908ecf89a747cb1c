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
}
