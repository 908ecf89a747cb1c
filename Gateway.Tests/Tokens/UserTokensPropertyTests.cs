using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Gateway.Admission.Tokens;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Tokens;

/// <summary>
/// <see cref="UserTokens.ValidateAsync"/> whatever the <c>user_token</c>: random text and JWT look-alikes (random
/// headers and claims of every JSON type, signed with the right key, another key or not at all, with 1 to 6
/// segments) get a refusal with a reason, never an exception; only a token signed with the origin's key is ever accepted.
/// </summary>
[Properties(Arbitrary = [typeof(HostileInput), typeof(UserTokensPropertyTests)], MaxTest = 5_000, Replay = "2026120111,1208070909")]
[Trait("Category", "Fast")]
public sealed class UserTokensPropertyTests
{
    private const string Room = "concert";
    private static readonly long Now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
    private readonly UserTokens _tokens = new(TestKeys.Monitor());

    public static Arbitrary<JwtLike> Tokens() => Arb.From(JwtLikeTokens());

    public static Arbitrary<SignedClaims> Claims() => Arb.From(Json(PayloadMembers()).Select(payload => new SignedClaims(payload)));

    [Property]
    public async Task AnyString_IsRefusedWithAReason_WithoutThrowing(HostileString token)
    {
        var (subject, problem) = await _tokens.ValidateAsync(token.Value, Room);
        Assert.Null(subject);
        Assert.False(string.IsNullOrWhiteSpace(problem));
    }

    [Property(MaxTest = 3_000)]
    public async Task AJwtLookingToken_IsRefusedWithAReason_OrAcceptedOnlyWhenSignedWithTheOriginsKey(JwtLike token)
    {
        var (subject, problem) = await _tokens.ValidateAsync(token.Token, Room);
        if (subject is null)
        {
            Assert.False(string.IsNullOrWhiteSpace(problem));
            return;
        }
        Assert.True(token.SignedWithTheKey, "accepted without the origin's signature");
        Assert.InRange(subject.Length, 1, 256);
        Assert.Equal("", problem);
    }

    [Property(MaxTest = 3_000)]
    public async Task ATokenSignedWithTheOriginsKey_WithClaimsOfAnyType_IsRefusedWithAReason_OrAcceptedForItsSub(SignedClaims claims)
    {
        var token = Sign($$"""{"alg":"HS256","kid":"{{TestKeys.IdentityKeyId}}","typ":"JWT"}""", claims.Payload, TestKeys.IdentitySecret);
        var (subject, problem) = await _tokens.ValidateAsync(token, Room);
        if (subject is null)
        {
            Assert.False(string.IsNullOrWhiteSpace(problem));
            return;
        }
        // The origin is trusted with what it signs: a sub it signed as a number is read as that number's text.
        using var payload = System.Text.Json.JsonDocument.Parse(claims.Payload);
        var sub = payload.RootElement.GetProperty("sub");
        if (sub.ValueKind == System.Text.Json.JsonValueKind.String)
            Assert.Equal(sub.GetString(), subject);
        Assert.InRange(subject.Length, 1, 256);
    }

    [Fact]
    public async Task AWellFormedToken_SignedWithTheOriginsKey_IsAccepted()
    {
        var token = Sign($$"""{"alg":"HS256","kid":"{{TestKeys.IdentityKeyId}}","typ":"JWT"}""", $$"""{"sub":"user-1","exp":{{Now + 600}},"aud":"{{Room}}"}""", TestKeys.IdentitySecret);
        Assert.Equal(("user-1", ""), await _tokens.ValidateAsync(token, Room));
        Assert.Null((await _tokens.ValidateAsync(token, "other")).Subject);
    }

    /// <summary>JWT look-alikes: headers and payloads from pieces of every JSON type, encoded well or badly, signed in several ways.</summary>
    private static Gen<JwtLike> JwtLikeTokens() =>
        from header in Json(HeaderMembers())
        from payload in Json(PayloadMembers())
        from headerSegment in Segment(header)
        from payloadSegment in Segment(payload)
        from signing in Gen.Frequency((5, Gen.Constant(0)), (1, Gen.Constant(1)), (3, Gen.Constant(2)), (1, Gen.Constant(3)))
        from junk in HostileInput.Text()
        from randomSignature in HostileInput.Base64UrlText(90)
        from shape in Gen.Frequency((8, Gen.Constant(3)), (1, Gen.Constant(1)), (1, Gen.Constant(2)), (1, Gen.Constant(4)), (1, Gen.Constant(5)), (1, Gen.Constant(6)))
        select Assemble(headerSegment, payloadSegment, signing, randomSignature, junk, shape);

    private static JwtLike Assemble(string header, string payload, int signing, string randomSignature, string junk, int segments)
    {
        var signed = header + "." + payload;
        var signature = signing switch
        {
            0 => Signature(signed, TestKeys.IdentitySecret),
            1 => Signature(signed, "some-other-origin-key-32-bytes!!"u8.ToArray()),
            2 => randomSignature,
            _ => junk,
        };
        var parts = new List<string> { header, payload, signature };
        while (parts.Count < segments)
            parts.Add(parts.Count % 2 == 0 ? randomSignature : payload);
        var token = string.Join('.', parts.Take(segments));
        return new JwtLike(token, signing == 0 && segments == 3);
    }

    private static Gen<string> Segment(string json) => Gen.Frequency(
        (20, Gen.Constant(Base64Url.EncodeToString(Encoding.UTF8.GetBytes(json)))),
        (1, Gen.Constant(Convert.ToBase64String(Encoding.UTF8.GetBytes(json)))),
        (1, Gen.Constant(json)),
        (1, HostileInput.Text()));

