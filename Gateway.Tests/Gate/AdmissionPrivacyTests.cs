using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Gate;

/// <summary>
/// An admission is a bearer capability the backends never see (CONTRACT v2), that reveals nothing of the
/// waiting token, and that ends when its holder leaves or a backend says so: on every instance.
/// </summary>
public sealed class AdmissionPrivacyTests(RedisServerFixture redis) : IClassFixture<RedisServerFixture>
{
    [Fact]
    public async Task Backend_NeverSeesTheAdmissionHeaderNorTheGatewaysCookies_ButKeepsItsOwn()
    {
        await using var bed = await GatewayTestBed.StartAsync(null);
        var (_, joined, joinResponse) = await bed.Client.JoinAsync(bed.Room, "u");
        var identity = joinResponse.Headers.GetValues("Set-Cookie").First().Split(';')[0];
        var (_, entered, enterResponse) = await bed.Client.EnterAsync(joined["waiting_token"]!.GetValue<string>());
        var admissionCookie = enterResponse.Headers.GetValues("Set-Cookie").First().Split(';')[0];
        var admission = entered["reservation_token"]!.GetValue<string>();

        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/inventory/_backend/echo");
        request.Headers.Add("X-Admission-Token", admission);
        request.Headers.Add("Cookie", $"session=abc; {admissionCookie}; {identity}; theme=dark");
        using var response = await bed.Client.Http.SendAsync(request);
        var echoed = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var headers = JsonNode.Parse(echoed)!["headers"]!.AsObject();
        Assert.Null(headers["x-admission-token"]);
        Assert.DoesNotContain(admission, echoed, StringComparison.Ordinal);
        Assert.DoesNotContain("wr_adm_", echoed, StringComparison.Ordinal);
        Assert.DoesNotContain("wr_id", echoed, StringComparison.Ordinal);
        Assert.Equal("session=abc; theme=dark", headers["cookie"]!.ToString());
    }

