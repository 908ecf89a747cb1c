using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Gateway.Admission.Pages;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Browser;

/// <summary>The page as HTTP: headers, encoding of operator values, the return path, start-up validation.</summary>
public sealed partial class WaitingRoomPageTests
{
    [GeneratedRegex("""<script nonce="([^"]+)">""")]
    private static partial Regex ScriptNonce();

    [GeneratedRegex("""<script type="application/json" id="wr-config">(.*?)</script>""", RegexOptions.Singleline)]
    private static partial Regex ConfigScript();

    [Fact]
    public async Task Page_ForConfiguredRoom_IsHtmlWithSecurityHeaders()
    {
        await using var gateway = await GatewayHost.StartAsync(null, PageTestConfig.Room());
        using var client = gateway.CreateClient();

        using var response = await client.GetAsync("/waiting-room/concert");
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("utf-8", response.Content.Headers.ContentType?.CharSet);
        Assert.True(response.Headers.CacheControl?.NoStore);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        var csp = response.Headers.GetValues("Content-Security-Policy").Single();
        var nonce = ScriptNonce().Match(html).Groups[1].Value;
        Assert.NotEmpty(nonce);
        Assert.Contains($"script-src 'self' 'nonce-{nonce}'", csp, StringComparison.Ordinal);
        Assert.Contains($"style-src 'self' 'nonce-{nonce}'", csp, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("{{", html, StringComparison.Ordinal);
        Assert.DoesNotContain("http://", html, StringComparison.Ordinal); // self-contained: no CDN, no web font
        Assert.DoesNotContain("https://", html, StringComparison.Ordinal);

        using var again = await client.GetAsync("/waiting-room/concert");
        Assert.NotEqual(nonce, ScriptNonce().Match(await again.Content.ReadAsStringAsync()).Groups[1].Value);
    }

    [Fact]
    public async Task Page_AnswersHead_WithItsHeadersAndNoBody()
    {
        await using var gateway = await GatewayHost.StartAsync(null, PageTestConfig.Room());
        using var client = gateway.CreateClient();

        using var response = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/waiting-room/concert"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.True(response.Headers.CacheControl?.NoStore);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData("/waiting-room/no-such-room")]
    [InlineData("/waiting-room/bad%20id")]
    public async Task Page_ForUnknownRoom_Answers404WithSmallHtmlPage(string path)
    {
        await using var gateway = await GatewayHost.StartAsync(null, PageTestConfig.Room());
        using var client = gateway.CreateClient();

        using var response = await client.GetAsync(path);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Waiting room not found", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
    }

    [Theory]
    [InlineData("/api/inventory/events/concert/seats?x=1", "/api/inventory/events/concert/seats?x=1")]
    [InlineData("/", "/")]
    [InlineData(null, "/")]
    [InlineData("", "/")]
    [InlineData("//evil.example/", "/")]
    [InlineData("/\\evil.example/", "/")]
    [InlineData("/\t/evil.example/", "/")]
    [InlineData("https://evil.example/", "/")]
    [InlineData("javascript:alert(1)", "/")]
    [InlineData("evil.example", "/")]
    [InlineData("/waiting-room/concert", "/")]
    public async Task Page_WithReturnParameter_SendsOnlyToSameSitePaths(string? requested, string expected)
    {
        await using var gateway = await GatewayHost.StartAsync(null, PageTestConfig.Room());
        using var client = gateway.CreateClient();

        var query = requested is null ? "" : "?return=" + Uri.EscapeDataString(requested);
        var html = await client.GetStringAsync("/waiting-room/concert" + query);

        using var config = JsonDocument.Parse(ConfigScript().Match(html).Groups[1].Value);
        Assert.Equal(expected, config.RootElement.GetProperty("return").GetString());
        Assert.Equal("concert", config.RootElement.GetProperty("event_id").GetString());
    }

    [Fact]
    public async Task Page_WithReturnPathHoldingMarkup_CannotEndItsScript()
    {
        await using var gateway = await GatewayHost.StartAsync(null, PageTestConfig.Room());
        using var client = gateway.CreateClient();

        var html = await client.GetStringAsync("/waiting-room/concert?return=" + Uri.EscapeDataString("/x?</script><script>alert(1)</script>"));

        Assert.DoesNotContain("<script>alert(1)", html, StringComparison.Ordinal);
        using var config = JsonDocument.Parse(ConfigScript().Match(html).Groups[1].Value);
        Assert.Equal("/x?</script><script>alert(1)</script>", config.RootElement.GetProperty("return").GetString());
    }

    [Fact]
    public async Task Page_WithBranding_ShowsEveryValueHtmlEncoded()
    {
        await using var gateway = await GatewayHost.StartAsync(null, PageTestConfig.Room(extra: new Dictionary<string, string?>
        {
            ["WaitingRoom:Page:Title"] = "Tickets <b>&</b> \"more\"",
            ["WaitingRoom:Page:Heading"] = "<script>alert('heading')</script>",
            ["WaitingRoom:Page:Text"] = "Line one\nLine <two>",
            ["WaitingRoom:Page:PrimaryColor"] = "#FFCC00",
            ["WaitingRoom:Page:BackgroundColor"] = "#123",
            ["WaitingRoom:Page:LogoUrl"] = "https://cdn.example.com/logo.svg?a=1&b=\"2\"",
        }));
        using var client = gateway.CreateClient();

        using var response = await client.GetAsync("/waiting-room/concert");
        var html = await response.Content.ReadAsStringAsync();

        Assert.Contains("<title>Tickets &lt;b&gt;&amp;&lt;/b&gt; &quot;more&quot;</title>", html, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;alert(&#x27;heading&#x27;)&lt;/script&gt;", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>alert", html, StringComparison.Ordinal);
        Assert.Contains("Line one&#xA;Line &lt;two&gt;", html, StringComparison.Ordinal);
        Assert.Contains("src=\"https://cdn.example.com/logo.svg?a=1&amp;b=&quot;2&quot;\"", html, StringComparison.Ordinal);
        Assert.Contains("--primary: #ffcc00;", html, StringComparison.Ordinal);
        Assert.Contains("--on-primary: #111827;", html, StringComparison.Ordinal); // dark text on yellow
        Assert.Contains("--bg: #123;", html, StringComparison.Ordinal);
        Assert.Contains("--on-bg: #ffffff;", html, StringComparison.Ordinal); // light text on dark blue
        Assert.Contains("img-src 'self' data: https://cdn.example.com;", response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Page_WithOperatorTemplate_RendersTheOperatorsFile()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("wr-page-").FullName, "room.html");
        await File.WriteAllTextAsync(path, """
            <!doctype html><html lang="{{lang}}"><head><title>{{title}}</title><style nonce="{{nonce}}">body{background:{{background_color}}}</style></head>
            <body><h1>{{heading}}</h1><p>Room {{event_id}}</p><script type="application/json" id="wr-config">{{config}}</script><script nonce="{{nonce}}"></script></body></html>
            """);
        await using var gateway = await GatewayHost.StartAsync(null, PageTestConfig.Room(extra: new Dictionary<string, string?>
        {
            ["WaitingRoom:Page:TemplatePath"] = path,
            ["WaitingRoom:Page:Heading"] = "Concert <2026>",
        }));
        using var client = gateway.CreateClient();

        var html = await client.GetStringAsync("/waiting-room/concert");

        Assert.Contains("<h1>Concert &lt;2026&gt;</h1><p>Room concert</p>", html, StringComparison.Ordinal);
        Assert.Contains("body{background:#eef2f7}", html, StringComparison.Ordinal);
        Assert.DoesNotContain("{{", html, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("WaitingRoom:Page:PrimaryColor", "red", "WaitingRoom:Page:PrimaryColor is 'red'")]
    [InlineData("WaitingRoom:Page:BackgroundColor", "#12345", "WaitingRoom:Page:BackgroundColor is '#12345'")]
    [InlineData("WaitingRoom:Page:PrimaryColor", "#fff;}body{display:none", "WaitingRoom:Page:PrimaryColor")]
    [InlineData("WaitingRoom:Page:LogoUrl", "javascript:alert(1)", "WaitingRoom:Page:LogoUrl")]
    [InlineData("WaitingRoom:Page:LogoUrl", "//cdn.example.com/logo.png", "WaitingRoom:Page:LogoUrl")]
    [InlineData("WaitingRoom:Page:TemplatePath", "/no/such/template.html", "WaitingRoom:Page:TemplatePath: there is no file")]
    public async Task Startup_WithInvalidPageSetting_FailsNamingTheKey(string key, string value, string expected)
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            GatewayHost.StartAsync(null, PageTestConfig.Room(extra: new Dictionary<string, string?> { [key] = value })));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Startup_WithTemplateWithoutNonce_FailsSayingWhatToAdd()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("wr-page-").FullName, "room.html");
        await File.WriteAllTextAsync(path, "<html><script>{{config}}</script></html>");

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            GatewayHost.StartAsync(null, PageTestConfig.Room(extra: new Dictionary<string, string?> { ["WaitingRoom:Page:TemplatePath"] = path })));

        Assert.Contains("lacks {{nonce}}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LeaveWorker_IsServedAsScript()
    {
        await using var gateway = await GatewayHost.StartAsync(null, PageTestConfig.Room());
        using var client = gateway.CreateClient();

        using var response = await client.GetAsync(LeaveWorker.Path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/javascript", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("/api/v1/queue/leave?token=", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/", true)]
    [InlineData("/a/b?c=d#e", true)]
    [InlineData("//a", false)]
    [InlineData("/\\a", false)]
    [InlineData("/a\nb", false)]
    [InlineData("/a b", false)]
    [InlineData("a", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void IsSameSitePath_AcceptsOnlyRelativePathsOnThisSite(string? path, bool expected) =>
        Assert.Equal(expected, WaitingRoomPage.IsSameSitePath(path));

    [Theory]
    [InlineData("#ffffff", "#111827")]
    [InlineData("#000", "#ffffff")]
    [InlineData("#1d4ed8", "#ffffff")]
    [InlineData("#facc15", "#111827")]
    public void ReadableOn_PicksTheTextColourWithMoreContrast(string background, string expected) =>
        Assert.Equal(expected, WaitingRoomPage.ReadableOn(background));
}