    private static Gen<string> Json(Gen<string[]> members) => Gen.Frequency(
        (20, members.Select(m => "{" + string.Join(',', m) + "}")),
        (1, Value()),
        (1, HostileInput.Text()));

    private static Gen<string[]> HeaderMembers() =>
        from alg in Gen.Frequency((16, Gen.Constant("\"HS256\"")), (1, Gen.Elements("\"none\"", "\"RS256\"", "\"HS512\"", "\"hs256\"", "\"\"", "\"dir\"")), (1, Value()))
        from kid in Gen.Frequency((16, Gen.Constant($"\"{TestKeys.IdentityKeyId}\"")), (1, Gen.Elements("\"other\"", "\"\"", "\"ORIGIN\"")), (1, Value()))
        from extras in Sometimes("\"typ\":\"JWT\"", "\"cty\":\"JWT\"", "\"enc\":\"A128GCM\"", "\"zip\":\"DEF\"", "\"crit\":[\"exp\"]", "\"b64\":false",
            "\"jku\":\"http://127.0.0.1:1/keys\"", "\"x5u\":\"http://127.0.0.1:1/x5\"", "\"jwk\":{\"kty\":\"oct\",\"k\":\"AAAA\"}", "\"alg\":\"none\"")
        from dropAlg in Gen.Frequency((19, Gen.Constant(false)), (1, Gen.Constant(true)))
        from dropKid in Gen.Frequency((19, Gen.Constant(false)), (1, Gen.Constant(true)))
        select (string[])[.. dropAlg ? [] : new[] { "\"alg\":" + alg }, .. dropKid ? [] : new[] { "\"kid\":" + kid }, .. extras];

    private static Gen<string[]> PayloadMembers() =>
        from sub in Gen.Frequency((6, Gen.Elements("\"user-1\"", "\"u\"", "\"\u00e9l\u00e8ve\"", "\"a|b.c\"")), (1, Gen.Constant("\"" + new string('s', 300) + "\"")), (1, Gen.Constant("\"\"")), (2, Value()))
        from exp in Gen.Frequency(
            (12, Gen.Constant((Now + 600).ToString(CultureInfo.InvariantCulture))),
            (1, Gen.Constant((Now - 600).ToString(CultureInfo.InvariantCulture))),
            (1, Gen.Elements("253402300800", "253402300799", "9223372036854775807", "9223372036854775808", "1e20", "-1e20", "0.5", "\"1700000000\"", "-62135596801")),
            (2, Value()))
        from aud in Gen.Frequency((4, Gen.Constant<string?>(null)), (2, Gen.Elements<string?>($"\"{Room}\"", "\"other\"", $"[\"{Room}\",\"x\"]", "[]", "[1,{}]", "[null]", "{\"a\":1}")), (1, Value().Select(v => (string?)v)))
        from extras in Sometimes("\"nbf\":1", "\"nbf\":\"x\"", "\"iat\":[]", "\"iss\":5", "\"jti\":{}", "\"sub\":\"dup\"", "\"exp\":null", "\"act\":{\"sub\":\"x\"}")
        from dropSub in Gen.Frequency((19, Gen.Constant(false)), (1, Gen.Constant(true)))
        from dropExp in Gen.Frequency((19, Gen.Constant(false)), (1, Gen.Constant(true)))
        select (string[])[.. dropSub ? [] : new[] { "\"sub\":" + sub }, .. dropExp ? [] : new[] { "\"exp\":" + exp }, .. aud is null ? [] : new[] { "\"aud\":" + aud }, .. extras];

    /// <summary>Mostly none of <paramref name="members"/>, sometimes a random selection of them.</summary>
    private static Gen<IList<string>> Sometimes(params string[] members) =>
        Gen.Frequency((3, Gen.Constant<IList<string>>([])), (1, Gen.SubListOf(members).Select(m => (IList<string>)[.. m])));

    /// <summary>A JSON value of any type, including the awkward ones (huge and non-finite numbers, deep nesting, escapes).</summary>
    private static Gen<string> Value() => Gen.Frequency(
        (4, Gen.Elements("null", "true", "false", "0", "-1", "1.5", "1e308", "1e309", "-1e309", "123456789012345678901234567890", "\"\"", "[]", "{}",
            "[1,2]", "{\"a\":{\"b\":[]}}", "\"\\ud800\"", "\"\\u0000\"", "NaN", "Infinity", "01", "[", "{\"a\"", "\"unterminated")),
        (1, Gen.Choose(1, 3_000).Select(depth => new string('[', depth) + new string(']', depth))),
        (1, Gen.Choose(1, 500).Select(depth => string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth))),
        (2, HostileInput.Text().Select(s => System.Text.Json.JsonSerializer.Serialize(s))));

    private static string Sign(string header, string payload, byte[] key)
    {
        var signed = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(header)) + "." + Base64Url.EncodeToString(Encoding.UTF8.GetBytes(payload));
        return signed + "." + Signature(signed, key);
    }

    private static string Signature(string signed, byte[] key) => Base64Url.EncodeToString(HMACSHA256.HashData(key, Encoding.ASCII.GetBytes(signed)));

    public sealed record SignedClaims(string Payload)
    {
        public override string ToString() => HostileInput.Describe(Payload);
    }

    public sealed record JwtLike(string Token, bool SignedWithTheKey)
    {
        public override string ToString() => HostileInput.Describe(Token) + (SignedWithTheKey ? " (signed with the origin's key)" : "");
    }
}
