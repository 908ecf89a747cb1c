using Microsoft.Playwright;

namespace Gateway.Tests.Browser;

/// <summary>
/// A fresh browser context (its own cookies, storage and service workers) with one page, a phone-sized
/// viewport and the given locale, recording script errors and Content-Security-Policy violations.
/// </summary>
internal sealed class BrowserPage : IAsyncDisposable
{
    private static readonly float Timeout = 90_000;
    private readonly IBrowserContext _context;
    private readonly List<string> _errors = [];

    private BrowserPage(IBrowserContext context, IPage page)
    {
        _context = context;
        Page = page;
        Watch(page);
    }

    public IPage Page { get; }

    public static async Task<BrowserPage> OpenAsync(IBrowser browser, string locale, int width = 390, int height = 844, bool serviceWorkers = true)
    {
        var context = await browser.NewContextAsync(new()
        {
            Locale = locale,
            ViewportSize = new() { Width = width, Height = height },
            DeviceScaleFactor = 2,
            ServiceWorkers = serviceWorkers ? ServiceWorkerPolicy.Allow : ServiceWorkerPolicy.Block,
        });
        context.SetDefaultTimeout(Timeout);
        return new BrowserPage(context, await context.NewPageAsync());
    }

    public async Task<IPage> NewPageAsync()
    {
        var page = await _context.NewPageAsync();
        Watch(page);
        return page;
    }

    /// <summary>The position the page shows once it is waiting in line.</summary>
    public static async Task<int> PositionAsync(IPage page)
    {
        var handle = await page.WaitForFunctionAsync("""
            () => {
              if (document.getElementById('wr').dataset.state !== 'waiting') return 0;
              const n = parseInt(document.getElementById('wr-position').textContent.replace(/[^0-9]/g, ''), 10);
              return n > 0 ? n : 0;
            }
            """, null, new() { Timeout = Timeout });
        return await handle.JsonValueAsync<int>();
    }

    /// <summary>Waits until the page shows a position below <paramref name="than"/> and returns it.</summary>
    public static async Task<int> PositionBelowAsync(IPage page, int than)
    {
        var handle = await page.WaitForFunctionAsync("""
            (than) => {
              const n = parseInt(document.getElementById('wr-position').textContent.replace(/[^0-9]/g, ''), 10);
              return n > 0 && n < than ? n : 0;
            }
            """, than, new() { Timeout = Timeout });
        return await handle.JsonValueAsync<int>();
    }

    public static Task StateAsync(IPage page, string state) =>
        page.WaitForFunctionAsync("(state) => document.getElementById('wr').dataset.state === state", state, new() { Timeout = Timeout });

    /// <summary>Waits until the leave worker controls the page, so closing it goes through the worker.</summary>
    public static Task LeaveWorkerControlsAsync(IPage page) =>
        page.WaitForFunctionAsync("() => !!(navigator.serviceWorker && navigator.serviceWorker.controller)", null, new() { Timeout = Timeout });

    public static Task<string> StoredTokenAsync(IPage page) =>
        page.EvaluateAsync<string>("() => JSON.parse(localStorage.getItem('wr:concert')).token");

    public void AssertNoScriptErrors()
    {
        lock (_errors)
            Assert.Empty(_errors);
    }

    public async ValueTask DisposeAsync() => await _context.DisposeAsync();

    private void Watch(IPage page)
    {
        page.PageError += (_, error) => Record("uncaught: " + error);
        page.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase))
                Record("csp: " + message.Text);
        };
    }

    private void Record(string error)
    {
        lock (_errors)
            _errors.Add(error);
    }
}
