using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Gateway.Admission.Tokens;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Tokens;

/// <summary>
/// The identity cookie (<c>wr_id</c>) whatever the bytes: <see cref="CallerIdentity.Read"/> answers null for garbage,
/// for any cookie of the right shape the gateway did not mint and for any one-character edit of one it did.
/// </summary>
[Properties(Arbitrary = [typeof(HostileInput), typeof(TokenEdits), typeof(CallerIdentityPropertyTests)], MaxTest = 5_000, Replay = "2026120109,1208070905")]
[Trait("Category", "Fast")]
public sealed class CallerIdentityPropertyTests
{
    private readonly CallerIdentity _identity = new(TestKeys.Ring());

    /// <summary>Cookies of exactly the right shape: 22 base64url characters, a dot, 22 more.</summary>
    public static Arbitrary<RightlyShaped> Shaped() => Arb.From(
        from id in HostileInput.Drawn(Mac.Chars, Mac.Chars, HostileInput.Base64UrlChar)
        from mac in HostileInput.Drawn(Mac.Chars, Mac.Chars, HostileInput.Base64UrlChar)
        select new RightlyShaped(id + "." + mac));

    [Property]
    public void AnyString_IsNoIdentity_WithoutThrowing(HostileString cookie) => Assert.Null(_identity.Read(cookie.Value));

    [Property(MaxTest = 10_000)]
    public void NoCookieOfTheRightShape_PassesTheMac(RightlyShaped cookie) => Assert.Null(_identity.Read(cookie.Value));

    [Property]
    public void AMintedCookie_IsRead_AndEverySingleCharacterEditOfIt_IsNot(Edit edit)
    {
        var (cookie, caller) = _identity.Mint();
        Assert.Equal(caller, _identity.Read(cookie));
        Assert.Null(_identity.Read(edit.ApplyTo(cookie)));
    }

    public sealed record RightlyShaped(string Value)
    {
        public override string ToString() => HostileInput.Describe(Value);
    }
}
