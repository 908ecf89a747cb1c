using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Hosting;

/// <summary>
/// The shipped appsettings.json (request limits, log levels, the JSON console) applies however the gateway is
/// started: <c>dotnet /opt/gateway/Gateway.Proxy.dll</c> from a directory without settings reads the ones beside the
/// dll (ASP.NET Core alone would read none and log every request at Information); a directory with its own
/// appsettings.json (<c>dotnet run</c>, the image's <c>/app</c>) and <c>--contentRoot</c> still win.
/// </summary>
public sealed class ContentRootTests
{
    private const string Secret = "Y29udGVudC1yb290LXRlc3Qtc2lnbmluZy1rZXktY29udGVudA==";

    // Kestrel's own limit is 100 request headers; the shipped appsettings.json allows 64.
    private const int HeaderCount = 80;

    [Fact]
    public async Task StartedFromADirectoryWithoutSettings_TheShippedSettingsBesideTheDllApply()
    {
        await using var redis = await RedisServer.StartNewAsync();
        var elsewhere = Directory.CreateTempSubdirectory("wr-elsewhere-").FullName;
        try
        {
            // Launching at all proves the JSON console (every line must parse); the limit and the log line say why.
            await using var gateway = await GatewayProcess.StartFromAsync(elsewhere, Args(redis));

            Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, await HealthWithHeadersAsync(gateway, HeaderCount));
            Assert.Equal(HttpStatusCode.OK, await HealthWithHeadersAsync(gateway, 0));
            Assert.Equal(Normalize(AppContext.BaseDirectory), Normalize(await ContentRootLoggedAsync(gateway)));
        }
        finally
        {
            Directory.Delete(elsewhere, recursive: true);
        }
    }

    [Fact]
    public async Task StartedFromADirectoryWithItsOwnSettings_ThoseApply()
    {
        await using var redis = await RedisServer.StartNewAsync();
        var own = Directory.CreateTempSubdirectory("wr-own-settings-").FullName;
        try
        {
            var settings = JsonNode.Parse(File.ReadAllText(Repo.File("Gateway.Proxy", "appsettings.json")))!;
            settings["Kestrel"]!["Limits"]!["MaxRequestHeaderCount"] = 200;
            File.WriteAllText(Path.Combine(own, "appsettings.json"), settings.ToJsonString());
            await using var gateway = await GatewayProcess.StartFromAsync(own, Args(redis));

            Assert.Equal(HttpStatusCode.OK, await HealthWithHeadersAsync(gateway, HeaderCount));
            Assert.Equal(Normalize(own), Normalize(await ContentRootLoggedAsync(gateway)));
        }
        finally
        {
            Directory.Delete(own, recursive: true);
        }
    }

    [Fact]
    public void AnExplicitContentRoot_IsLeftToAspNetCore_EvenFromADirectoryWithoutSettings()
    {
        var empty = Directory.CreateTempSubdirectory("wr-no-settings-").FullName;
        try
        {
            Assert.Equal(AppContext.BaseDirectory, Gateway.Proxy.GatewayApp.ContentRoot([], empty));
            Assert.Null(Gateway.Proxy.GatewayApp.ContentRoot(["--contentRoot", "/srv/gateway"], empty));
            Assert.Null(Gateway.Proxy.GatewayApp.ContentRoot(["--contentroot=/srv/gateway"], empty));
            Assert.Null(Gateway.Proxy.GatewayApp.ContentRoot(["/contentRoot", "/srv/gateway"], empty));
            Assert.Null(Gateway.Proxy.GatewayApp.ContentRoot([], AppContext.BaseDirectory)); // it holds the shipped appsettings.json
        }
        finally
        {
            Directory.Delete(empty);
        }
    }

    private static string[] Args(RedisServer redis) =>
    [
        "--ConnectionStrings:Redis", redis.ConnectionString,
        "--WaitingRoom:SigningKeys:0:Id", "contentroot",
        "--WaitingRoom:SigningKeys:0:Secret", Secret,
    ];

    private static async Task<HttpStatusCode> HealthWithHeadersAsync(GatewayProcess gateway, int extraHeaders)
    {
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = gateway.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/healthz");
        for (var i = 0; i < extraHeaders; i++)
            request.Headers.TryAddWithoutValidation($"X-Extra-{i}", "1");
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }

    private static async Task<string> ContentRootLoggedAsync(GatewayProcess gateway)
    {
        const string prefix = "Content root path: ";
        // Logged right after "Application started", which is all the start waits for.
        var lines = await gateway.WaitForAsync(l => l.Any(j => Message(j).StartsWith(prefix, StringComparison.Ordinal)), "the content root line");
        return lines.Select(Message).First(m => m.StartsWith(prefix, StringComparison.Ordinal))[prefix.Length..];
    }

    private static string Message(JsonObject line) => line["Message"]?.GetValue<string>() ?? "";

    private static string Normalize(string path) => Path.GetFullPath(path).TrimEnd(Path.DirectorySeparatorChar);
}
