using System.Net;
using System.Text.Json;
using Gateway.Admission.Pages;
using Gateway.SampleBackends;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Browser;

/// <summary>
/// The waiting room as a person sees it: a real headless Chromium follows a gated link, waits on the
/// page and is let in, against a real gateway on loopback (real Redis where the store matters).
/// Waits are generous and conditions are awaited, never timed.
/// </summary>
[Collection(BrowserTests.Collection)]
public sealed class WaitingRoomBrowserTests(ChromiumFixture chromium)
{
    private const string SeatsPath = "/api/inventory/events/concert/seats";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task GatedUrl_InBrowser_WaitsInLineAndLandsOnOriginalPage()
    {
        await using var redis = await RedisServer.StartNewAsync();
        await using var backends = await StartBackendsAsync();
        await using var gateway = await GatewayHost.StartAsync(redis.ConnectionString, TestConfig.Gateway(backends, capacity: 1, refill: 0.5));
        using var client = gateway.CreateClient();
        using var stop = new CancellationTokenSource();
        // Six people ahead: the first takes the bucket's one token at once, the rest move up one every 2 s.
        var ahead = new List<Task>();
        for (var i = 0; i < 6; i++)
        {
            var token = await QueueUsers.JoinAsync(client, $"ahead-{i}");
            ahead.Add(QueueUsers.KeepPlaceThenEnterAsync(client, token, stop.Token));
        }

        await using var browser = await BrowserPage.OpenAsync(chromium.Browser, "en-US");
        var page = browser.Page;
        var landed = page.WaitForResponseAsync(r => r.Url.EndsWith(SeatsPath, StringComparison.Ordinal) && r.Status == 200, new() { Timeout = (float)Patience.TotalMilliseconds });

        await page.GotoAsync(new Uri(gateway.BaseAddress, SeatsPath).ToString());

        Assert.Contains("/waiting-room/concert?return=", page.Url, StringComparison.Ordinal);
        var first = await BrowserPage.PositionAsync(page);
        Assert.True(first >= 2, $"the browser should join behind the people ahead, but its position was {first}");
        var later = await BrowserPage.PositionBelowAsync(page, first);
        Assert.InRange(later, 1, first - 1);

        var response = await landed;
        await page.WaitForURLAsync(url => url.EndsWith(SeatsPath, StringComparison.Ordinal), new() { Timeout = (float)Patience.TotalMilliseconds });
        using var seats = JsonDocument.Parse(await response.TextAsync());
        Assert.Equal("concert", seats.RootElement.GetProperty("event_id").GetString());
        browser.AssertNoScriptErrors();

        await stop.CancelAsync();
        await Task.WhenAll(ahead);
    }

    [Fact]
    public async Task WaitingRoom_InKoreanBrowser_SpeaksKorean()
    {
        await using var gateway = await GatewayHost.StartAsync(null, PageTestConfig.Room(capacity: 1, refill: 0.01));
        using var client = gateway.CreateClient();
        await QueueUsers.JoinAsync(client, "first"); // takes the one token
        await QueueUsers.JoinAsync(client, "second"); // waits at position 1

        await using var browser = await BrowserPage.OpenAsync(chromium.Browser, "ko-KR");
        var page = browser.Page;
        await page.GotoAsync(new Uri(gateway.BaseAddress, "/waiting-room/concert?return=%2Fapi%2Finventory").ToString());

        Assert.Equal(2, await BrowserPage.PositionAsync(page));
        Assert.Equal("ko", await page.GetAttributeAsync("html", "lang"));
        Assert.Equal("대기실", await page.TitleAsync());
        Assert.Equal("대기열에 들어왔습니다", await page.Locator("h1").InnerTextAsync());
        Assert.Equal("나의 대기 순번", await page.Locator("#wr-position-label").InnerTextAsync());
        Assert.Equal("1명", await page.Locator("#wr-ahead").InnerTextAsync());
        // The wait in words is the API's own message, in Korean.
        Assert.Matches(@"^약 .+ 예상 \(신뢰도: (높음|보통|낮음)\)$", await page.Locator("#wr-eta").InnerTextAsync());
        Assert.Equal("대기열에서 나가기", await page.Locator("#wr-leave").InnerTextAsync());
        browser.AssertNoScriptErrors();
    }

