using System.Net;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Gate;

/// <summary>Operators toggle the waiting room and change rates in appsettings; the running gateway follows.</summary>
public sealed class LiveToggleTests
{
    [Fact]
    public async Task RemovingAndAddingWaitingRoomMetadata_UngatesAndGatesTheRoute_WithoutRestart()
    {
        await using var bed = await GatewayTestBed.StartAsync(null);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await bed.Client.Http.GetAsync("/api/inventory")).StatusCode);

        bed.Settings.Remove("ReverseProxy:Routes:inventory:Metadata:WaitingRoom");
        await bed.Gateway.RewriteConfigAsync(bed.Settings);
        await Eventually.TrueAsync(async () => (await bed.Client.Http.GetAsync("/api/inventory")).StatusCode == HttpStatusCode.OK, because: "ungated");
        Assert.Equal(HttpStatusCode.TooManyRequests, (await bed.Client.Http.GetAsync("/api/payments")).StatusCode); // others still gated

        bed.Settings["ReverseProxy:Routes:inventory:Metadata:WaitingRoom"] = bed.Room;
        await bed.Gateway.RewriteConfigAsync(bed.Settings);
        await Eventually.TrueAsync(async () => (await bed.Client.Http.GetAsync("/api/inventory")).StatusCode == HttpStatusCode.TooManyRequests, because: "gated again");
    }

    [Fact]
    public async Task ChangingARoomsRate_TakesEffectWithoutRestart()
    {
        await using var bed = await GatewayTestBed.StartAsync(null, capacity: 1, refill: 0.001);
        await bed.Client.JoinAsync(bed.Room, "head");
        var (_, second, _) = await bed.Client.JoinAsync(bed.Room, "second");
        var token = second["waiting_token"]!.GetValue<string>();
        Assert.Equal("waiting", (await bed.Client.StatusAsync(token)).Body["status"]!.GetValue<string>());

        bed.Settings[$"WaitingRoom:Rooms:{bed.Room}:RefillPerSecond"] = "50";
        await bed.Gateway.RewriteConfigAsync(bed.Settings);

        await Eventually.TrueAsync(async () => (await bed.Client.StatusAsync(token)).Body["status"]!.GetValue<string>() == "ready", because: "the faster rate admits the second user");
    }

    [Fact]
    public async Task RouteGatedByAnUnknownRoom_InAReload_IsRejected_AndTheRouteStaysGated()
    {
        await using var bed = await GatewayTestBed.StartAsync(null);
        bed.Settings["ReverseProxy:Routes:inventory:Metadata:WaitingRoom"] = "no-such-room";
        await bed.Gateway.RewriteConfigAsync(bed.Settings);
        await Task.Delay(TimeSpan.FromSeconds(2));

        using var response = await bed.Client.Http.GetAsync("/api/inventory");
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode); // still gated by the old, valid room
    }
}
