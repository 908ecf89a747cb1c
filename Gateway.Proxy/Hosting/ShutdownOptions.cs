using Microsoft.Extensions.Options;

namespace Gateway.Proxy.Hosting;

/// <summary><c>Shutdown</c>: how the gateway leaves a rolling update without failing a request.</summary>
public sealed class ShutdownOptions
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "Shutdown";

    /// <summary>
    /// After SIGTERM, how long <c>/readyz</c> answers 503 while the gateway still serves everything, so load
    /// balancers stop sending new requests before it stops accepting them.
    /// </summary>
    public TimeSpan DrainDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The longest in-flight requests may then take to finish before the process exits anyway.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>Validates <c>Shutdown</c>.</summary>
internal sealed class ShutdownOptionsValidator : IValidateOptions<ShutdownOptions>
{
    public ValidateOptionsResult Validate(string? name, ShutdownOptions options)
    {
        var errors = new List<string>();
        if (options.DrainDelay < TimeSpan.Zero || options.DrainDelay > TimeSpan.FromMinutes(5))
            errors.Add($"Shutdown:DrainDelay is {options.DrainDelay}; it must be between 00:00:00 and 00:05:00 (e.g. 00:00:05).");
        if (options.Timeout <= TimeSpan.Zero || options.Timeout > TimeSpan.FromMinutes(10))
            errors.Add($"Shutdown:Timeout is {options.Timeout}; it must be between 00:00:00.001 and 00:10:00 (e.g. 00:00:30).");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
