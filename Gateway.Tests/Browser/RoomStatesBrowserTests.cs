using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Browser;

/// <summary>What a person waiting in Chromium sees when an operator pauses, then closes, the room through the admin API.</summary>
[Collection(BrowserTests.Collection)]
public sealed class RoomStatesBrowserTests(ChromiumFixture chromium)
{
    [Theory]
    [InlineData("en-US", "Admissions are paused for a moment. Your place in line is kept.", "This waiting room has closed. Nobody more will be admitted.")]
    [InlineData("ko-KR", "입장이 잠시 멈췄습니다. 대기 순서는 그대로 유지됩니다.", "이 대기실은 종료되었습니다. 더 이상 입장할 수 없습니다.")]
    public async Task PausedThenClosedByAnOperator_InBrowser_ShowCalmMessages_InThePersonsLanguage(string locale, string paused, string closed)
    {
        // A short AbandonAfter makes the page poll every few seconds (a third of it), so the test sees each change soon.
        await using var gateway = await GatewayHost.StartAsync(null, TestConfig.WithAdmin(PageTestConfig.Room(capacity: 1, refill: 0.001,
            extra: new Dictionary<string, string?> { ["WaitingRoom:Rooms:concert:AbandonAfter"] = "00:00:09" })));
        using var client = gateway.CreateClient();
        using var admin = gateway.CreateAdminClient();
        await QueueUsers.JoinAsync(client, "ahead"); // takes the one token

        await using var browser = await BrowserPage.OpenAsync(chromium.Browser, locale);
        var page = browser.Page;
        await page.GotoAsync(new Uri(gateway.BaseAddress, "/waiting-room/concert?return=%2Fapi%2Finventory").ToString());
        Assert.True(await BrowserPage.PositionAsync(page) >= 1);

        await admin.SetAsync("concert", """{"state": "paused"}""");

        await BrowserPage.StateAsync(page, "paused");
        Assert.Equal(paused, await page.Locator("#wr-message").InnerTextAsync());
        Assert.True(await page.Locator("#wr-leave").IsVisibleAsync());

        await admin.SetAsync("concert", """{"state": "closed"}""");

        await BrowserPage.StateAsync(page, "closed");
        Assert.Equal(closed, await page.Locator("#wr-message").InnerTextAsync());
        Assert.False(await page.Locator("#wr-leave").IsVisibleAsync());
        browser.AssertNoScriptErrors();
    }
}
