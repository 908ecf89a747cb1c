using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http;

namespace Gateway.Admission.Clients;

/// <summary>
/// The client a request comes from, for the per-client limits: the connection's address (or, only behind
/// a proxy named in <c>ForwardedHeaders:KnownProxies</c> / <c>KnownNetworks</c>, the address it forwarded),
/// an IPv4 address as is and an IPv6 address by its /64 (one subscriber usually holds a whole /64, so
/// keying by /128 would let one machine be millions of clients).
/// </summary>
internal static class ClientAddress
{
    public static string Of(HttpContext context) => Of(context.Connection.RemoteIpAddress);

    public static string Of(IPAddress? address)
    {
        if (address is null)
            return "unknown";
        if (address.IsIPv4MappedToIPv6)
            address = address.MapToIPv4();
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
            return address.ToString();
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes).ToString() + "/64";
    }
}
