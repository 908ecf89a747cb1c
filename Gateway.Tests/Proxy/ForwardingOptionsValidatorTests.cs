using Gateway.Proxy.Forwarding;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using static Gateway.Tests.Infrastructure.OptionsValidation;

namespace Gateway.Tests.Proxy;

/// <summary>
/// <c>Forwarding</c>: every bad value fails validation with one message that names its full key and gives an
/// example; the shipped settings and the defaults pass.
/// </summary>
[Trait("Category", "Fast")]
public sealed class ForwardingOptionsValidatorTests
{
    [Fact]
    public void TheShippedSettings_AndTheDefaults_Pass()
    {
        Assert.Empty(Failures(ShippedSettings()));
        Assert.Empty(Failures(Configuration([])));
    }

    [Theory]
    [InlineData("Forwarding:ConnectTimeout", "00:00:00", "Forwarding:ConnectTimeout is 00:00:00;", "(e.g. 00:00:05)")]
    [InlineData("Forwarding:ConnectTimeout", "00:03:00", "Forwarding:ConnectTimeout is 00:03:00;", "(e.g. 00:00:05)")]
    [InlineData("Forwarding:PooledConnectionIdleTimeout", "-00:00:01", "Forwarding:PooledConnectionIdleTimeout is -00:00:01;", "(e.g. 00:01:00)")]
    [InlineData("Forwarding:PooledConnectionLifetime", "-00:00:01", "Forwarding:PooledConnectionLifetime is -00:00:01;", "(e.g. 00:05:00)")]
    [InlineData("Forwarding:MaxConnectionsPerServer", "0", "Forwarding:MaxConnectionsPerServer is 0;", "(e.g. 1024)")]
    public void ABadValue_FailsWithOneMessage_NamingItsKeyAndAnExample(string key, string value, string failure, string example)
    {
        var message = Assert.Single(Failures(Configuration([new(key, value)])));

        Assert.StartsWith(failure, message, StringComparison.Ordinal);
        Assert.Contains(example, message, StringComparison.Ordinal);
    }

    private static string[] Failures(IConfiguration configuration) =>
        OptionsValidation.Failures(new ForwardingOptionsValidator(), Bind<ForwardingOptions>(configuration, ForwardingOptions.SectionName));
}
