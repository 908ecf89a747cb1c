using System.Net;
using System.Net.Sockets;

namespace LoadTest.Engine;

/// <summary>
/// Keeps the tool pointed at this machine only: a load generator aimed at someone else's server by a
/// typo is an attack. Checked once up front for a clear message, and again on every new connection so
/// that a name re-resolving elsewhere mid-run cannot slip through.
/// </summary>
public static class LoopbackGuard
{
    /// <summary>
    /// Throws <see cref="ArgumentException"/> unless <paramref name="url"/> is http(s) and its host is an
    /// address in 127.0.0.0/8, ::1, or <c>localhost</c> resolving only to such addresses.
    /// </summary>
    public static async Task EnsureLoopbackAsync(Uri url, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"target '{url}' must be an absolute http:// or https:// URL");
        }

        if (!IPAddress.TryParse(url.DnsSafeHost, out _) && !IsLocalhost(url.DnsSafeHost))
        {
            throw new ArgumentException($"target '{url}': host '{url.DnsSafeHost}' is not 127.0.0.0/8, ::1 or localhost; this tool only targets loopback");
        }

        var addresses = await ResolveAsync(url.DnsSafeHost, cancellationToken);
        var outside = addresses.Where(address => !IsLoopback(address)).ToList();
        if (addresses.Length == 0 || outside.Count > 0)
        {
            throw new ArgumentException(
                $"target '{url}' is not on loopback (resolves to {string.Join(", ", addresses.Select(address => address.ToString()))}); " +
                "this tool only targets 127.0.0.0/8, ::1 or localhost");
        }
    }

    /// <summary>True for 127.0.0.0/8 and ::1, including IPv4-mapped IPv6 forms.</summary>
    public static bool IsLoopback(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return IPAddress.IsLoopback(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address);
    }

    /// <summary>A <see cref="SocketsHttpHandler.ConnectCallback"/> that connects only to loopback addresses.</summary>
    internal static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var addresses = await ResolveAsync(context.DnsEndPoint.Host, cancellationToken);
        if (addresses.Length == 0 || !addresses.All(IsLoopback))
        {
            throw new InvalidOperationException($"refusing to connect to non-loopback host '{context.DnsEndPoint.Host}'");
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, context.DnsEndPoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static async Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(host, out var literal))
        {
            return [literal];
        }

        // Only the name localhost is resolved: any other name is refused without asking a resolver.
        return IsLocalhost(host) ? await Dns.GetHostAddressesAsync(host, cancellationToken) : [];
    }

    private static bool IsLocalhost(string host) => string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase);
}
