using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Gateway.Admission.Pages;

/// <summary>
/// Validates <c>WaitingRoom:Page</c> at start-up and on reload. Each failure names the key, what is wrong
/// and an example of a right value. A custom template is read and parsed here, so a broken file stops
/// the start instead of showing people a broken page.
/// </summary>
internal sealed partial class PageOptionsValidator(IHostEnvironment environment) : IValidateOptions<PageOptions>
{
    private const string Key = PageOptions.SectionName;
    private const int MaxShortText = 200;
    private const int MaxLongText = 2000;
    private const int MaxLogoUrl = 64 * 1024;

    [GeneratedRegex("^#(?:[0-9A-Fa-f]{3}|[0-9A-Fa-f]{6})$")]
    internal static partial Regex ColorPattern();

    [GeneratedRegex(@"^data:image/(?:png|gif|jpeg|webp|svg\+xml);base64,[A-Za-z0-9+/]+={0,2}$")]
    private static partial Regex DataImagePattern();

    public ValidateOptionsResult Validate(string? name, PageOptions options)
    {
        var errors = new List<string>();
        CheckColor(errors, "PrimaryColor", options.PrimaryColor, "#1d4ed8");
        CheckColor(errors, "BackgroundColor", options.BackgroundColor, "#eef2f7");
        CheckLength(errors, "Title", options.Title, MaxShortText);
        CheckLength(errors, "Heading", options.Heading, MaxShortText);
        CheckLength(errors, "Text", options.Text, MaxLongText);

        if (!string.IsNullOrEmpty(options.LogoUrl) && !TryLogoSource(options.LogoUrl, out _))
            errors.Add($"{Key}:LogoUrl must be a path on this gateway (e.g. /static/logo.svg), an https:// URL (e.g. https://cdn.example.com/logo.png) or a data:image/png;base64,... URI of at most {MaxLogoUrl} characters.");

        if (!string.IsNullOrEmpty(options.TemplatePath))
        {
            var path = ResolvePath(options.TemplatePath, environment.ContentRootPath);
            if (!File.Exists(path))
                errors.Add($"{Key}:TemplatePath: there is no file at '{path}'. Give an absolute path or one relative to the content root ('{environment.ContentRootPath}'), or remove the key to use the built-in page.");
            else if (!TryLoadTemplate(path, out _, out var error))
                errors.Add($"{Key}:TemplatePath ('{path}'): {error}");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>The template file's full path: absolute, or relative to the content root.</summary>
    internal static string ResolvePath(string templatePath, string contentRoot) => Path.GetFullPath(templatePath, contentRoot);

    /// <summary>Reads and parses a template file; on failure <paramref name="error"/> says what to fix.</summary>
    internal static bool TryLoadTemplate(string path, [NotNullWhen(true)] out PageTemplate? template, out string error)
    {
        template = null;
        try
        {
            // Refuse a huge file before reading it: every character takes at least one byte.
            if (new FileInfo(path).Length > PageTemplate.MaxLength * 4L)
            {
                error = $"the file is larger than {PageTemplate.MaxLength * 4 / 1024} KiB; a page people wait on must stay small.";
                return false;
            }
            return PageTemplate.TryParse(File.ReadAllText(path), out template, out error);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error = $"the file cannot be read ({e.Message}).";
            return false;
        }
    }

    /// <summary>
    /// True for a logo URL the page may show. <paramref name="cspSource"/> is the origin the page's
    /// Content-Security-Policy must add for it (https URLs), or null when 'self' or data: covers it.
    /// </summary>
    internal static bool TryLogoSource(string url, out string? cspSource)
    {
        cspSource = null;
        if (url.Length > MaxLogoUrl)
            return false;
        if (url.StartsWith('/'))
            return WaitingRoomPage.IsSameSitePath(url);
        if (url.StartsWith("data:", StringComparison.Ordinal))
            return DataImagePattern().IsMatch(url);
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps || uri.UserInfo.Length > 0 || uri.Host.Length == 0)
            return false;
        // The host as the CSP header carries it: punycode (IdnHost), since a header takes ASCII only; a non-ASCII host
        // (https://티켓.kr/...) made every page answer 500.
        var host = uri.HostNameType == UriHostNameType.IPv6 ? "[" + uri.IdnHost + "]" : uri.IdnHost;
        cspSource = "https://" + host + (uri.IsDefaultPort ? "" : ":" + uri.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return true;
    }

    private static void CheckColor(List<string> errors, string name, string? value, string example)
    {
        if (value is null || !ColorPattern().IsMatch(value))
            errors.Add($"{Key}:{name} is '{value}'; it must be a colour written #rgb or #rrggbb (e.g. {example}).");
    }

    private static void CheckLength(List<string> errors, string name, string? value, int max)
    {
        if (value is not null && value.Length > max)
            errors.Add($"{Key}:{name} is {value.Length} characters; keep it to {max} or fewer.");
    }
}
