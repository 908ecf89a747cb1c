using System.Globalization;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Gateway.Admission.Eta;
using Gateway.Admission.Queue;
using Gateway.Admission.Rooms;
using Gateway.Admission.Tokens;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Gateway.Admission.Pages;

/// <summary>
/// <c>GET /waiting-room/{eventId}</c>: the page a person waits on. It joins the queue (or resumes the place
/// kept in localStorage), shows position, people ahead, the estimated wait and progress, enters when it is
/// the person's turn and sends them on to the same-site path they first asked for. The page is one
/// self-contained HTML file (Pages/waiting-room.html, or the operator's own) whose script talks only to
/// the queue API on this gateway, so it keeps working while the backends are overloaded.
/// </summary>
internal sealed class WaitingRoomPage : IDisposable
{
    public const string PathPrefix = "/waiting-room/";

    private const string HtmlContentType = "text/html; charset=utf-8";
    private const string BuiltInResource = "Gateway.Admission.Pages.waiting-room.html";

    private static readonly Lazy<PageTemplate> BuiltIn = new(LoadBuiltIn);

    private readonly RoomRegistry _rooms;
    private readonly RoomSnapshots _snapshots;
    private readonly CallerIdentity _identity;
    private readonly IOptionsMonitor<WaitingRoomOptions> _waitingRoom;
    private readonly string _contentRoot;
    private readonly IDisposable? _subscription;
    private volatile BoundPage _page;

    public WaitingRoomPage(IOptionsMonitor<PageOptions> options, RoomRegistry rooms, RoomSnapshots snapshots, IHostEnvironment environment, CallerIdentity identity, IOptionsMonitor<WaitingRoomOptions> waitingRoom)
    {
        _rooms = rooms;
        _snapshots = snapshots;
        _identity = identity;
        _waitingRoom = waitingRoom;
        _contentRoot = environment.ContentRootPath;
        _page = Bind(options.CurrentValue);
        _subscription = options.OnChange(o => _page = Bind(o));
    }

    /// <summary>Maps the page, the service worker it uses to give a place back when it is closed, and the worker that solves proof-of-work challenges.</summary>
    public static void Map(IEndpointRouteBuilder endpoints)
    {
        // HEAD too (uptime checks, link previews): the same headers, no body.
        endpoints.MapMethods(PathPrefix + "{eventId}", [HttpMethods.Get, HttpMethods.Head], (HttpContext context, string eventId, WaitingRoomPage page) => page.WriteAsync(context, eventId));
        LeaveWorker.Map(endpoints);
        ProofOfWorkWorker.Map(endpoints);
    }

    public void Dispose() => _subscription?.Dispose();

    /// <summary>
    /// True for a same-site relative path: one leading "/", not "//" or "/\" (both leave the site), and no
    /// control characters or spaces (browsers drop tabs and newlines, which would turn "/\t/x" into "//x").
    /// </summary>
    public static bool IsSameSitePath(string? path)
    {
        if (string.IsNullOrEmpty(path) || path[0] != '/' || (path.Length > 1 && path[1] is '/' or '\\'))
            return false;
        foreach (var c in path)
        {
            if (c <= ' ' || c == '\u007f')
                return false;
        }
        return true;
    }

