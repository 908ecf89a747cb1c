using System.Globalization;
using System.Net.Http.Json;
using Gateway.Admission.Queue;
using Gateway.Admission.Rooms;
using Gateway.Admission.Storage;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Gateway.Tests.Browser;

/// <summary>
/// The opening as a person sees it in Chromium whose device clock is hours wrong: the countdown follows the
/// server's clock (<c>server_time</c>, <c>opens_at</c>), the page joins the pre-queue when it starts, and at
/// the opening it shows a place in line. The operator schedules the room through the control hash (what the
/// admin API writes), so the opening is a real instant on the store's clock a few seconds ahead.
/// </summary>
[Collection(BrowserTests.Collection)]
public sealed class OpeningBrowserTests(ChromiumFixture chromium)
{
    [Fact]
    public async Task Prequeue_InKoreanBrowserWithItsClockThreeHoursSlow_CountsDownOnTheServersClock_ThenShowsAPlaceInLine()
    {
        await using var gateway = await StartAsync();
        var opensAt = DateTimeOffset.UtcNow.AddSeconds(25);
        await ScheduleAsync(gateway, DateTimeOffset.UtcNow.AddMinutes(-1), opensAt);
        using var client = gateway.CreateClient();
        for (var i = 0; i < 3; i++)
            await QueueUsers.JoinAsync(client, $"fan{i}");

        await using var browser = await BrowserPage.OpenAsync(chromium.Browser, "ko-KR");
        var page = browser.Page;
        await page.AddInitScriptAsync(SkewedClock(TimeSpan.FromHours(-3)));
        await page.GotoAsync(new Uri(gateway.BaseAddress, "/waiting-room/concert").ToString());

        await MessageAsync(page, "사전 대기 중입니다");
        AssertCountdown(await page.Locator("#wr-clock").InnerTextAsync(), opensAt);
        Assert.Equal("판매 시작까지", await page.Locator("#wr-countdown [data-i18n='opensIn']").InnerTextAsync());
        Assert.Contains("무작위", await page.Locator("#wr-message").InnerTextAsync(), StringComparison.Ordinal);
        Assert.StartsWith("사전 대기 중입니다", await page.Locator("#wr-live").InnerTextAsync(), StringComparison.Ordinal);
        Assert.Contains("판매 시작까지", await page.Locator("#wr-live").InnerTextAsync(), StringComparison.Ordinal);
        Assert.False(await page.Locator("#wr-position").IsVisibleAsync());

        // The opening: the pre-queue is shuffled and the page, polling after it, shows its place in line.
        Assert.InRange(await BrowserPage.PositionAsync(page), 1, 4);
        Assert.Equal("대기열에 들어왔습니다", await page.Locator("h1").InnerTextAsync());
        Assert.False(await page.Locator("#wr-countdown").IsVisibleAsync());
        browser.AssertNoScriptErrors();
    }

    [Fact]
    public async Task BeforeThePrequeue_InBrowserWithItsClockTwoHoursFast_WaitsForTheServersPrequeue_AndIsPlacedAheadOfLaterJoiners()
    {
        await using var gateway = await StartAsync();
        var opensAt = DateTimeOffset.UtcNow.AddSeconds(30);
        await ScheduleAsync(gateway, DateTimeOffset.UtcNow.AddSeconds(10), opensAt);

        await using var browser = await BrowserPage.OpenAsync(chromium.Browser, "en-US");
        var page = browser.Page;
        await page.AddInitScriptAsync(SkewedClock(TimeSpan.FromHours(2)));
        await page.GotoAsync(new Uri(gateway.BaseAddress, "/waiting-room/concert").ToString());

        // Not open yet: a countdown (a page trusting its device would think the sale began two hours ago).
        await MessageAsync(page, "This sale is not open yet");
        AssertCountdown(await page.Locator("#wr-clock").InnerTextAsync(), opensAt);
        Assert.Contains("The sale opens in", await page.Locator("#wr-live").InnerTextAsync(), StringComparison.Ordinal);

        // The page joins the pre-queue when it starts, then the line at the opening.
        Assert.Equal(1, await BrowserPage.PositionAsync(page));
        var placeId = (await BrowserPage.StoredTokenAsync(page)).Split('.')[1];
        var store = gateway.Services.GetRequiredService<StoreConnection>().Database;
        var seq = long.Parse(((string)(await store.HashGetAsync("wr:{concert}:tok", placeId))!).Split('|')[1], CultureInfo.InvariantCulture);
        var prequeueEnd = (long)await store.HashGetAsync("wr:{concert}:meta", "pqn");
        Assert.True(seq <= prequeueEnd, $"the page's place has sequence {seq}, after the pre-queue's last ({prequeueEnd}): it joined after the opening");
        browser.AssertNoScriptErrors();
    }

