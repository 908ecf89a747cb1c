using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.RegularExpressions;

namespace Gateway.Admission.Pages;

/// <summary>
/// HTML with <c>{{name}}</c> placeholders, parsed once. The values known at start-up (branding) are bound
/// once by <see cref="Bind"/>, so a request only fills in what differs per request: the CSP nonce, the
/// language, the room and the script's configuration.
/// </summary>
internal sealed partial class PageTemplate
{
    /// <summary>Every placeholder a template may use (documented in docs/WAITING-ROOM-PAGE.md).</summary>
    public static readonly FrozenSet<string> Names = new[]
    {
        "nonce", "config", "lang", "event_id", "title", "heading", "text", "logo",
        "primary_color", "on_primary_color", "background_color", "on_background_color",
    }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>Without these the page's script cannot run (CSP) or does not know its room.</summary>
    public static readonly string[] Required = ["nonce", "config"];

    /// <summary>Templates larger than this are refused: a page people wait on must stay small.</summary>
    public const int MaxLength = 512 * 1024;

    private readonly Segment[] _segments;

    private PageTemplate(Segment[] segments) => _segments = segments;

    [GeneratedRegex(@"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")]
    private static partial Regex Placeholder();

    /// <summary>Parses a template; on failure <paramref name="error"/> says what to fix.</summary>
    public static bool TryParse(string html, [NotNullWhen(true)] out PageTemplate? template, out string error)
    {
        template = null;
        if (html.Length > MaxLength)
        {
            error = $"the template is {html.Length} characters; keep it under {MaxLength}.";
            return false;
        }

        var segments = new List<Segment>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var at = 0;
        foreach (Match match in Placeholder().Matches(html))
        {
            var name = match.Groups[1].Value;
            if (!Names.Contains(name))
            {
                error = $"{{{{{name}}}}} is not a placeholder; the known ones are {string.Join(", ", Names.Order(StringComparer.Ordinal).Select(n => "{{" + n + "}}"))}.";
                return false;
            }
            if (match.Index > at)
                segments.Add(new Segment(html[at..match.Index], Slot: null));
            segments.Add(new Segment("", name));
            seen.Add(name);
            at = match.Index + match.Length;
        }
        if (at < html.Length)
            segments.Add(new Segment(html[at..], Slot: null));

        var missing = Required.Where(r => !seen.Contains(r)).ToArray();
        if (missing.Length > 0)
        {
            error = $"the template lacks {string.Join(" and ", missing.Select(m => "{{" + m + "}}"))}: put nonce=\"{{{{nonce}}}}\" on every inline <script> and <style> (the Content-Security-Policy blocks them otherwise) and keep <script type=\"application/json\" id=\"wr-config\">{{{{config}}}}</script>.";
            return false;
        }

        template = new PageTemplate([.. segments]);
        error = "";
        return true;
    }

    /// <summary>A copy with the given placeholders replaced by their (already encoded) values.</summary>
    public PageTemplate Bind(IReadOnlyDictionary<string, string> values)
    {
        var bound = new List<Segment>();
        var literal = new StringBuilder();
        foreach (var segment in _segments)
        {
            if (segment.Slot is null)
                literal.Append(segment.Text);
            else if (values.TryGetValue(segment.Slot, out var value))
                literal.Append(value);
            else
            {
                if (literal.Length > 0)
                    bound.Add(new Segment(literal.ToString(), Slot: null));
                literal.Clear();
                bound.Add(segment);
            }
        }
        if (literal.Length > 0)
            bound.Add(new Segment(literal.ToString(), Slot: null));
        return new PageTemplate([.. bound]);
    }

    /// <summary>Renders with the per-request values; placeholders left unbound and unknown here render empty.</summary>
    public string Render(in RequestValues values)
    {
        var builder = new StringBuilder(capacity: 16 * 1024);
        foreach (var segment in _segments)
        {
            builder.Append(segment.Slot switch
            {
                null => segment.Text,
                "nonce" => values.Nonce,
                "lang" => values.Lang,
                "event_id" => values.EventId,
                "config" => values.Config,
                _ => "",
            });
        }
        return builder.ToString();
    }

    /// <summary>What differs per request. All values must already be encoded for where they go.</summary>
    public readonly record struct RequestValues(string Nonce, string Lang, string EventId, string Config);

    private readonly record struct Segment(string Text, string? Slot);
}