    internal Task WriteAsync(HttpContext context, string eventId)
    {
        var page = _page;
        var nonce = NewNonce();
        var response = context.Response;
        response.Headers.CacheControl = "no-store";
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers.XFrameOptions = "DENY";
        response.Headers["Referrer-Policy"] = "same-origin";
        response.Headers.ContentSecurityPolicy = page.ContentSecurityPolicy(nonce);
        response.ContentType = HtmlContentType;

        if (!WaitingRoomOptionsValidator.RoomIdPattern().IsMatch(eventId) || !_rooms.TryGet(eventId, out var room))
        {
            response.StatusCode = StatusCodes.Status404NotFound;
            return response.WriteAsync(NotFoundPage(nonce), context.RequestAborted);
        }

        // The browser's identity comes with the page, before any join: two tabs opened at the same moment then
        // join as one caller and share one place.
        if (_identity.Read(context.Request.Cookies[CallerIdentity.CookieName]) is null)
            response.Cookies.Append(CallerIdentity.CookieName, _identity.Mint().Cookie, Api.Cookies.Options(context, _waitingRoom.CurrentValue, CallerIdentity.CookieLifetime));

        var config = new PageConfig(room.Id, ReturnPath(context.Request.Query["return"].ToString()), LeaveWorker.Path,
            ProofOfWorkWorker.Path, room.Options.ProofOfWork.Enabled, Schedule.ShuffleAtOpen(room, _snapshots.Get(room.Id)));
        var korean = EtaMessages.PrefersKorean(context.Request.Headers.AcceptLanguage);
        var html = page.Template.Render(new PageTemplate.RequestValues(
            nonce,
            korean ? "ko" : "en",
            HtmlEncoder.Default.Encode(room.Id),
            // The default JSON encoder escapes <, >, & and quotes, so the value cannot end the <script> it sits in.
            JsonSerializer.Serialize(config, PageJsonContext.Default.PageConfig)));
        return response.WriteAsync(html, context.RequestAborted);
    }

    /// <summary>
    /// Where the person goes once admitted: the path they first asked for when it is on this site, else
    /// the home page. Never a waiting room again, which would admit them in a loop.
    /// </summary>
    private static string ReturnPath(string requested) =>
        IsSameSitePath(requested) && requested.Length <= 2048 && !LeadsToAWaitingRoom(requested) ? requested : "/";

    /// <summary>
    /// True when <paramref name="path"/> reaches a waiting room however it is written: the server and the browser undo
    /// percent-encoding (<c>/%77aiting-room/x</c>, passed on as <c>/%2577aiting-room/x</c>), dot segments
    /// (<c>/./waiting-room/x</c>) and backslashes, so the check reads the path the way they will. Decoded at most four
    /// times: a path still encoded after that is refused as well.
    /// </summary>
    internal static bool LeadsToAWaitingRoom(string path)
    {
        var end = path.IndexOfAny(['?', '#']);
        var decoded = end < 0 ? path : path[..end];
        for (var round = 0; ; round++)
        {
            var next = Uri.UnescapeDataString(decoded);
            if (next == decoded)
                break;
            if (round == 4)
                return true;
            decoded = next;
        }
        var segments = new List<string>();
        foreach (var segment in decoded.Replace('\\', '/').Split('/'))
        {
            if (segment is "" or ".")
                continue;
            if (segment == "..")
            {
                if (segments.Count > 0)
                    segments.RemoveAt(segments.Count - 1);
                continue;
            }
            segments.Add(segment);
        }
        return segments.Count > 0 && string.Equals(segments[0], PathPrefix.Trim('/'), StringComparison.OrdinalIgnoreCase);
    }

