using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Gate;

/// <summary>
/// A gated route whose room is no longer configured (an edit of WaitingRoom that removed it) fails closed: 503
/// ROOM_NOT_CONFIGURED naming the room, for everyone, and the log says so once, not once per request.
/// </summary>
public sealed class MisconfiguredRoomTests
{
    [Fact]
    public async Task RoomRemovedUnderAGatedRoute_Refuses503NamingTheRoom_AndLogsItOnce()
    {
        using var logs = new CapturedLogs();
        await using var bed = await GatewayTestBed.StartAsync(null, host: b => b.Logging.AddProvider(logs));
        var admission = await bed.Client.AdmitAsync(bed.Room, "u");

        var edited = bed.Settings.Where(s => !s.Key.StartsWith($"WaitingRoom:Rooms:{bed.Room}:", StringComparison.Ordinal)).ToDictionary();
        edited["WaitingRoom:Rooms:elsewhere:Capacity"] = "5";
        await bed.Gateway.RewriteConfigAsync(edited);
        await logs.WaitForAsync(e => e.EventId.Id == 15 && e.Message.Contains("elsewhere", StringComparison.Ordinal), "the rooms' reload");

        for (var i = 0; i < 20; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/inventory/events/x/seats");
            if (i % 2 == 0)
                request.Headers.Add("X-Admission-Token", admission); // admitted or not: nobody passes
            using var response = await bed.Client.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
            Assert.Equal("ROOM_NOT_CONFIGURED", error["code"]!.GetValue<string>());
            Assert.Equal(bed.Room, error["event_id"]!.GetValue<string>());
        }

        Assert.Single(logs.Entries, e => e.EventId.Id == 14 && e.Category.EndsWith(".WaitingRoomGate", StringComparison.Ordinal));
    }
}