    [Fact]
    public async Task StoreOutage_InBrowser_HoldsThePlaceCalmlyAndRecovers()
    {
        await using var redis = await RedisServer.StartNewAsync();
        await using var backends = await StartBackendsAsync();
        await using var gateway = await GatewayHost.StartAsync(redis.ConnectionString, TestConfig.Gateway(backends, capacity: 1, refill: 0.01));
        using var client = gateway.CreateClient();
        await QueueUsers.JoinAsync(client, "first");
        await QueueUsers.JoinAsync(client, "second");

        await using var browser = await BrowserPage.OpenAsync(chromium.Browser, "en-US");
        var page = browser.Page;
        var landed = page.WaitForResponseAsync(r => r.Url.EndsWith(SeatsPath, StringComparison.Ordinal) && r.Status == 200, new() { Timeout = (float)Patience.TotalMilliseconds * 2 });
        await page.GotoAsync(new Uri(gateway.BaseAddress, SeatsPath).ToString());
        Assert.Equal(2, await BrowserPage.PositionAsync(page));

        await redis.StopAsync();

        await BrowserPage.StateAsync(page, "holding");
        var message = await page.Locator("#wr-message").InnerTextAsync();
        Assert.Contains("still holding your place", message, StringComparison.Ordinal);
        Assert.Contains("retrying", message, StringComparison.Ordinal);
        Assert.Equal("2", await page.Locator("#wr-position").InnerTextAsync()); // the last known place stays on screen
        Assert.True(await page.Locator("#wr-leave").IsVisibleAsync());

        // The restarted store is empty: the page finds its place gone, joins again and, the bucket being
        // full, is let in and sent on to the page it first asked for.
        await redis.StartAsync();

        var response = await landed;
        await page.WaitForURLAsync(url => url.EndsWith(SeatsPath, StringComparison.Ordinal), new() { Timeout = (float)Patience.TotalMilliseconds });
        Assert.Equal(HttpStatusCode.OK, (HttpStatusCode)response.Status);
        browser.AssertNoScriptErrors();
    }

    [Fact]
    public async Task ClosingThePage_InBrowser_GivesThePlaceBack()
    {
        await using var gateway = await GatewayHost.StartAsync(null, PageTestConfig.Room(capacity: 1, refill: 0.01));
        using var client = gateway.CreateClient();
        await QueueUsers.JoinAsync(client, "first");

        await using var browser = await BrowserPage.OpenAsync(chromium.Browser, "en-US");
        var page = browser.Page;
        await page.GotoAsync(new Uri(gateway.BaseAddress, "/waiting-room/concert").ToString());
        Assert.Equal(1, await BrowserPage.PositionAsync(page));
        await BrowserPage.LeaveWorkerControlsAsync(page);
        var token = await BrowserPage.StoredTokenAsync(page);
        Assert.Equal(HttpStatusCode.OK, await QueueUsers.StatusAsync(client, token));
        browser.AssertNoScriptErrors();

        await page.CloseAsync();

        Assert.Equal(HttpStatusCode.NotFound, await StatusOnceGoneAsync(client, token));
    }

    [Fact]
    public async Task ClosingThePage_WithoutServiceWorkers_GivesThePlaceBackByBeacon()
    {
        await using var gateway = await GatewayHost.StartAsync(null, PageTestConfig.Room(capacity: 1, refill: 0.01));
        using var client = gateway.CreateClient();
        await QueueUsers.JoinAsync(client, "first");

        await using var browser = await BrowserPage.OpenAsync(chromium.Browser, "en-US", serviceWorkers: false);
        var page = browser.Page;
        await page.GotoAsync(new Uri(gateway.BaseAddress, "/waiting-room/concert").ToString());
        Assert.Equal(1, await BrowserPage.PositionAsync(page));
        var token = await BrowserPage.StoredTokenAsync(page);
        Assert.False(await page.EvaluateAsync<bool>("() => !!(navigator.serviceWorker && navigator.serviceWorker.controller)"));

        await page.CloseAsync();

        Assert.Equal(HttpStatusCode.NotFound, await StatusOnceGoneAsync(client, token));
    }

