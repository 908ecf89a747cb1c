using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Browser;

/// <summary>
/// Renders the page with a position shown and checks the picture is produced. It rewrites
/// docs/img/waiting-room.png, the picture in the docs, only when asked
/// (<c>WR_SCREENSHOT=1 dotnet test Gateway.Tests --filter FullyQualifiedName~WaitingRoomScreenshot</c>), so
/// CI never rewrites the committed image.
/// </summary>
[Collection(BrowserTests.Collection)]
public sealed class WaitingRoomScreenshot(ChromiumFixture chromium)
{
    [Fact]
    public async Task Screenshot_OfEnglishPageWithPosition_IsWrittenToDocs()
    {
        await using var gateway = await GatewayHost.StartAsync(null, PageTestConfig.Room(capacity: 1, refill: 1));
        using var client = gateway.CreateClient();
        for (var i = 0; i < 60; i++)
            await QueueUsers.JoinAsync(client, $"ahead-{i}");

        await using var browser = await BrowserPage.OpenAsync(chromium.Browser, "en-US", width: 420, height: 720);
        var page = browser.Page;
        await page.GotoAsync(new Uri(gateway.BaseAddress, "/waiting-room/concert?return=%2F").ToString());
        var first = await BrowserPage.PositionAsync(page);
        await BrowserPage.PositionBelowAsync(page, first * 2 / 3);
        // Let the bar finish its animation and the "updated" line settle.
        await Task.Delay(1000);

        var png = await page.ScreenshotAsync(new() { FullPage = true });
        browser.AssertNoScriptErrors();
        Assert.True(png.Length > 10_000, $"screenshot is only {png.Length} bytes");
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
        if (Environment.GetEnvironmentVariable("WR_SCREENSHOT") == "1")
            await File.WriteAllBytesAsync(Path.Combine(Repo.Root, "docs", "img", "waiting-room.png"), png);
    }

}
