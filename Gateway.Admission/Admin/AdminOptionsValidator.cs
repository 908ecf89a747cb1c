using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Gateway.Admission.Admin;

/// <summary>Validates <c>Admin</c> at start-up and on reload; each failure names the key and shows a right value.</summary>
internal sealed partial class AdminOptionsValidator : IValidateOptions<AdminOptions>
{
    private const string HashHint = "the hex SHA-256 of the bearer secret, 64 hex digits; make a secret and its hash with: SECRET=$(openssl rand -base64 32); printf %s \"$SECRET\" | sha256sum";

    [GeneratedRegex(@"^[A-Za-z0-9_-]{1,32}\z")]
    private static partial Regex KeyIdPattern();

    public ValidateOptionsResult Validate(string? name, AdminOptions options)
    {
        var errors = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Keys.Count; i++)
        {
            var key = options.Keys[i];
            var path = $"{AdminOptions.SectionName}:Keys:{i}";
            if (key.Id is null || !KeyIdPattern().IsMatch(key.Id))
                errors.Add($"{path}:Id must be 1-32 letters, digits, '-' or '_' (e.g. 'ops-oncall'); it names the key in the audit log.");
            else if (!seen.Add(key.Id))
                errors.Add($"{path}:Id '{key.Id}' is used twice; every key needs its own id.");
            if (AdminKeys.TryDecodeHash(key.Sha256) is null)
                errors.Add($"{path}:Sha256 must be {HashHint}.");
        }
        if (options.FailedAttemptsPerClientPerMinute < 1)
            errors.Add($"{AdminOptions.SectionName}:FailedAttemptsPerClientPerMinute is {options.FailedAttemptsPerClientPerMinute}; it must be >= 1 (e.g. 10).");
        if (options.MaxConcurrentConnections < 1)
            errors.Add($"{AdminOptions.SectionName}:MaxConcurrentConnections is {options.MaxConcurrentConnections}; it must be >= 1 (e.g. 1000).");
        if (!string.IsNullOrWhiteSpace(options.Urls))
        {
            foreach (var url in SplitUrls(options.Urls))
            {
                if (TryParsePort(url) is null)
                    errors.Add($"{AdminOptions.SectionName}:Urls has '{url}'; each URL must be http:// or https:// with a fixed port other than 0, separated by ';' (e.g. http://127.0.0.1:8081 or http://+:8081).");
            }
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>The URLs of a Kestrel-style list (<c>;</c>-separated).</summary>
    public static string[] SplitUrls(string? urls) =>
        (urls ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>The distinct ports of a Kestrel-style URL list; URLs without a fixed port (see <see cref="TryParsePort"/>) give none.</summary>
    public static int[] Ports(string? urls) => [.. SplitUrls(urls).Select(TryParsePort).OfType<int>().Distinct()];

    /// <summary>The port of an http(s) URL with a fixed, non-zero TCP port; null for anything else (unix sockets, port 0, garbage).</summary>
    public static int? TryParsePort(string url)
    {
        try
        {
            var address = BindingAddress.Parse(url);
            return !address.IsUnixPipe && !address.IsNamedPipe && address.Port is > 0 and <= 65535 &&
                (address.Scheme.Equals("http", StringComparison.OrdinalIgnoreCase) || address.Scheme.Equals("https", StringComparison.OrdinalIgnoreCase)) &&
                url.Contains("://", StringComparison.Ordinal) && !string.IsNullOrEmpty(address.Host)
                ? address.Port
                : null;
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException)
        {
            return null;
        }
    }
}
