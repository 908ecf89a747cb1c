using Gateway.Proxy.Hosting;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using static Gateway.Tests.Infrastructure.OptionsValidation;

namespace Gateway.Tests.Proxy;

/// <summary>
/// <c>Shutdown</c>: every bad value fails validation with one message that names its full key and gives an
/// example; the shipped settings and the defaults pass.
/// </summary>
[Trait("Category", "Fast")]
public sealed class ShutdownOptionsValidatorTests
{
    [Fact]
    public void TheShippedSettings_AndTheDefaults_Pass()
    {
        Assert.Empty(Failures(ShippedSettings()));
        Assert.Empty(Failures(Configuration([])));
        Assert.Empty(Failures(Configuration([new("Shutdown:DrainDelay", "00:00:00")])));
    }

    [Theory]
    [InlineData("Shutdown:DrainDelay", "-00:00:01", "Shutdown:DrainDelay is -00:00:01;", "(e.g. 00:00:05)")]
    [InlineData("Shutdown:DrainDelay", "00:06:00", "Shutdown:DrainDelay is 00:06:00;", "(e.g. 00:00:05)")]
    [InlineData("Shutdown:Timeout", "00:00:00", "Shutdown:Timeout is 00:00:00;", "(e.g. 00:00:30)")]
    [InlineData("Shutdown:Timeout", "00:11:00", "Shutdown:Timeout is 00:11:00;", "(e.g. 00:00:30)")]
    public void ABadValue_FailsWithOneMessage_NamingItsKeyAndAnExample(string key, string value, string failure, string example)
    {
        var message = Assert.Single(Failures(Configuration([new(key, value)])));

        Assert.StartsWith(failure, message, StringComparison.Ordinal);
        Assert.Contains(example, message, StringComparison.Ordinal);
    }

    private static string[] Failures(IConfiguration configuration) =>
        OptionsValidation.Failures(new ShutdownOptionsValidator(), Bind<ShutdownOptions>(configuration, ShutdownOptions.SectionName));
}
