using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Gateway.Admission.Tokens;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Tokens;

/// <summary>
/// Admission tokens whatever the bytes: garbage, forged MACs and one-character edits of real tokens are refused by
/// <see cref="AdmissionTokens.Verify"/> and <see cref="AdmissionTokens.TryRead"/>, and nothing throws.
/// </summary>
[Properties(Arbitrary = [typeof(HostileInput), typeof(TokenEdits)], MaxTest = 5_000, Replay = "2026120107,1208070901")]
[Trait("Category", "Fast")]
public sealed class AdmissionTokensPropertyTests
{
    private const string Room = "concert";
    private static readonly FakeTimeProvider Time = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly AdmissionTokens _tokens = new(TestKeys.Ring(), Time);

    [Property]
    public void AnyString_IsRefused_WithoutThrowing(HostileString token)
    {
        Assert.Null(_tokens.Verify(token.Value, Room));
        Assert.False(_tokens.TryRead(token.Value, out _, out _));
    }

    [Property]
    public void ARightlyShapedPayload_WithAForgedMac_IsRefused(HostileString admissionId, HostileString mac)
    {
        var payload = $"2|{Room}|{admissionId.Value}|{Time.GetUtcNow().AddHours(1).ToUnixTimeSeconds()}|test";
        var forged = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(payload)) + "." + mac.Value;
        var random = Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(mac.Value)));

        Assert.Null(_tokens.Verify(forged, Room));
        Assert.Null(_tokens.Verify(forged[..(forged.IndexOf('.', StringComparison.Ordinal) + 1)] + random, Room));
        Assert.False(_tokens.TryRead(forged, out _, out _));
    }

    [Property]
    public void AnIssuedToken_IsAccepted_AndEverySingleCharacterEditOfIt_IsRefused(Edit edit)
    {
        var admissionId = WaitingTokens.NewPlaceId();
        var token = _tokens.Issue(Room, admissionId, Time.GetUtcNow().AddMinutes(10));
        Assert.Equal(admissionId, _tokens.Verify(token, Room));
        Assert.True(_tokens.TryRead(token, out var room, out var id));
        Assert.Equal((Room, admissionId), (room, id));

        var edited = edit.ApplyTo(token);
        Assert.Null(_tokens.Verify(edited, Room));
        Assert.False(_tokens.TryRead(edited, out _, out _));
    }

    [Property(MaxTest = 500)]
    public void AnIssuedToken_OpensOnlyItsOwnRoom_AndOnlyUntilItExpires(PositiveInt secondsLeft)
    {
        var tokens = new AdmissionTokens(TestKeys.Ring(), new FakeTimeProvider(Time.GetUtcNow()));
        var expires = Time.GetUtcNow().AddSeconds((secondsLeft.Get % 100_000) + 1);
        var token = tokens.Issue(Room, "a", expires);

        Assert.Null(tokens.Verify(token, "other"));
        Assert.Null(tokens.Verify(token, "Concert"));
        Assert.Equal("a", tokens.Verify(token, Room));
        var later = new AdmissionTokens(TestKeys.Ring(), new FakeTimeProvider(expires));
        Assert.Null(later.Verify(token, Room));
        Assert.False(later.TryRead(token, out _, out _));
    }
}

/// <summary>One edit of one character of a token: replaced by another character, removed, or preceded by an inserted one.</summary>
public sealed record Edit(double Where, int Kind, string Character)
{
    public string ApplyTo(string token)
    {
        var at = Math.Min(token.Length - 1, (int)(Where * token.Length));
        return Kind switch
        {
            0 => token.Remove(at, 1),
            1 => token.Insert(at, Character),
            _ => token[at].ToString() == Character ? token.Remove(at, 1).Insert(at, Different(token[at])) : token.Remove(at, 1).Insert(at, Character),
        };
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{(Kind == 0 ? "remove" : Kind == 1 ? "insert" : "replace")} at {Where:0.000} with {HostileInput.Describe(Character)}");

    private static string Different(char c) => c == 'A' ? "B" : "A";
}

/// <summary>Edits that matter most: mostly within the base64url alphabet and the separators, sometimes any character.</summary>
public static class TokenEdits
{
    public static Arbitrary<Edit> Edits() => Arb.From(
        from position in Gen.Choose(0, 9_999).Select(i => i / 10_000.0)
        from kind in Gen.Frequency((1, Gen.Constant(0)), (1, Gen.Constant(1)), (6, Gen.Constant(2)))
        from character in Gen.Frequency(
            (8, Gen.Elements(HostileInput.Base64UrlAlphabet.Select(c => c.ToString()).ToArray())),
            (2, Gen.Elements(".", "|", "=", "+", "/", " ", "%", "\0")),
            (1, HostileInput.Drawn(1, 1, HostileInput.NonAsciiPiece)))
        select new Edit(position, kind, character));
}
