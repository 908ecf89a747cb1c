using System.Net;
using Microsoft.Extensions.Options;

namespace Gateway.Proxy.Configuration;

/// <summary>
/// <c>ForwardedHeaders</c>: the proxies in front of the gateway whose <c>X-Forwarded-For</c> and
/// <c>X-Forwarded-Proto</c> are trusted. None (the default) = the connection's address is the client and
/// the connection's scheme is the request's.
/// </summary>
public sealed class ForwardedHeadersSettings
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "ForwardedHeaders";

    /// <summary>Addresses of trusted proxies, e.g. <c>10.0.0.5</c>.</summary>
    public List<string> KnownProxies { get; init; } = [];

    /// <summary>Networks of trusted proxies in CIDR, e.g. <c>10.0.0.0/8</c> (a cloud load balancer's range).</summary>
    public List<string> KnownNetworks { get; init; } = [];

    /// <summary>True when any proxy is trusted.</summary>
    public bool Any => KnownProxies.Count > 0 || KnownNetworks.Count > 0;

    /// <summary>The parsed addresses (valid entries only; the validator refuses the rest at start-up).</summary>
    public IEnumerable<IPAddress> Proxies() => KnownProxies.Select(p => IPAddress.TryParse(p, out var a) ? a : null).OfType<IPAddress>();

    /// <summary>The parsed networks (valid entries only).</summary>
    public IEnumerable<IPNetwork> Networks() => KnownNetworks.Where(n => IPNetwork.TryParse(n, out _)).Select(n => IPNetwork.Parse(n));
}

/// <summary>Validates <c>ForwardedHeaders</c> at start-up and on reload, naming the bad entry.</summary>
internal sealed class ForwardedHeadersSettingsValidator : IValidateOptions<ForwardedHeadersSettings>
{
    public ValidateOptionsResult Validate(string? name, ForwardedHeadersSettings options)
    {
        var errors = new List<string>();
        for (var i = 0; i < options.KnownProxies.Count; i++)
        {
            var value = options.KnownProxies[i];
            if (!IPAddress.TryParse(value, out _))
                errors.Add(IPNetwork.TryParse(value, out _)
                    ? $"ForwardedHeaders:KnownProxies:{i} is '{value}', a network: put networks under ForwardedHeaders:KnownNetworks (CIDR), addresses under KnownProxies (e.g. 10.0.0.5)."
                    : $"ForwardedHeaders:KnownProxies:{i} is '{value}', not an IP address (e.g. 10.0.0.5 or 2001:db8::5).");
        }
        for (var i = 0; i < options.KnownNetworks.Count; i++)
        {
            var value = options.KnownNetworks[i];
            if (!IPNetwork.TryParse(value, out _))
                errors.Add($"ForwardedHeaders:KnownNetworks:{i} is '{value}', not a network in CIDR notation (e.g. 10.0.0.0/8 or 2001:db8::/32).");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
