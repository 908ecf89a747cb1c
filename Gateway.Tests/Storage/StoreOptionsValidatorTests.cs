using Gateway.Admission.Storage;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using static Gateway.Tests.Infrastructure.OptionsValidation;

namespace Gateway.Tests.Storage;

/// <summary>
/// <c>Store</c> and <c>ConnectionStrings:Redis</c>: every bad value fails validation with one message that names
/// its full key and says what to write instead; the shipped settings and the defaults pass.
/// </summary>
[Trait("Category", "Fast")]
public sealed class StoreOptionsValidatorTests
{
    [Fact]
    public void TheShippedSettings_AndTheDefaults_Pass()
    {
        Assert.Empty(Failures(ShippedSettings()));
        Assert.Empty(Failures(Configuration([])));
        Assert.Empty(Failures(Configuration([new("ConnectionStrings:Redis", "redis.internal:6379,password=secret,ssl=true")])));
    }

    [Theory]
    [InlineData("Store:OperationTimeout", "00:00:00", "Store:OperationTimeout is 00:00:00;", "(e.g. 00:00:01)")]
    [InlineData("Store:OperationTimeout", "00:01:00", "Store:OperationTimeout is 00:01:00;", "(e.g. 00:00:01)")]
    [InlineData("Store:ConnectTimeout", "00:02:00", "Store:ConnectTimeout is 00:02:00;", "(e.g. 00:00:02)")]
    [InlineData("Store:ReadinessTimeout", "00:00:00", "Store:ReadinessTimeout is 00:00:00;", "(e.g. 00:00:00.5)")]
    [InlineData("Store:StatusBatchWindow", "-00:00:00.001", "Store:StatusBatchWindow is -00:00:00.0010000;", "(e.g. 00:00:00.002)")]
    [InlineData("Store:StatusBatchWindow", "00:00:01", "Store:StatusBatchWindow is 00:00:01;", "(e.g. 00:00:00.002)")]
    [InlineData("Store:PositionIndex", "7", "Store:PositionIndex is 7;", "use Auto, SortedSetRank or Tree.")]
    [InlineData("ConnectionStrings:Redis", "redis.internal:6379,ssl=maybe", "ConnectionStrings:Redis is not a StackExchange.Redis configuration string (", "e.g. \"redis.internal:6379,password=...,ssl=true\"")]
    public void ABadValue_FailsWithOneMessage_NamingItsKeyAndWhatToWrite(string key, string value, string failure, string fix)
    {
        var message = Assert.Single(Failures(Configuration([new(key, value)])));

        Assert.StartsWith(failure, message, StringComparison.Ordinal);
        Assert.Contains(fix, message, StringComparison.Ordinal);
    }

    /// <summary>Bound as the gateway binds it: the <c>Store</c> section, and the connection string beside it.</summary>
    private static string[] Failures(IConfiguration configuration)
    {
        var options = Bind<StoreOptions>(configuration, StoreOptions.SectionName);
        options.ConnectionString = configuration.GetConnectionString("Redis");
        return OptionsValidation.Failures(new StoreOptionsValidator(), options);
    }
}
