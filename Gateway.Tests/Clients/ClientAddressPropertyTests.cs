using System.Net;
using System.Net.Sockets;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Gateway.Admission.Clients;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Clients;

/// <summary>
/// The per-client key of any address: <see cref="ClientAddress.Of(IPAddress)"/> never throws and answers an IPv4
/// address, or an IPv6 /64 (an IPv4-mapped IPv6 address counts as its IPv4 address); <see cref="ClientInput.Printable"/>
/// makes any client text safe for a log line.
/// </summary>
[Properties(Arbitrary = [typeof(HostileInput), typeof(ClientAddressPropertyTests)], MaxTest = 5_000, Replay = "2026120112,1208070911")]
[Trait("Category", "Fast")]
public sealed class ClientAddressPropertyTests
{
    public static Arbitrary<IPAddress> Addresses() => Arb.From(
        from kind in Gen.Choose(0, 5)
        from seed in Gen.Choose(0, int.MaxValue - 1)
        from scope in Gen.Elements(0L, 1L, 4_294_967_295L)
        select Address(kind, new Random(seed), scope));

    [Property]
    public void AnyAddress_IsAnIPv4AddressOrAnIPv6Slash64(IPAddress address)
    {
        var key = ClientAddress.Of(address);

        if (address.AddressFamily == AddressFamily.InterNetwork || address.IsIPv4MappedToIPv6)
        {
            Assert.True(IPAddress.TryParse(key, out var v4));
            Assert.Equal(AddressFamily.InterNetwork, v4!.AddressFamily);
            Assert.Equal(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address, v4);
            return;
        }
        Assert.EndsWith("/64", key, StringComparison.Ordinal);
        Assert.True(IPAddress.TryParse(key[..^3], out var network));
        var bytes = network!.GetAddressBytes();
        Assert.Equal(address.GetAddressBytes()[..8], bytes[..8]);
        Assert.All(bytes[8..], b => Assert.Equal(0, b));
    }

    [Property]
    public void TwoAddressesInOneSlash64_AreOneClient(IPAddress address, byte last)
    {
        if (address.AddressFamily != AddressFamily.InterNetworkV6 || address.IsIPv4MappedToIPv6)
            return;
        var bytes = address.GetAddressBytes();
        bytes[15] = last;
        Assert.Equal(ClientAddress.Of(address), ClientAddress.Of(new IPAddress(bytes)));
    }

    [Fact]
    public void NoAddress_IsUnknown() => Assert.Equal("unknown", ClientAddress.Of((IPAddress?)null));

    [Property]
    public void Printable_AnyText_IsBoundedAndFreeOfControlCharacters(HostileString text, byte max)
    {
        var printable = ClientInput.Printable(text.Value, max);
        Assert.InRange(printable.Length, 0, max + 3);
        Assert.DoesNotContain(printable, char.IsControl);
    }

    private static IPAddress Address(int kind, Random random, long scope)
    {
        switch (kind)
        {
            case 0:
                return new IPAddress(Bytes(random, 4));
            case 1:
                return new IPAddress(Bytes(random, 4)).MapToIPv6();
            case 2:
                return new IPAddress(Bytes(random, 16), scope);
            case 3:
                return random.Next(6) switch
                {
                    0 => IPAddress.Any,
                    1 => IPAddress.Loopback,
                    2 => IPAddress.Broadcast,
                    3 => IPAddress.IPv6Any,
                    4 => IPAddress.IPv6Loopback,
                    _ => IPAddress.IPv6None,
                };
            default:
                var bytes = Bytes(random, 16);
                // Mostly zeros with a few set: the shapes real addresses take (fe80::1, 2001:db8::, ::1.2.3.4).
                for (var i = 0; i < 16; i++)
                {
                    if (random.Next(3) != 0)
                        bytes[i] = 0;
                }
                return new IPAddress(bytes);
        }
    }

    private static byte[] Bytes(Random random, int count)
    {
        var bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }
}
