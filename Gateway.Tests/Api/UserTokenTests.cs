using System.Net;
using System.Security.Claims;
using System.Text;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Tests.Api;

/// <summary>
/// Verified identities (CONTRACT v2): a user_token signed by the operator's origin gives the same person the
/// same place from any device; anything not signed right, expired or for another event is 401 INVALID_USER_TOKEN.
/// </summary>
public sealed class UserTokenTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>
{
    private static readonly byte[] Key = Encoding.ASCII.GetBytes("identity-key-for-tests-identity-key!");
    private static readonly byte[] OtherKey = Encoding.ASCII.GetBytes("someone-else-key-someone-else-key-!!");

    private static void Identity(Dictionary<string, string?> s)
    {
        s["WaitingRoom:Identity:Keys:0:Id"] = "origin-1";
        s["WaitingRoom:Identity:Keys:0:Secret"] = Convert.ToBase64String(Key);
    }

    private static string Token(string subject, string? audience = null, DateTime? expires = null, byte[]? key = null, string? kid = "origin-1", string algorithm = SecurityAlgorithms.HmacSha256)
    {
        var signing = new SymmetricSecurityKey(key ?? Key) { KeyId = kid };
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Subject = new ClaimsIdentity([new Claim("sub", subject)]),
            Audience = audience,
            NotBefore = DateTime.UtcNow.AddMinutes(-10),
            IssuedAt = DateTime.UtcNow.AddMinutes(-10),
            Expires = expires ?? DateTime.UtcNow.AddMinutes(10),
            SigningCredentials = new SigningCredentials(signing, algorithm),
        });
    }

    private static async Task<(HttpStatusCode Status, JsonObject Body)> JoinAsync(HttpClient http, string room, string? userToken)
    {
        var body = new JsonObject { ["event_id"] = room };
        if (userToken is not null)
            body["user_token"] = userToken;
        using var response = await http.PostAsync("/api/v1/queue/join", new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject());
    }

    [Fact]
    public async Task UserToken_FromABrowserThatJoinedBeforeSigningIn_GetsThatPlace_NotASecond()
    {
        await using var bed = await GatewayTestBed.StartAsync(redis.Server.ConnectionString, Identity, capacity: 1, refill: 0.001);
        using var browser = bed.Gateway.CreateClient(useCookies: true);
        using var phone = bed.Gateway.CreateClient();
        await bed.Client.JoinAsync(bed.Room, "head");

        var (_, anonymous) = await JoinAsync(browser, bed.Room, null);
        var (status, signedIn) = await JoinAsync(browser, bed.Room, Token("alice@example.com"));
        var (_, elsewhere) = await JoinAsync(phone, bed.Room, Token("alice@example.com"));
        var (_, cookieAlone) = await JoinAsync(browser, bed.Room, null);
        var (_, bob) = await JoinAsync(browser, bed.Room, Token("bob@example.com"));

        Assert.Equal(HttpStatusCode.Accepted, status);
        var place = anonymous["waiting_token"]!.ToString();
        Assert.Equal(place, signedIn["waiting_token"]!.ToString()); // the browser's place became alice's
        Assert.Equal(place, elsewhere["waiting_token"]!.ToString()); // from any device
        Assert.Equal(place, cookieAlone["waiting_token"]!.ToString());
        Assert.NotEqual(place, bob["waiting_token"]!.ToString()); // another user on that browser: their own place
        Assert.Equal(2, bob["position"]!.GetValue<long>());
    }

    [Fact]
    public async Task UserToken_SameSubjectOnTwoDevices_GetsTheSamePlace_AnotherSubjectItsOwn()
    {
        await using var bed = await GatewayTestBed.StartAsync(redis.Server.ConnectionString, Identity, capacity: 1, refill: 0.001);
        using var phone = bed.Gateway.CreateClient();
        using var laptop = bed.Gateway.CreateClient();
        await bed.Client.JoinAsync(bed.Room, "head");

        var (status, first) = await JoinAsync(phone, bed.Room, Token("alice@example.com", audience: bed.Room));
        var (_, again) = await JoinAsync(laptop, bed.Room, Token("alice@example.com"));
        var (_, bob) = await JoinAsync(laptop, bed.Room, Token("bob@example.com"));

        Assert.Equal(HttpStatusCode.Accepted, status);
        Assert.Equal(first["waiting_token"]!.ToString(), again["waiting_token"]!.ToString());
        Assert.Equal(1, again["position"]!.GetValue<long>());
        Assert.NotEqual(first["waiting_token"]!.ToString(), bob["waiting_token"]!.ToString());
        Assert.Equal(2, bob["position"]!.GetValue<long>());
    }

    public static TheoryData<string> BadTokens => new()
    {
        "wrong key",
        "expired",
        "other event",
        "no kid",
        "unknown kid",
        "none algorithm",
        "expired seconds ago",
        "not a jwt",
        "empty",
    };

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task UserToken_BadExpiredForeignOrUnsigned_Is401InvalidUserToken_AndTakesNoPlace(string kind)
    {
        await using var bed = await GatewayTestBed.StartAsync(null, Identity);
        var token = kind switch
        {
            "wrong key" => Token("alice", key: OtherKey),
            "expired" => Token("alice", expires: DateTime.UtcNow.AddMinutes(-5)),
            "expired seconds ago" => Token("alice", expires: DateTime.UtcNow.AddSeconds(-10)),
            "other event" => Token("alice", audience: "another-event"),
            "no kid" => Token("alice", kid: null),
            "unknown kid" => Token("alice", kid: "origin-9"),
            "none algorithm" => Unsigned("alice"),
            "not a jwt" => "abc.def.ghi",
            _ => "",
        };

        var (status, body) = await JoinAsync(bed.Client.Http, bed.Room, token);

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("INVALID_USER_TOKEN", body["error"]!["code"]!.GetValue<string>());
        Assert.Null(body["waiting_token"]);
    }

    [Fact]
    public async Task IdentityRequired_JoinWithoutAUserToken_Is401_AndWithOneJoins()
    {
        await using var bed = await GatewayTestBed.StartAsync(null, s =>
        {
            Identity(s);
            s["WaitingRoom:Identity:Required"] = "true";
        });

        var (without, body) = await JoinAsync(bed.Client.Http, bed.Room, null);
        var (with, _) = await JoinAsync(bed.Client.Http, bed.Room, Token("alice"));

        Assert.Equal(HttpStatusCode.Unauthorized, without);
        Assert.Equal("INVALID_USER_TOKEN", body["error"]!["code"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Accepted, with);
    }

    [Theory]
    [InlineData("alice\n")]
    [InlineData("alice\r\n")]
    [InlineData("al|ice")]
    [InlineData("")]
    public async Task UserId_WithATrailingNewlineOrAForbiddenCharacter_Is400(string userId)
    {
        await using var bed = await GatewayTestBed.StartAsync(null);
        var body = new JsonObject { ["event_id"] = bed.Room, ["user_id"] = userId }.ToJsonString();

        using var response = await bed.Client.Http.PostAsync("/api/v1/queue/join", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("INVALID_USER_ID", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    /// <summary>A token with alg "none": the handler must refuse it whatever its claims.</summary>
    private static string Unsigned(string subject)
    {
        static string Part(string json) => System.Buffers.Text.Base64Url.EncodeToString(Encoding.UTF8.GetBytes(json));
        return Part("""{"alg":"none","typ":"JWT","kid":"origin-1"}""") + "." + Part($$"""{"sub":"{{subject}}","exp":{{DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeSeconds()}}}""") + ".";
    }
}