    [Fact]
    public async Task AdmissionToken_CarriesNothingOfTheWaitingToken()
    {
        await using var bed = await GatewayTestBed.StartAsync(null);
        var waiting = (await bed.Client.JoinAsync(bed.Room, "u")).Body["waiting_token"]!.GetValue<string>();
        var admission = (await bed.Client.EnterAsync(waiting)).Body["reservation_token"]!.GetValue<string>();

        var payload = Encoding.ASCII.GetString(System.Buffers.Text.Base64Url.DecodeFromChars(admission.Split('.')[0]));
        var placeId = waiting.Split('.')[1];
        var placeMac = waiting.Split('.')[2];

        Assert.DoesNotContain(placeId, payload, StringComparison.Ordinal);
        Assert.DoesNotContain(placeMac, payload, StringComparison.Ordinal);
        Assert.DoesNotContain(placeId, admission, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Leave_WithAnAdmittedToken_EndsTheAdmission_OnEveryInstance()
    {
        await using var bed = await GatewayTestBed.StartAsync(redis.Server.ConnectionString);
        await using var second = await GatewayHost.StartAsync(redis.Server.ConnectionString, bed.Settings);
        using var other = second.CreateClient();
        var waiting = (await bed.Client.JoinAsync(bed.Room, "u")).Body["waiting_token"]!.GetValue<string>();
        var admission = (await bed.Client.EnterAsync(waiting)).Body["reservation_token"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.OK, await GatedAsync(other, admission));

        Assert.Equal(HttpStatusCode.NoContent, await bed.Client.LeaveAsync(waiting));

        Assert.Equal(HttpStatusCode.TooManyRequests, await GatedAsync(bed.Client.Http, admission)); // this instance at once
        await Eventually.TrueAsync(async () => await GatedAsync(other, admission) == HttpStatusCode.TooManyRequests, TimeSpan.FromSeconds(2), "the other instance within 2 s");
        Assert.Equal(HttpStatusCode.NotFound, (await bed.Client.StatusAsync(waiting)).Status);
    }

    [Fact]
    public async Task OriginRevokeHeader_EndsTheCallersAdmission_OnEveryInstance_AndNeverReachesTheClient()
    {
        await using var bed = await GatewayTestBed.StartAsync(redis.Server.ConnectionString);
        await using var second = await GatewayHost.StartAsync(redis.Server.ConnectionString, bed.Settings);
        using var other = second.CreateClient();
        var admission = await bed.Client.AdmitAsync(bed.Room, "u");
        var revoker = (await bed.Client.AdmitAsync(bed.Room, "bystander"));

        // The sample inventory echoes a response header when asked (/_backend/echo?respond-header=...).
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/inventory/_backend/echo?respond-header=X-Waiting-Room-Command:revoke");
        request.Headers.Add("X-Admission-Token", admission);
        using var response = await bed.Client.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("X-Waiting-Room-Command"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await GatedAsync(bed.Client.Http, admission));
        await Eventually.TrueAsync(async () => await GatedAsync(other, admission) == HttpStatusCode.TooManyRequests, TimeSpan.FromSeconds(2), "the other instance within 2 s");
        Assert.Equal(HttpStatusCode.OK, await GatedAsync(other, revoker)); // only that admission
    }

    /// <summary>The command sent twice, beside another one in a list, or in another case still ends the admission.</summary>
    [Theory]
    [InlineData("respond-header=X-Waiting-Room-Command:revoke&respond-header=X-Waiting-Room-Command:revoke")]
    [InlineData("respond-header=X-Waiting-Room-Command:refresh,%20REVOKE")]
    [InlineData("respond-header=X-Waiting-Room-Command:refresh&respond-header=x-waiting-room-command:%20Revoke%20")]
    public async Task OriginRevokeHeader_RepeatedOrInAList_StillEndsTheAdmission(string query)
    {
        await using var bed = await GatewayTestBed.StartAsync(null);
        var admission = await bed.Client.AdmitAsync(bed.Room, "u");

        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/inventory/_backend/echo?" + query);
        request.Headers.Add("X-Admission-Token", admission);
        using var response = await bed.Client.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("X-Waiting-Room-Command"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await GatedAsync(bed.Client.Http, admission));
    }

    [Fact]
    public async Task OriginCommandHeader_OtherThanRevoke_LeavesTheAdmission()
    {
        await using var bed = await GatewayTestBed.StartAsync(null);
        var admission = await bed.Client.AdmitAsync(bed.Room, "u");

        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/inventory/_backend/echo?respond-header=X-Waiting-Room-Command:revoked,%20refresh");
        request.Headers.Add("X-Admission-Token", admission);
        using var response = await bed.Client.Http.SendAsync(request);

        Assert.False(response.Headers.Contains("X-Waiting-Room-Command"));
        Assert.Equal(HttpStatusCode.OK, await GatedAsync(bed.Client.Http, admission));
    }

    /// <summary>
    /// Lowering AdmissionTtl (a config reload) does not bring a revoked admission back: its token keeps the expiry it was
    /// signed with, so its revocation is kept as long, by the store and by every gate.
    /// </summary>
    [Fact]
    public async Task RevokedAdmission_StaysRevoked_AfterAdmissionTtlIsLowered()
    {
        await using var bed = await GatewayTestBed.StartAsync(redis.Server.ConnectionString, 
            s => s[s.Keys.Single(k => k.StartsWith("WaitingRoom:Rooms:", StringComparison.Ordinal) && k.EndsWith(":Capacity", StringComparison.Ordinal))[..^"Capacity".Length] + "AdmissionTtl"] = "00:00:30");
        var admission = await bed.Client.AdmitAsync(bed.Room, "u");
        await bed.Client.JoinAsync(bed.Room, "bystander"); // a place keeps the room in use: an idle room's ticks only read
        using (var request = new HttpRequestMessage(HttpMethod.Get, "/api/inventory/_backend/echo?respond-header=X-Waiting-Room-Command:revoke"))
        {
            request.Headers.Add("X-Admission-Token", admission);
            using var response = await bed.Client.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        Assert.Equal(HttpStatusCode.TooManyRequests, await GatedAsync(bed.Client.Http, admission));

        bed.Settings[$"WaitingRoom:Rooms:{bed.Room}:AdmissionTtl"] = "00:00:01";
        await bed.Gateway.RewriteConfigAsync(bed.Settings);
        // A gateway started now reads the store's revocations, pruned or not, with the lowered setting from the start.
        await using var late = await GatewayHost.StartAsync(redis.Server.ConnectionString, bed.Settings);
        using var lateClient = late.CreateClient();
        await Task.Delay(2500);

        Assert.Equal(HttpStatusCode.TooManyRequests, await GatedAsync(bed.Client.Http, admission));
        Assert.Equal(HttpStatusCode.TooManyRequests, await GatedAsync(lateClient, admission));
    }

    private static async Task<HttpStatusCode> GatedAsync(HttpClient http, string admission)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/inventory/events/x/seats");
        request.Headers.Add("X-Admission-Token", admission);
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }
}
