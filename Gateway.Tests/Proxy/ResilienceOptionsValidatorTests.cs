using Gateway.Proxy.Forwarding;
using Gateway.Tests.Infrastructure;
using static Gateway.Tests.Infrastructure.OptionsValidation;

namespace Gateway.Tests.Proxy;

/// <summary>
/// <c>Resilience:Clusters:&lt;cluster id&gt;</c>: every bad value fails validation with one message that names its
/// full key, with the cluster's id, and gives an example; the defaults pass.
/// </summary>
[Trait("Category", "Fast")]
public sealed class ResilienceOptionsValidatorTests
{
    [Fact]
    public void NoClusters_AndAClusterWithTheDefaults_Pass()
    {
        Assert.Empty(Failures([]));
        Assert.Empty(Failures([new("Resilience:Clusters:inventory:MaxRetries", "0")]));
    }

    [Theory]
    [InlineData("AttemptTimeout", "00:00:00.005", "Resilience:Clusters:inventory:AttemptTimeout is 00:00:00.0050000;", "(e.g. 00:00:05)")]
    [InlineData("MaxRetries", "-1", "Resilience:Clusters:inventory:MaxRetries is -1;", "(e.g. 1)")]
    [InlineData("MaxRetries", "11", "Resilience:Clusters:inventory:MaxRetries is 11;", "(e.g. 1)")]
    [InlineData("FailureRatio", "0", "Resilience:Clusters:inventory:FailureRatio is 0;", "(e.g. 0.5;")]
    [InlineData("FailureRatio", "1.5", "Resilience:Clusters:inventory:FailureRatio is 1.5;", "(e.g. 0.5;")]
    [InlineData("MinimumThroughput", "1", "Resilience:Clusters:inventory:MinimumThroughput is 1;", "(e.g. 20)")]
    [InlineData("SamplingDuration", "00:00:00.5", "Resilience:Clusters:inventory:SamplingDuration is 00:00:00.5000000;", "(e.g. 00:00:10)")]
    [InlineData("BreakDuration", "02:00:00", "Resilience:Clusters:inventory:BreakDuration is 02:00:00;", "(e.g. 00:00:05)")]
    public void ABadValue_FailsWithOneMessage_NamingItsKeyAndAnExample(string setting, string value, string failure, string example)
    {
        var message = Assert.Single(Failures([new("Resilience:Clusters:inventory:" + setting, value)]));

        Assert.StartsWith(failure, message, StringComparison.Ordinal);
        Assert.Contains(example, message, StringComparison.Ordinal);
    }

    private static string[] Failures(KeyValuePair<string, string?>[] settings) =>
        OptionsValidation.Failures(new ResilienceOptionsValidator(), Bind<ResilienceOptions>(Configuration(settings), ResilienceOptions.SectionName));
}