    /// <summary>
    /// A gateway whose one room is already in use: its first person entered before the schedule was set, so the
    /// bucket is empty at the opening and the people placed then wait in line (one admission per 1,000 s).
    /// </summary>
    private static async Task<GatewayHost> StartAsync()
    {
        var gateway = await GatewayHost.StartAsync(null, PageTestConfig.Room(capacity: 1, refill: 0.001, extra: new Dictionary<string, string?>
        {
            // Pre-queued pages come back spread over half of this after the opening: 5 s.
            ["WaitingRoom:Rooms:concert:AbandonAfter"] = "00:00:10",
        }));
        using var client = gateway.CreateClient();
        var token = await QueueUsers.JoinAsync(client, "first");
        using var entered = await client.PostAsJsonAsync("/api/v1/queue/enter", new { waiting_token = token });
        entered.EnsureSuccessStatusCode();
        return gateway;
    }

    private static async Task ScheduleAsync(GatewayHost gateway, DateTimeOffset prequeueFrom, DateTimeOffset opensAt)
    {
        var room = gateway.Services.GetRequiredService<RoomRegistry>().All.Single();
        await gateway.Services.GetRequiredService<IQueueStore>().SetOverridesAsync(room, new Dictionary<string, string?>
        {
            ["prequeue_from"] = prequeueFrom.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture),
            ["opens_at"] = opensAt.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture),
            ["shuffle"] = "1",
        });
        var snapshots = gateway.Services.GetRequiredService<RoomSnapshots>();
        await Eventually.TrueAsync(() => Task.FromResult(snapshots.Get(room.Id)?.Overrides.ContainsKey("opens_at") == true), because: "a tick read the schedule");
    }

    /// <summary>The countdown shown ("m:ss" or "h:mm:ss") is the time to the opening on the server's clock, to within the page's rounding and the test's own steps.</summary>
    private static void AssertCountdown(string shown, DateTimeOffset opensAt)
    {
        var seconds = shown.Split(':').Select(p => int.Parse(p, CultureInfo.InvariantCulture)).Aggregate(0, (total, part) => (total * 60) + part);
        var expected = (opensAt - DateTimeOffset.UtcNow).TotalSeconds;
        Assert.True(Math.Abs(seconds - expected) <= 3, $"the countdown shows {shown}; the opening is {expected:F1} s away on the server's clock");
    }

    private static async Task MessageAsync(IPage page, string text) =>
        await page.WaitForFunctionAsync("(text) => (document.getElementById('wr-message').textContent || '').includes(text)", text, new() { Timeout = 60_000 });

    /// <summary>A device clock off by <paramref name="skew"/>: Date.now() and new Date() move, timers do not.</summary>
    private static string SkewedClock(TimeSpan skew) => """
        (() => {
          const skew = SKEW;
          const Real = Date;
          function Skewed(...args) {
            if (!new.target) return new Real(Real.now() + skew).toString();
            return args.length === 0 ? new Real(Real.now() + skew) : new Real(...args);
          }
          Skewed.prototype = Real.prototype;
          Skewed.now = () => Real.now() + skew;
          Skewed.parse = Real.parse;
          Skewed.UTC = Real.UTC;
          globalThis.Date = Skewed;
        })();
        """.Replace("SKEW", ((long)skew.TotalMilliseconds).ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
}
