using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// Options bound from configuration keys as an operator writes them, the way the gateway binds its sections, and
/// the failures their validator reports: the messages an operator reads when the gateway refuses to start.
/// </summary>
internal static class OptionsValidation
{
    /// <summary>The gateway's own Gateway.Proxy/appsettings.json.</summary>
    public static IConfiguration ShippedSettings() =>
        new ConfigurationBuilder().AddJsonFile(Repo.File("Gateway.Proxy", "appsettings.json")).Build();

    public static IConfiguration Configuration(IEnumerable<KeyValuePair<string, string?>> settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(settings).Build();

    public static TOptions Bind<TOptions>(IConfiguration configuration, string section) where TOptions : class, new() =>
        configuration.GetSection(section).Get<TOptions>() ?? new TOptions();

    public static string[] Failures<TOptions>(IValidateOptions<TOptions> validator, TOptions options) where TOptions : class =>
        validator.Validate(Options.DefaultName, options) is { Failed: true, Failures: { } failures } ? [.. failures] : [];
}
