using Microsoft.Playwright;

namespace Gateway.Tests.Browser;

/// <summary>
/// One headless Chromium shared by the browser tests: Debian's <c>/usr/bin/chromium</c>, driven by the
/// Node driver that Microsoft.Playwright copies into the build output (no browser download, no network).
/// A missing browser fails the tests; it never skips them.
/// </summary>
public sealed class ChromiumFixture : IAsyncLifetime
{
    public const string ExecutablePath = "/usr/bin/chromium";

    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public IBrowser Browser => _browser ?? throw new InvalidOperationException("The browser has not started.");

    public async Task InitializeAsync()
    {
        if (!File.Exists(ExecutablePath))
            throw new InvalidOperationException($"{ExecutablePath} is missing; install Debian's chromium package (apt-get install chromium).");
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-gpu", "--no-first-run"],
        });
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
            await _browser.DisposeAsync();
        _playwright?.Dispose();
    }
}

/// <summary>Browser tests share one Chromium and run one at a time (CI machines have two cores).</summary>
[CollectionDefinition(Collection)]
public sealed class BrowserTests : ICollectionFixture<ChromiumFixture>
{
    public const string Collection = "Browser";
}
