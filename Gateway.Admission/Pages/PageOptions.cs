namespace Gateway.Admission.Pages;

/// <summary>
/// Branding of the waiting-room page, bound from <c>WaitingRoom:Page</c>. Every text value is
/// HTML-encoded when the page is rendered; unset texts fall back to the built-in Korean or English
/// wording, chosen from the visitor's browser language. See docs/WAITING-ROOM-PAGE.md.
/// </summary>
public sealed record PageOptions
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "WaitingRoom:Page";

    /// <summary>The browser tab title; unset = "Waiting room" / "대기실".</summary>
    public string? Title { get; init; }

    /// <summary>The page's main heading; unset = the built-in "You're in line" / "대기열에 들어왔습니다".</summary>
    public string? Heading { get; init; }

    /// <summary>The paragraph under the heading (line breaks are kept); unset = the built-in explanation.</summary>
    public string? Text { get; init; }

    /// <summary>Buttons, the progress bar and the position number: <c>#rgb</c> or <c>#rrggbb</c>.</summary>
    public string PrimaryColor { get; init; } = "#1d4ed8";

    /// <summary>The page behind the card: <c>#rgb</c> or <c>#rrggbb</c>.</summary>
    public string BackgroundColor { get; init; } = "#eef2f7";

    /// <summary>
    /// A logo above the heading: a path on this gateway (<c>/static/logo.svg</c>), an <c>https://</c> URL
    /// (its origin is added to the page's Content-Security-Policy) or a <c>data:image/...;base64,</c> URI.
    /// </summary>
    public string? LogoUrl { get; init; }

    /// <summary>
    /// An HTML file that replaces the built-in page (absolute, or relative to the content root). It uses the
    /// same <c>{{placeholders}}</c> and must contain <c>{{nonce}}</c> and <c>{{config}}</c>.
    /// </summary>
    public string? TemplatePath { get; init; }
}
