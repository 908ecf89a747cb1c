using Gateway.Admission.Rooms;
using Gateway.Admission.Tokens;
using Gateway.EtaSimulation.Engine;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Tests.Tokens;

/// <summary>
/// Waiting tokens by example, where the property tests do not reach: key rotation by configuration reload, and a
/// place that cannot be carried to another room.
/// </summary>
[Trait("Category", "Fast")]
public sealed class WaitingTokensTests
{
    private const string OtherSecret = "YW5vdGhlci1zaWduaW5nLWtleS1hbm90aGVyLWtleSE=";

    [Fact]
    public void AfterRotation_TheOldKeysTokensStillRead_AndStopWhenTheOldKeyIsRemoved()
    {
        var options = new MutableOptionsMonitor<WaitingRoomOptions>(Keys(("old", TestConfig.TestSecret)));
        var tokens = new WaitingTokens(new KeyRing(options, NullLogger<KeyRing>.Instance));
        var place = WaitingTokens.NewPlaceId();
        var old = tokens.Issue("concert", place);

        options.Set(Keys(("new", OtherSecret), ("old", TestConfig.TestSecret)));
        Assert.True(tokens.TryRead(old, out var room, out var read));
        Assert.Equal(("concert", place), (room, read));
        Assert.NotEqual(old, tokens.Issue("concert", place)); // the new key MACs new tokens

        options.Set(Keys(("new", OtherSecret)));
        Assert.False(tokens.TryRead(old, out _, out _));
    }

    [Fact]
    public void APlace_CannotBeCarriedToAnotherRoom()
    {
        var tokens = new WaitingTokens(TestKeys.Ring());
        var token = tokens.Issue("concert", WaitingTokens.NewPlaceId());

        Assert.True(tokens.TryRead(token, out _, out _));
        Assert.False(tokens.TryRead("festival" + token["concert".Length..], out _, out _));
    }

    private static WaitingRoomOptions Keys(params (string Id, string Secret)[] keys) =>
        new() { SigningKeys = [.. keys.Select(k => new SigningKeyOptions { Id = k.Id, Secret = k.Secret })] };
}
