using System.Net;
using System.Text.RegularExpressions;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Eta;

/// <summary>eta_sec, confidence and message on join and status, over HTTP, in the language the client asks for.</summary>
public sealed partial class EtaApiTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>
{
    [GeneratedRegex(@"^약 (\d+)초 예상 \(신뢰도: (높음|보통|낮음)\)$")]
    private static partial Regex Korean();

    [GeneratedRegex(@"^About (\d+) seconds? \(confidence: (high|medium|low)\)$")]
    private static partial Regex English();

    [Fact]
    public async Task JoinAndStatus_WaitingUser_GetEtaConfidenceAndAMessageInTheirLanguage()
    {
        // One token of burst, one new token every 20 s: the second user waits about 20 s, the third about 40 s
        // (less whatever refilled while a loaded machine ran the joins).
        await using var bed = await GatewayTestBed.StartAsync(redis.Server.ConnectionString, capacity: 1, refill: 0.05);
        var (_, first, _) = await bed.Client.JoinAsync(bed.Room, "first");
        Assert.Equal("ready", first["status"]!.GetValue<string>());
        Assert.Equal(0, first["eta_sec"]!.GetValue<long>());

        await bed.Client.JoinAsync(bed.Room, "second", acceptLanguage: "en-US,en;q=0.9");
        var (status, third, _) = await bed.Client.JoinAsync(bed.Room, "third", acceptLanguage: "ko-KR,ko;q=0.9,en;q=0.5");

        Assert.Equal(HttpStatusCode.Accepted, status);
        Assert.Equal(2, third["position"]!.GetValue<long>());
        var eta = third["eta_sec"]!.GetValue<long>();
        // Two tokens must still arrive, less what refilled since the first took the only one (a loaded machine can be slow).
        var elapsed = (third["server_time"]!.GetValue<DateTimeOffset>() - first["server_time"]!.GetValue<DateTimeOffset>()).TotalSeconds;
        Assert.InRange(eta, 40 - elapsed - 1.5, 40 - elapsed + 1.5);
        Assert.InRange(third["confidence"]!.GetValue<double>(), 0.05, 1);
        var korean = Korean().Match(third["message"]!.GetValue<string>());
        Assert.True(korean.Success, third["message"]!.GetValue<string>());
        Assert.Equal(eta.ToString(System.Globalization.CultureInfo.InvariantCulture), korean.Groups[1].Value);

        var token = third["waiting_token"]!.GetValue<string>();
        var (_, inEnglish, _) = await bed.Client.StatusAsync(token, acceptLanguage: "en-GB");
        Assert.Equal("waiting", inEnglish["status"]!.GetValue<string>());
        Assert.InRange(inEnglish["eta_sec"]!.GetValue<long>(), 1, eta);
        Assert.InRange(inEnglish["confidence"]!.GetValue<double>(), 0.05, 1);
        Assert.Matches(English(), inEnglish["message"]!.GetValue<string>());

        var (_, noPreference, _) = await bed.Client.StatusAsync(token);
        Assert.Matches(English(), noPreference["message"]!.GetValue<string>());
        var (_, inKorean, _) = await bed.Client.StatusAsync(token, acceptLanguage: "ko");
        Assert.Matches(Korean(), inKorean["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Status_ReadyUser_SaysSoInTheirLanguage()
    {
        await using var bed = await GatewayTestBed.StartAsync(redis.Server.ConnectionString, capacity: 5, refill: 1);
        var (_, joined, _) = await bed.Client.JoinAsync(bed.Room, "u");
        var token = joined["waiting_token"]!.GetValue<string>();

        var (_, korean, _) = await bed.Client.StatusAsync(token, acceptLanguage: "ko-KR");
        var (_, english, _) = await bed.Client.StatusAsync(token, acceptLanguage: "en-US");

        Assert.Equal("ready", korean["status"]!.GetValue<string>());
        Assert.Equal("지금 입장할 수 있습니다.", korean["message"]!.GetValue<string>());
        Assert.Equal("It's your turn: you can enter now.", english["message"]!.GetValue<string>());
        Assert.Equal(0, english["eta_sec"]!.GetValue<long>());
    }
}
