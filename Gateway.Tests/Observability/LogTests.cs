using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Observability;

/// <summary>
/// The gateway as operators run it: its own process, Production, the shipped appsettings.json. Every line it
/// writes to the console is a JSON object; the waiting room's log events are there, request-bound ones with the
/// caller's trace id; no secret or token ever appears.
/// </summary>
public sealed class LogTests
{
    private const string Secret = "bG9nLXRlc3Qtc2lnbmluZy1rZXktbG9nLXRlc3Qtc2lnbmluZyE=";

    [Fact]
    public async Task Console_InProduction_IsJsonLinesWithTraceIds_AndCarriesTheWaitingRoomEvents()
    {
        await using var redis = await RedisServer.StartNewAsync();
        var room = "log" + Guid.NewGuid().ToString("N")[..8];
        await using var gateway = await GatewayProcess.StartAsync(
        [
            "--ConnectionStrings:Redis", redis.ConnectionString,
            "--WaitingRoom:SigningKeys:0:Id", "logtest",
            "--WaitingRoom:SigningKeys:0:Secret", Secret,
            "--WaitingRoom:JoinsPerClientPerMinute", "0",
            "--WaitingRoom:MaintenanceInterval", "00:00:00.200",
            $"--WaitingRoom:Rooms:{room}:Capacity", "1",
            $"--WaitingRoom:Rooms:{room}:RefillPerSecond", "0.001",
            $"--WaitingRoom:Rooms:{room}:AbandonAfter", "00:00:01",
            $"--WaitingRoom:Rooms:{room}:MaxQueueLength", "2",
        ]);
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false, UseCookies = false, ActivityHeadersPropagator = null }) { BaseAddress = gateway.BaseAddress };
        var client = new QueueClient(http);

        // An admission, in a trace of ours.
        var (_, first, _) = await client.JoinAsync(room, "first");
        var waiting = first["waiting_token"]!.GetValue<string>();
        var admittedTrace = ActivityTraceId.CreateRandom();
        var (_, entered, _) = await SendAsync(http, HttpMethod.Post, "/api/v1/queue/enter", admittedTrace, new JsonObject { ["waiting_token"] = waiting });
        var admission = entered["reservation_token"]!.GetValue<string>();

        // Two wait (then stop polling and get dropped); a third is refused: the queue holds two.
        var (_, second, _) = await client.JoinAsync(room, "second");
        await client.JoinAsync(room, "third");
        var refusedTrace = ActivityTraceId.CreateRandom();
        var (refused, _, _) = await SendAsync(http, HttpMethod.Post, "/api/v1/queue/join", refusedTrace, new JsonObject { ["event_id"] = room, ["user_id"] = "fourth" });
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused);
        // Their deadlines may straddle a maintenance tick, so the two drops can come in one sweep event or two.
        await gateway.WaitForAsync(l => DroppedIn(l, room) == 2, "the sweep of the two who stopped polling");

        // The store goes away (taking the queue with it: no persistence) and comes back.
        await redis.StopAsync();
        var failedTrace = ActivityTraceId.CreateRandom();
        var (failed, _, _) = await SendAsync(http, HttpMethod.Post, "/api/v1/queue/join", failedTrace, new JsonObject { ["event_id"] = room, ["user_id"] = "fifth" });
        Assert.Equal(HttpStatusCode.ServiceUnavailable, failed);
        await redis.StartAsync();

        var lines = await gateway.WaitForAsync(l => l.Any(j => Event(j) == 3), "the store connection restored");

        Assert.All(lines, line => Assert.NotNull(line["Timestamp"]));
        var admitted = Assert.Single(lines, j => Event(j) == 11 && Message(j).Contains(room, StringComparison.Ordinal));
        Assert.Equal(admittedTrace.ToHexString(), admitted["TraceId"]!.GetValue<string>());
        Assert.Matches("^[0-9a-f]{16}$", admitted["SpanId"]!.GetValue<string>());
        Assert.Equal("/api/v1/queue/enter", admitted["Scope"]!["RequestPath"]!.GetValue<string>());
        // A refused join is a counter and a Debug line: at the shipped level (Information) a flash crowd's refusals write nothing.
        Assert.DoesNotContain(lines, j => Event(j) == 10);
        var storeFailed = Assert.Single(lines, j => Event(j) == 5 && Message(j).StartsWith($"Store call join for room {room} failed", StringComparison.Ordinal));
        Assert.Equal(failedTrace.ToHexString(), storeFailed["TraceId"]!.GetValue<string>());
        Assert.Equal("Warning", storeFailed["LogLevel"]!.GetValue<string>());
        Assert.Contains(lines, j => Event(j) == 2 && j["LogLevel"]!.GetValue<string>() == "Error"); // connection lost
        Assert.Contains(lines, j => Event(j) == 3); // and restored
        Assert.Contains(lines, j => Event(j) == 16); // proxy configuration applied at start
        Assert.Equal(2, DroppedIn(lines, room));

        var everything = string.Join('\n', gateway.RawLines);
        foreach (var secret in new[] { Secret, waiting, second["waiting_token"]!.GetValue<string>(), admission })
            Assert.DoesNotContain(secret, everything, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Console_ConfigurationReload_IsLogged()
    {
        await using var redis = await RedisServer.StartNewAsync();
        await using var gateway = await GatewayProcess.StartAsync(
        [
            "--ConnectionStrings:Redis", redis.ConnectionString,
            "--WaitingRoom:SigningKeys:0:Id", "logtest",
            "--WaitingRoom:SigningKeys:0:Secret", Secret,
        ]);

        var settings = await File.ReadAllTextAsync(gateway.ConfigPath);
        await File.WriteAllTextAsync(gateway.ConfigPath, settings.Replace("\"RefillPerSecond\": 10", "\"RefillPerSecond\": 25", StringComparison.Ordinal));

        var lines = await gateway.WaitForAsync(l => l.Any(j => Event(j) == 15 && Message(j).Contains("25/s", StringComparison.Ordinal)), "the reload");
        var reload = lines.First(j => Event(j) == 15);
        Assert.Contains("concert: burst 100, 25/s", Message(reload), StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, string.Join('\n', gateway.RawLines), StringComparison.Ordinal);
    }

    private static long DroppedIn(IEnumerable<JsonObject> lines, string room) =>
        lines.Where(j => Event(j) == 12 && Message(j).Contains(room, StringComparison.Ordinal)).Sum(j => j["State"]!["Dropped"]!.GetValue<long>());

    private static int Event(JsonObject line) => line["EventId"]?.GetValue<int>() is { } id && line["Category"]!.GetValue<string>().StartsWith("Gateway.", StringComparison.Ordinal) ? id : -1;

    private static string Message(JsonObject line) => line["Message"]!.GetValue<string>();

    private static async Task<(HttpStatusCode, JsonObject, HttpResponseMessage)> SendAsync(HttpClient http, HttpMethod method, string path, ActivityTraceId trace, JsonObject body)
    {
        using var request = new HttpRequestMessage(method, path) { Content = System.Net.Http.Json.JsonContent.Create(body) };
        request.Headers.Add("traceparent", $"00-{trace}-{ActivitySpanId.CreateRandom()}-01");
        var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonNode.Parse(text)!.AsObject(), response);
    }
}
