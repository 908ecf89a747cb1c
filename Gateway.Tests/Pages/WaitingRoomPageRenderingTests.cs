using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Gateway.Admission.Pages;
using Gateway.Admission.Queue;
using Gateway.Admission.Rooms;
using Gateway.Admission.Storage;
using Gateway.Admission.Tokens;
using Gateway.Tests.Infrastructure;
using Gateway.Tests.Tokens;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Tests.Pages;

/// <summary>
/// The page as <see cref="WaitingRoomPage"/> renders it, in memory: each value is encoded for where the template
/// puts it (HTML text, an attribute, JSON inside a script), and each response has its own nonce on every inline
/// script and style and in its Content-Security-Policy. (Browser/WaitingRoomPageTests checks the same over HTTP.)
/// </summary>
[Trait("Category", "Fast")]
public sealed partial class WaitingRoomPageRenderingTests
{
    [GeneratedRegex("""<script type="application/json" id="wr-config">(.*?)</script>""", RegexOptions.Singleline)]
    private static partial Regex ConfigScript();

    [GeneratedRegex("""<script nonce="([^"]*)">""")]
    private static partial Regex ScriptNonce();

    [Fact]
    public async Task TheConfig_EscapesMarkupAndQuotesAsUnicode_SoAReturnPathCannotEndItsScript()
    {
        const string Return = "/x?</script><script>alert('x')</script>&\"y\"";

        var (html, _) = await RenderAsync(new PageOptions(), "?return=" + Uri.EscapeDataString(Return));

        var config = ConfigScript().Match(html).Groups[1].Value;
        Assert.Contains(@"\u003C/script\u003E\u003Cscript\u003Ealert(\u0027x\u0027)\u003C/script\u003E\u0026\u0022y\u0022", config, StringComparison.Ordinal);
        Assert.DoesNotContain(config, c => c is '<' or '>' or '&' or '\'');
        using var json = JsonDocument.Parse(config);
        Assert.Equal(Return, json.RootElement.GetProperty("return").GetString());
    }

    /// <summary>A return path that reaches a waiting room however it is written goes home instead; any other path on the site is kept.</summary>
    [Theory]
    [InlineData("/waiting-room/other", "/")]
    [InlineData("/WAITING-ROOM/other?x=1", "/")]
    [InlineData("/./waiting-room/other", "/")]
    [InlineData("/shop/../waiting-room/other", "/")]
    [InlineData("/%77aiting-room/other", "/")]
    [InlineData("/%2577aiting-room/other", "/")]
    [InlineData("/%252577aiting-room/other", "/")]
    [InlineData("/.%5Cwaiting-room/other", "/")]
    [InlineData("/waiting-room", "/")]
    [InlineData("/shop/waiting-room/x", "/shop/waiting-room/x")]
    [InlineData("/waiting-rooms/x", "/waiting-rooms/x")]
    [InlineData("/shop/a%20b?q=/waiting-room/x", "/shop/a%20b?q=/waiting-room/x")]
    public async Task AReturnPath_ThatReachesAWaitingRoomHoweverWritten_GoesHome_AnyOtherIsKept(string path, string expected)
    {
        var (html, _) = await RenderAsync(new PageOptions(), "?return=" + Uri.EscapeDataString(path));

        using var json = JsonDocument.Parse(ConfigScript().Match(html).Groups[1].Value);
        Assert.Equal(expected, json.RootElement.GetProperty("return").GetString());
    }

    [Fact]
    public async Task BrandingTexts_AreHtmlEncoded_InTheTitleAndTheBody()
    {
        var (html, _) = await RenderAsync(new PageOptions { Title = "Tickets <b>&</b> \"now\"", Heading = "<script>alert('h')</script>" });

        Assert.Contains("<title>Tickets &lt;b&gt;&amp;&lt;/b&gt; &quot;now&quot;</title>", html, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;alert(&#x27;h&#x27;)&lt;/script&gt;", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>alert", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheLogoUrl_IsEncodedForItsAttribute_AndItsOriginIsAllowedByTheCsp()
    {
        var (html, response) = await RenderAsync(new PageOptions { LogoUrl = "https://cdn.example.com/logo.svg?a=1&b=\"2\"><script>" });

        Assert.Contains("""<img class="logo" src="https://cdn.example.com/logo.svg?a=1&amp;b=&quot;2&quot;&gt;&lt;script&gt;" alt="">""", html, StringComparison.Ordinal);
        Assert.Contains("img-src 'self' data: https://cdn.example.com;", response.Headers.ContentSecurityPolicy.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task EachResponse_HasItsOwnNonce_OnEveryInlineScriptAndStyle_AndInItsCsp()
    {
        var (first, response) = await RenderAsync(new PageOptions());
        var (second, _) = await RenderAsync(new PageOptions());

        var nonce = ScriptNonce().Match(first).Groups[1].Value;
        Assert.Matches("^[A-Za-z0-9+/]{22}==$", nonce); // 16 random bytes
        Assert.Contains($"""<style nonce="{nonce}">""", first, StringComparison.Ordinal);
        Assert.Contains($"script-src 'self' 'nonce-{nonce}'; style-src 'self' 'nonce-{nonce}';", response.Headers.ContentSecurityPolicy.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(nonce, second, StringComparison.Ordinal);
    }

    private static async Task<(string Html, HttpResponse Response)> RenderAsync(PageOptions options, string query = "")
    {
        var waitingRoom = new StaticOptionsMonitor<WaitingRoomOptions>(new WaitingRoomOptions
        {
            Rooms = { ["concert"] = new RoomOptions() },
            SigningKeys = TestKeys.Options().SigningKeys,
        });
        using var rooms = new RoomRegistry(waitingRoom, Microsoft.Extensions.Options.Options.Create(new StoreOptions()));
        using var keys = new KeyRing(waitingRoom, NullLogger<KeyRing>.Instance);
        using var page = new WaitingRoomPage(new StaticOptionsMonitor<PageOptions>(options), rooms, new RoomSnapshots(),
            new HostingEnvironment { ContentRootPath = AppContext.BaseDirectory }, new CallerIdentity(keys), waitingRoom);
        var context = new DefaultHttpContext();
        context.Request.QueryString = new QueryString(query);
        using var body = new MemoryStream();
        context.Response.Body = body;

        await page.WriteAsync(context, "concert");

        Assert.Equal(StatusCodes.Status200OK, context.Response.StatusCode);
        return (Encoding.UTF8.GetString(body.ToArray()), context.Response);
    }
}
