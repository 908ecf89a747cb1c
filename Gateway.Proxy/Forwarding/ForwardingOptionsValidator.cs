using Microsoft.Extensions.Options;

namespace Gateway.Proxy.Forwarding;

/// <summary>Validates <c>Forwarding</c> at start-up and on reload, naming the key and giving an example.</summary>
internal sealed class ForwardingOptionsValidator : IValidateOptions<ForwardingOptions>
{
    public ValidateOptionsResult Validate(string? name, ForwardingOptions options)
    {
        var errors = new List<string>();
        if (options.ConnectTimeout <= TimeSpan.Zero || options.ConnectTimeout > TimeSpan.FromMinutes(2))
            errors.Add($"Forwarding:ConnectTimeout is {options.ConnectTimeout}; it must be between 00:00:00.001 and 00:02:00 (e.g. 00:00:05).");
        if (options.PooledConnectionIdleTimeout < TimeSpan.Zero)
            errors.Add($"Forwarding:PooledConnectionIdleTimeout is {options.PooledConnectionIdleTimeout}; it must not be negative (e.g. 00:01:00).");
        if (options.PooledConnectionLifetime < TimeSpan.Zero)
            errors.Add($"Forwarding:PooledConnectionLifetime is {options.PooledConnectionLifetime}; it must not be negative (e.g. 00:05:00).");
        if (options.MaxConnectionsPerServer < 1)
            errors.Add($"Forwarding:MaxConnectionsPerServer is {options.MaxConnectionsPerServer}; it must be >= 1 (e.g. 1024).");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