    private BoundPage Bind(PageOptions options)
    {
        PageTemplate template;
        if (string.IsNullOrEmpty(options.TemplatePath))
            template = BuiltIn.Value;
        else
        {
            var path = PageOptionsValidator.ResolvePath(options.TemplatePath, _contentRoot);
            // The validator has just read the same file; failing here means it changed in between.
            if (!PageOptionsValidator.TryLoadTemplate(path, out var custom, out var error))
                throw new InvalidOperationException($"{PageOptions.SectionName}:TemplatePath ('{path}'): {error}");
            template = custom;
        }

        string? logoSource = null;
        var logo = "";
        if (!string.IsNullOrEmpty(options.LogoUrl) && PageOptionsValidator.TryLogoSource(options.LogoUrl, out logoSource))
            logo = $"<img class=\"logo\" src=\"{HtmlEncoder.Default.Encode(options.LogoUrl)}\" alt=\"\">";

        var primary = options.PrimaryColor.ToLowerInvariant();
        var background = options.BackgroundColor.ToLowerInvariant();
        var bound = template.Bind(new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["title"] = Encode(options.Title),
            ["heading"] = Encode(options.Heading),
            ["text"] = Encode(options.Text),
            ["logo"] = logo,
            ["primary_color"] = primary,
            ["on_primary_color"] = ReadableOn(primary),
            ["background_color"] = background,
            ["on_background_color"] = ReadableOn(background),
        });
        return new BoundPage(bound, logoSource);
    }

    private static string Encode(string? value) => string.IsNullOrWhiteSpace(value) ? "" : HtmlEncoder.Default.Encode(value.Trim());

    private const string DarkText = "#111827";
    private static readonly double DarkLuminance = Luminance(DarkText);

    /// <summary>White or <see cref="DarkText"/>, whichever contrasts more with <paramref name="hex"/> (WCAG 2 contrast ratio).</summary>
    internal static string ReadableOn(string hex)
    {
        var luminance = Luminance(hex);
        return 1.05 / (luminance + 0.05) >= (luminance + 0.05) / (DarkLuminance + 0.05) ? "#ffffff" : DarkText;
    }

    /// <summary>WCAG 2 relative luminance of a validated #rgb or #rrggbb colour.</summary>
    private static double Luminance(string hex)
    {
        var digits = hex.AsSpan(1);
        Span<double> rgb = stackalloc double[3];
        for (var i = 0; i < 3; i++)
        {
            var value = digits.Length == 3
                ? int.Parse([digits[i], digits[i]], NumberStyles.HexNumber, CultureInfo.InvariantCulture)
                : int.Parse(digits.Slice(i * 2, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            var c = value / 255.0;
            rgb[i] = c <= 0.03928 ? c / 12.92 : Math.Pow((c + 0.055) / 1.055, 2.4);
        }
        return 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
    }

    private static string NewNonce()
    {
        Span<byte> bytes = stackalloc byte[16];
        RandomNumberGenerator.Fill(bytes);
        return Convert.ToBase64String(bytes);
    }

    private static string NotFoundPage(string nonce) =>
        $$"""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="robots" content="noindex"><title>Waiting room not found</title>
        <style nonce="{{nonce}}">body{margin:0;padding:48px 16px;font:16px/1.5 system-ui,sans-serif;color:#111827;background:#f3f4f6;text-align:center}a{color:#1d4ed8}</style></head>
        <body><main><h1>Waiting room not found</h1><p>There is no waiting room at this address. Check the link, or start again from the home page.</p>
        <p lang="ko">이 주소에는 대기실이 없습니다. 링크를 확인하시거나 홈페이지에서 다시 시작해 주세요.</p>
        <p><a href="/">Home / 홈</a></p></main></body></html>
        """;

    private static PageTemplate LoadBuiltIn()
    {
        using var stream = typeof(WaitingRoomPage).Assembly.GetManifestResourceStream(BuiltInResource)
            ?? throw new InvalidOperationException($"The embedded resource {BuiltInResource} is missing from the build.");
        using var reader = new StreamReader(stream);
        return PageTemplate.TryParse(reader.ReadToEnd(), out var template, out var error)
            ? template
            : throw new InvalidOperationException($"The built-in waiting-room page is invalid: {error}");
    }

    /// <summary>The template with the branding bound, and the policy that lets exactly it run.</summary>
    private sealed class BoundPage(PageTemplate template, string? logoSource)
    {
        private readonly string _images = logoSource is null ? "'self' data:" : "'self' data: " + logoSource;

        public PageTemplate Template { get; } = template;

        public string ContentSecurityPolicy(string nonce) =>
            $"default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'nonce-{nonce}'; img-src {_images}; connect-src 'self'; " +
            "worker-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
    }
}

/// <summary>What the page's script needs from the server, rendered into <c>{{config}}</c>.</summary>
/// <param name="Pow">Whether the room asks for a solved challenge at join (the script also learns it from a CHALLENGE_REQUIRED answer).</param>
/// <param name="Shuffle">Whether the opening gives the pre-queue a random order (what the page tells people there).</param>
internal sealed record PageConfig(string EventId, string Return, string LeaveWorker, string PowWorker, bool Pow, bool Shuffle);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(PageConfig))]
internal sealed partial class PageJsonContext : JsonSerializerContext;
