using Gateway.Proxy;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// A real gateway (the production <see cref="GatewayApp"/>) on Kestrel at a free loopback port, configured
/// from an appsettings file the test owns (so tests can edit it and watch the reload) plus overrides.
/// </summary>
public sealed class GatewayHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private GatewayHost(WebApplication app, Uri address, Uri adminAddress, string configPath)
    {
        _app = app;
        BaseAddress = address;
        AdminAddress = adminAddress;
        ConfigPath = configPath;
    }

    public Uri BaseAddress { get; }

    /// <summary>Where the admin API answers: the <c>Admin:Urls</c> address when the settings name one, else <see cref="BaseAddress"/>.</summary>
    public Uri AdminAddress { get; }

    /// <summary>The appsettings.json this gateway reads and watches.</summary>
    public string ConfigPath { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>
    /// Starts a gateway. <paramref name="redis"/> null = the embedded store. <paramref name="settings"/> are
    /// written into the watched appsettings.json (flat keys like "WaitingRoom:Rooms:concert:Capacity").
    /// </summary>
    public static async Task<GatewayHost> StartAsync(string? redis, IDictionary<string, string?> settings, string environment = "Development", Action<WebApplicationBuilder>? configure = null)
    {
        var dir = Directory.CreateTempSubdirectory("wr-gateway-").FullName;
        var configPath = Path.Combine(dir, "appsettings.json");
        await File.WriteAllTextAsync(configPath, TestConfig.ToJson(settings));
        var args = new List<string> { "--contentRoot", dir, "--environment", environment, "--urls", "http://127.0.0.1:0" };
        if (redis is not null)
            args.AddRange(["--ConnectionStrings:Redis", redis]);
        WebApplication? app = null;
        try
        {
            app = GatewayApp.Build([.. args], builder =>
            {
                builder.Logging.ClearProviders();
                builder.WebHost.UseShutdownTimeout(TimeSpan.FromSeconds(2));
                configure?.Invoke(builder);
            });
            await app.StartAsync();
        }
        catch
        {
            // A start the test expects to fail (a bad setting) leaves neither a host nor its directory behind.
            try
            {
                if (app is not null)
                    await app.DisposeAsync();
                Directory.Delete(dir, recursive: true);
            }
            catch (Exception cleanup) when (cleanup is IOException or InvalidOperationException or ObjectDisposedException)
            {
                // The start's own failure is the one to report.
            }
            throw;
        }
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Select(a => new Uri(a)).ToList();
        var adminPorts = settings.TryGetValue("Admin:Urls", out var adminUrls) && adminUrls is not null
            ? adminUrls.Split(';', StringSplitOptions.RemoveEmptyEntries).Select(u => new Uri(u).Port).ToHashSet()
            : [];
        var address = addresses.First(a => !adminPorts.Contains(a.Port));
        return new GatewayHost(app, address, addresses.FirstOrDefault(a => adminPorts.Contains(a.Port)) ?? address, configPath);
    }

    /// <summary>Rewrites the watched appsettings.json (the gateway reloads it without a restart).</summary>
    public Task RewriteConfigAsync(IDictionary<string, string?> settings) => File.WriteAllTextAsync(ConfigPath, TestConfig.ToJson(settings));

    /// <summary>
    /// A client that behaves like an outside caller: without a propagator the handler makes no span of its own,
    /// so neither it nor OpenTelemetry's HttpClient instrumentation (listening in this process for the
    /// gateway) adds or rewrites trace headers; a test's own <c>traceparent</c> arrives as sent.
    /// </summary>
    public HttpClient CreateClient(bool followRedirects = false, bool useCookies = false) =>
        new(new SocketsHttpHandler
        {
            AllowAutoRedirect = followRedirects,
            UseCookies = useCookies,
            UseProxy = false,
            ActivityHeadersPropagator = null,
        })
        {
            BaseAddress = BaseAddress,
            Timeout = TimeSpan.FromSeconds(30),
        };

    /// <summary>A client of the admin API on <see cref="AdminAddress"/>, sending <paramref name="secret"/> as its bearer key (null: none).</summary>
    public AdminClient CreateAdminClient(string? secret = TestConfig.AdminSecret)
    {
        var http = new HttpClient(new SocketsHttpHandler { UseCookies = false, UseProxy = false, ActivityHeadersPropagator = null })
        {
            BaseAddress = AdminAddress,
            Timeout = TimeSpan.FromSeconds(30),
        };
        if (secret is not null)
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", secret);
        return new AdminClient(http);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        try
        {
            Directory.Delete(Path.GetDirectoryName(ConfigPath)!, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
