using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Gateway.Admission.Rooms;
using Gateway.Admission.Tokens;
using Gateway.EtaSimulation.Engine;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Tokens;

/// <summary>
/// Admission tokens by example, where the property tests do not reach: the expiry second of a token already
/// verified (and so remembered), key rotation by configuration reload, a key id the gateway does not know and
/// a field changed under a valid MAC.
/// </summary>
[Trait("Category", "Fast")]
public sealed class AdmissionTokensTests
{
    private const string Room = "concert";
    private const string OtherSecret = "YW5vdGhlci1zaWduaW5nLWtleS1hbm90aGVyLWtleSE=";

    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 24, 10, 0, 0, TimeSpan.Zero));

    [Fact]
    public void AVerifiedToken_OpensUntilTheSecondBeforeItsExpiry_AndNotFromItsExpiry()
    {
        var tokens = new AdmissionTokens(TestKeys.Ring(), _clock);
        var expires = _clock.GetUtcNow().AddMinutes(10);
        var token = tokens.Issue(Room, "a1", expires);
        Assert.Equal("a1", tokens.Verify(token, Room));

        _clock.SetUtcNow(expires.AddSeconds(-1));
        Assert.Equal("a1", tokens.Verify(token, Room));
        Assert.True(tokens.TryRead(token, out _, out _));

        _clock.SetUtcNow(expires);
        Assert.Null(tokens.Verify(token, Room));
        Assert.False(tokens.TryRead(token, out _, out _));
    }

    [Fact]
    public void AfterRotation_TheOldKeysTokensStillOpen_AndStopAtOnceWhenTheOldKeyIsRemoved()
    {
        var options = new MutableOptionsMonitor<WaitingRoomOptions>(Keys(("old", TestConfig.TestSecret)));
        var tokens = new AdmissionTokens(new KeyRing(options, NullLogger<KeyRing>.Instance), _clock);
        var old = tokens.Issue(Room, "a1", _clock.GetUtcNow().AddMinutes(10));

        options.Set(Keys(("new", OtherSecret), ("old", TestConfig.TestSecret)));
        Assert.Equal("a1", tokens.Verify(old, Room));
        Assert.EndsWith("|new", Payload(tokens.Issue(Room, "a2", _clock.GetUtcNow().AddMinutes(10))), StringComparison.Ordinal);

        options.Set(Keys(("new", OtherSecret)));
        Assert.Null(tokens.Verify(old, Room));
    }

    [Fact]
    public void ATokenNamingAKeyIdTheGatewayDoesNotHave_IsRefused_EvenWithAKnownKeysMac()
    {
        var tokens = new AdmissionTokens(TestKeys.Ring(), _clock);
        var expiry = _clock.GetUtcNow().AddMinutes(10).ToUnixTimeSeconds();
        Assert.Equal("a1", tokens.Verify(Sign($"2|{Room}|a1|{expiry}|test"), Room)); // the hand-made token is right

        Assert.Null(tokens.Verify(Sign($"2|{Room}|a1|{expiry}|retired"), Room));
        Assert.Null(tokens.Verify(Sign($"2|{Room}|a1|{expiry}|old"), Room)); // "old" is known, but this is not its MAC
    }

    [Theory]
    [InlineData("2|other|a1|{0}|test")]
    [InlineData("2|concert|a2|{0}|test")]
    [InlineData("2|concert|a1|9999999999|test")]
    [InlineData("2|concert|a1|{0}|old")]
    [InlineData("3|concert|a1|{0}|test")]
    [InlineData("2|concert|a1|{0}|test|extra")]
    public void AChangedField_UnderTheMacOfTheIssuedToken_IsRefused(string changed)
    {
        var tokens = new AdmissionTokens(TestKeys.Ring(), _clock);
        var expiry = _clock.GetUtcNow().AddMinutes(10).ToUnixTimeSeconds();
        var issued = tokens.Issue(Room, "a1", DateTimeOffset.FromUnixTimeSeconds(expiry));
        var mac = issued[(issued.IndexOf('.', StringComparison.Ordinal) + 1)..];

        var forged = Base64Url.EncodeToString(Encoding.ASCII.GetBytes(string.Format(System.Globalization.CultureInfo.InvariantCulture, changed, expiry))) + "." + mac;

        Assert.Equal("a1", tokens.Verify(issued, Room));
        Assert.Null(tokens.Verify(forged, Room));
        Assert.Null(tokens.Verify(forged, "other"));
    }

    private static WaitingRoomOptions Keys(params (string Id, string Secret)[] keys) =>
        new() { SigningKeys = [.. keys.Select(k => new SigningKeyOptions { Id = k.Id, Secret = k.Secret })] };

    /// <summary>A token signed by hand with the tests' signing key ("test"), whatever key id its payload names.</summary>
    private static string Sign(string payload)
    {
        var bytes = Encoding.ASCII.GetBytes(payload);
        return Base64Url.EncodeToString(bytes) + "." + Base64Url.EncodeToString(HMACSHA256.HashData(Convert.FromBase64String(TestConfig.TestSecret), bytes));
    }

    private static string Payload(string token) =>
        Encoding.ASCII.GetString(Base64Url.DecodeFromChars(token.AsSpan(0, token.IndexOf('.', StringComparison.Ordinal))));
}
