using Gateway.Proxy.Configuration;
using Gateway.Tests.Infrastructure;
using static Gateway.Tests.Infrastructure.OptionsValidation;

namespace Gateway.Tests.Proxy;

/// <summary>
/// <c>ForwardedHeaders</c>: every entry that is not an address (KnownProxies) or a CIDR network (KnownNetworks)
/// fails validation with one message that names its full key and gives an example; good entries pass.
/// </summary>
[Trait("Category", "Fast")]
public sealed class ForwardedHeadersSettingsValidatorTests
{
    [Fact]
    public void NoProxies_AndAddressesAndNetworksOfBothFamilies_Pass()
    {
        Assert.Empty(Failures([]));
        Assert.Empty(Failures(
        [
            new("ForwardedHeaders:KnownProxies:0", "10.0.0.5"),
            new("ForwardedHeaders:KnownProxies:1", "2001:db8::5"),
            new("ForwardedHeaders:KnownNetworks:0", "10.0.0.0/8"),
            new("ForwardedHeaders:KnownNetworks:1", "2001:db8::/32"),
        ]));
    }

    [Theory]
    [InlineData("ForwardedHeaders:KnownProxies:0", "10.0.0.0/8", "ForwardedHeaders:KnownProxies:0 is '10.0.0.0/8', a network:", "put networks under ForwardedHeaders:KnownNetworks (CIDR), addresses under KnownProxies (e.g. 10.0.0.5).")]
    [InlineData("ForwardedHeaders:KnownProxies:0", "proxy.internal", "ForwardedHeaders:KnownProxies:0 is 'proxy.internal', not an IP address", "(e.g. 10.0.0.5 or 2001:db8::5)")]
    [InlineData("ForwardedHeaders:KnownNetworks:0", "10.0.0.0/33", "ForwardedHeaders:KnownNetworks:0 is '10.0.0.0/33', not a network in CIDR notation", "(e.g. 10.0.0.0/8 or 2001:db8::/32)")]
    [InlineData("ForwardedHeaders:KnownNetworks:0", "load-balancers", "ForwardedHeaders:KnownNetworks:0 is 'load-balancers', not a network in CIDR notation", "(e.g. 10.0.0.0/8 or 2001:db8::/32)")]
    public void ABadEntry_FailsWithOneMessage_NamingItsKeyAndAnExample(string key, string value, string failure, string example)
    {
        var message = Assert.Single(Failures([new(key, value)]));

        Assert.StartsWith(failure, message, StringComparison.Ordinal);
        Assert.Contains(example, message, StringComparison.Ordinal);
    }

    private static string[] Failures(KeyValuePair<string, string?>[] settings) =>
        OptionsValidation.Failures(new ForwardedHeadersSettingsValidator(), Bind<ForwardedHeadersSettings>(Configuration(settings), ForwardedHeadersSettings.SectionName));
}
