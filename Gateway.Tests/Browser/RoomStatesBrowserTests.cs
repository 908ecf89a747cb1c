using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Browser;

/// <summary>What a person waiting in Chromium sees when an operator pauses, then closes, the room through the admin API.</summary>
[Collection(BrowserTests.Collection)]
public sealed class RoomStatesBrowserTests(ChromiumFixture chromium)
{
    [Theory]
    [InlineData("en-US", "Admissions are paused for a moment. Your place in line is kept.", "On hold", "This waiting room has closed. Nobody more will be admitted.")]
    [InlineData("ko-KR", "입장이 잠시 멈췄습니다. 대기 순서는 그대로 유지됩니다.", "잠시 멈춤", "이 대기실은 종료되었습니다. 더 이상 입장할 수 없습니다.")]
    public async Task PausedThenClosedByAnOperator_InBrowser_ShowCalmMessages_InThePersonsLanguage(string locale, string paused, string onHold, string closed)
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
        Assert.Equal(onHold, await page.Locator("#wr-eta").InnerTextAsync()); // not "any moment now": nobody goes in
        Assert.True(await page.Locator("#wr-leave").IsVisibleAsync());

        await admin.SetAsync("concert", """{"state": "closed"}""");

        await BrowserPage.StateAsync(page, "closed");
        Assert.Equal(closed, await page.Locator("#wr-message").InnerTextAsync());
        Assert.False(await page.Locator("#wr-leave").IsVisibleAsync());
        browser.AssertNoScriptErrors();
    }

    /// <summary>
    /// A join no retry can change: the page says so in the person's language (the API's messages are English only),
    /// offers no place to leave, and stops asking.
    /// </summary>
    [Theory]
    [InlineData("en-US", "joins-closed", "This waiting room no longer takes new people.")]
    [InlineData("ko-KR", "joins-closed", "이 대기실은 더 이상 새로 줄을 설 수 없습니다.")]
    [InlineData("en-US", "sign-in-required", "This line is for signed-in customers. Please go back to the site, sign in, and come back from there.")]
    [InlineData("ko-KR", "sign-in-required", "로그인한 고객만 이용할 수 있는 대기열입니다. 사이트로 돌아가 로그인한 뒤 그곳에서 다시 들어와 주세요.")]
    public async Task JoinRefusedForGood_InBrowser_SaysWhyInThePersonsLanguage_AndStops(string locale, string refusal, string text)
    {
        var extra = refusal == "joins-closed"
            ? new Dictionary<string, string?> { ["WaitingRoom:Rooms:concert:JoinsCloseAt"] = DateTimeOffset.UtcNow.AddMinutes(-1).ToString("O") }
            : new Dictionary<string, string?>
            {
                ["WaitingRoom:Identity:Required"] = "true",
                ["WaitingRoom:Identity:Keys:0:Id"] = "origin-1",
                ["WaitingRoom:Identity:Keys:0:Secret"] = TestConfig.TestSecret,
            };
        await using var gateway = await GatewayHost.StartAsync(null, PageTestConfig.Room(extra: extra));
        var joins = 0;

        await using var browser = await BrowserPage.OpenAsync(chromium.Browser, locale);
        var page = browser.Page;
        page.Request += (_, request) =>
        {
            if (request.Url.Contains("/api/v1/queue/join", StringComparison.Ordinal))
                Interlocked.Increment(ref joins);
        };
        await page.GotoAsync(new Uri(gateway.BaseAddress, "/waiting-room/concert").ToString());

        await BrowserPage.StateAsync(page, "closed");
        Assert.Equal(text, await page.Locator("#wr-message").InnerTextAsync());
        Assert.False(await page.Locator("#wr-leave").IsVisibleAsync());
        await Task.Delay(2500); // the busy back-off would have tried again by now
        Assert.Equal(1, Volatile.Read(ref joins));
        browser.AssertNoScriptErrors();
    }
}