    [Fact]
    public async Task Reloading_InBrowser_KeepsThePlace()
    {
        await using var gateway = await GatewayHost.StartAsync(null, PageTestConfig.Room(capacity: 1, refill: 0.01));
        using var client = gateway.CreateClient();
        await QueueUsers.JoinAsync(client, "first");
        await QueueUsers.JoinAsync(client, "second");

        await using var browser = await BrowserPage.OpenAsync(chromium.Browser, "en-US");
        var page = browser.Page;
        await page.GotoAsync(new Uri(gateway.BaseAddress, "/waiting-room/concert").ToString());
        Assert.Equal(2, await BrowserPage.PositionAsync(page));
        await BrowserPage.LeaveWorkerControlsAsync(page);
        var token = await BrowserPage.StoredTokenAsync(page);

        await page.ReloadAsync();
        Assert.Equal(2, await BrowserPage.PositionAsync(page));
        // Past the leave worker's grace: the reloaded page is still open, so the place was not given back.
        await Task.Delay(LeaveWorker.GraceMilliseconds + 2000);

        Assert.Equal(token, await BrowserPage.StoredTokenAsync(page));
        Assert.Equal(HttpStatusCode.OK, await QueueUsers.StatusAsync(client, token));
        Assert.Equal(2, await BrowserPage.PositionAsync(page));
        browser.AssertNoScriptErrors();
    }

    [Fact]
    public async Task SecondTab_InBrowser_SharesThePlaceAndClosingOneKeepsIt()
    {
        await using var gateway = await GatewayHost.StartAsync(null, PageTestConfig.Room(capacity: 1, refill: 0.01));
        using var client = gateway.CreateClient();
        await QueueUsers.JoinAsync(client, "first");

        await using var browser = await BrowserPage.OpenAsync(chromium.Browser, "en-US");
        var url = new Uri(gateway.BaseAddress, "/waiting-room/concert").ToString();
        var first = browser.Page;
        await first.GotoAsync(url);
        Assert.Equal(1, await BrowserPage.PositionAsync(first));
        await BrowserPage.LeaveWorkerControlsAsync(first);
        var token = await BrowserPage.StoredTokenAsync(first);

        var second = await browser.NewPageAsync();
        await second.GotoAsync(url);
        Assert.Equal(1, await BrowserPage.PositionAsync(second));
        Assert.Equal(token, await BrowserPage.StoredTokenAsync(second));

        await first.CloseAsync();
        await Task.Delay(LeaveWorker.GraceMilliseconds + 2000);

        Assert.Equal(HttpStatusCode.OK, await QueueUsers.StatusAsync(client, token));
        Assert.Equal(1, await BrowserPage.PositionAsync(second));
        browser.AssertNoScriptErrors();
    }

    /// <summary>
    /// Polls the token's status for up to 30 s, well inside the room's one-minute abandon time, so a 404
    /// means the page gave the place back rather than the room timing it out.
    /// </summary>
    private static async Task<HttpStatusCode> StatusOnceGoneAsync(HttpClient client, string token)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        var status = HttpStatusCode.OK;
        while (DateTime.UtcNow < deadline && status == HttpStatusCode.OK)
        {
            await Task.Delay(250);
            status = await QueueUsers.StatusAsync(client, token);
        }
        return status;
    }

    private static Task<SampleBackendsApp> StartBackendsAsync() =>
        SampleBackendsApp.StartAsync(new SampleBackendsOptions { ReservationPort = 0, InventoryPort = 0, PaymentPort = 0 });
}
