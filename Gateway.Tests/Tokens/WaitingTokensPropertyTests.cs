using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Gateway.Admission.Tokens;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Tokens;

/// <summary>
/// Waiting tokens whatever the bytes: <see cref="WaitingTokens.TryRead"/> refuses garbage, every token of the right
/// shape the gateway did not issue (its MAC) and every one-character edit of a token it did, and never throws.
/// </summary>
[Properties(Arbitrary = [typeof(HostileInput), typeof(TokenEdits), typeof(WaitingTokensPropertyTests)], MaxTest = 5_000, Replay = "2026120108,1208070903")]
[Trait("Category", "Fast")]
public sealed class WaitingTokensPropertyTests
{
    private readonly WaitingTokens _tokens = new(TestKeys.Ring());

    /// <summary>Strings of exactly the waiting-token shape: a valid room id, a dot, 22 base64url characters, a dot, 22 more.</summary>
    public static Arbitrary<RightlyShaped> Shaped() => Arb.From(
        from room in HostileInput.Drawn(1, 64, HostileInput.Base64UrlChar)
        from place in HostileInput.Drawn(Mac.Chars, Mac.Chars, HostileInput.Base64UrlChar)
        from mac in HostileInput.Drawn(Mac.Chars, Mac.Chars, HostileInput.Base64UrlChar)
        select new RightlyShaped(room + "." + place + "." + mac));

    [Property]
    public void AnyString_IsRefused_WithoutThrowing(HostileString token)
    {
        Assert.False(_tokens.TryRead(token.Value, out var room, out var place));
        Assert.Equal("", room);
        Assert.Equal("", place);
    }

    [Property(MaxTest = 10_000)]
    public void NoStringOfTheRightShape_PassesTheMac(RightlyShaped token) =>
        Assert.False(_tokens.TryRead(token.Value, out _, out _));

    [Property]
    public void AnIssuedToken_IsAccepted_AndEverySingleCharacterEditOfIt_IsRefused(Edit edit)
    {
        var place = WaitingTokens.NewPlaceId();
        var token = _tokens.Issue("concert", place);
        Assert.True(_tokens.TryRead(token, out var room, out var read));
        Assert.Equal(("concert", place), (room, read));

        Assert.False(_tokens.TryRead(edit.ApplyTo(token), out _, out _));
    }

    [Property(MaxTest = 500)]
    public void ATokenIssuedUnderAnotherKey_IsRefused(HostileString place)
    {
        var other = new WaitingTokens(new KeyRing(
            new StaticOptionsMonitor<Admission.Rooms.WaitingRoomOptions>(new() { SigningKeys = [new SigningKeyOptions { Id = "x", Secret = Convert.ToBase64String(new byte[32]) }] }),
            Microsoft.Extensions.Logging.Abstractions.NullLogger<KeyRing>.Instance));
        var id = WaitingTokens.NewPlaceId();
        Assert.False(_tokens.TryRead(other.Issue("concert", id), out _, out _));
        Assert.True(other.TryRead(other.Issue("concert", id), out _, out _));
        Assert.False(other.TryRead(place.Value, out _, out _));
    }

    public sealed record RightlyShaped(string Value)
    {
        public override string ToString() => HostileInput.Describe(Value);
    }
}
