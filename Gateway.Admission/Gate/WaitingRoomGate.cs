using System.Collections.Concurrent;
using Gateway.Admission.Api;
using Gateway.Admission.Diagnostics;
using Gateway.Admission.Rooms;
using Gateway.Admission.Tokens;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy.Model;

namespace Gateway.Admission.Gate;

/// <summary>
/// The step of the YARP proxy pipeline that decides whether a request to a gated route may reach the
/// backend (added by <c>UseWaitingRoomGate</c>, like YARP's own pipeline steps). A route is gated when its
/// metadata names a room (<c>Metadata:WaitingRoom</c>); the route config is read per request, so toggling
/// the metadata in appsettings takes effect on reload. A valid admission (cookie or <c>X-Admission-Token</c>)
/// is checked locally, with no store round trip: a MAC (or a cache hit for a token verified before) and a
/// look-up in the revoked set every instance refreshes each tick.
/// </summary>
internal sealed class WaitingRoomGate(
    RequestDelegate next,
    AdmissionTokens tokens,
    RoomRegistry rooms,
    RevokedAdmissions revoked,
    WaitingRoomMetrics metrics,
    ILogger<WaitingRoomGate> logger)
{
    public const string MetadataKey = "WaitingRoom";
    public const string HeaderName = "X-Admission-Token";

    private const long MisconfiguredLogEveryMs = 60_000;

    // Keyed by route id (from configuration, so bounded): when this gate last logged the route's missing room.
    private readonly ConcurrentDictionary<string, long> _misconfiguredLogged = new(StringComparer.Ordinal);

    public Task InvokeAsync(HttpContext context)
    {
        var route = context.Features.Get<IReverseProxyFeature>()?.Route.Config;
        if (route?.Metadata is null || !route.Metadata.TryGetValue(MetadataKey, out var roomId) || string.IsNullOrEmpty(roomId))
            return next(context);

        var decision = Decide(context, route.RouteId, roomId, out var room);
        switch (decision)
        {
            case GateDecision.Allowed:
                return next(context);
            case GateDecision.Misconfigured:
                return ApiError.WriteAsync(context, ApiErrorCode.RoomNotConfigured, "This route is gated by a waiting room that is not configured.", TimeSpan.FromSeconds(30),
                    new ErrorDetails(EventId: roomId));
        }

        var waitingRoomUrl = "/waiting-room/" + Uri.EscapeDataString(room!.Id);
        if (decision == GateDecision.Redirected)
        {
            var target = context.Request.PathBase + context.Request.Path + context.Request.QueryString;
            context.Response.StatusCode = StatusCodes.Status302Found;
            context.Response.Headers.Location = waitingRoomUrl + "?return=" + Uri.EscapeDataString(target);
            context.Response.Headers.CacheControl = "no-store";
            return Task.CompletedTask;
        }
        return ApiError.WriteAsync(context, ApiErrorCode.AdmissionRequired, "This route needs an admission from the waiting room: join the queue, poll status, then enter.",
            TimeSpan.FromSeconds(5), new ErrorDetails(EventId: room.Id, JoinUrl: QueueEndpoints.Prefix + "/join", WaitingRoomUrl: waitingRoomUrl));
    }

    /// <summary>The decision, in its own span that ends before forwarding starts (so forwarding is its sibling, not its child).</summary>
    private GateDecision Decide(HttpContext context, string routeId, string roomId, out Room? room)
    {
        using var activity = WaitingRoomTelemetry.Source.StartActivity("waitingroom gate");
        activity?.SetTag("waitingroom.room", roomId);
        activity?.SetTag("waitingroom.route", routeId);

        GateDecision decision;
        if (!rooms.TryGet(roomId, out room))
        {
            // Fail closed: a typo in a room name must not open the backend to the crowd. Logged once a minute per route,
            // not per request: the crowd must not decide how much is written.
            var now = Environment.TickCount64;
            if (now - _misconfiguredLogged.GetValueOrDefault(routeId, long.MinValue / 2) >= MisconfiguredLogEveryMs)
            {
                _misconfiguredLogged[routeId] = now;
                Log.GateRoomNotConfigured(logger, routeId, roomId);
            }
            decision = GateDecision.Misconfigured;
        }
        else if (Admission(context, room) is { } admissionId)
        {
            // The origin may end this admission with X-Waiting-Room-Command: revoke (see AdmissionTransforms).
            context.Features.Set(new GateAdmission(room, admissionId));
            decision = GateDecision.Allowed;
        }
        else
            decision = AcceptsHtml(context.Request) ? GateDecision.Redirected : GateDecision.Rejected;

        metrics.Gate(roomId, decision);
        activity?.SetTag("waitingroom.decision", WaitingRoomMetrics.Outcome(decision));
        return decision;
    }

    /// <summary>The admission id of a valid, unrevoked admission for <paramref name="room"/> on this request, if any.</summary>
    private string? Admission(HttpContext context, Room room)
    {
        var request = context.Request;
        if (request.Headers.TryGetValue(HeaderName, out var header) && Check(tokens, revoked, header.ToString(), room.Id) is { } fromHeader)
            return fromHeader;
        if (!request.Cookies.TryGetValue(room.CookieName, out var cookie))
            return null;
        if (Check(tokens, revoked, cookie, room.Id) is { } fromCookie)
            return fromCookie;
        // The cookie sent more than once (another one set for a parent domain or another path, say): the parsed
        // collection keeps one, and a stale or planted one must not hide the admission. A few more are tried, no more,
        // so a header full of them costs a bounded number of MACs.
        var tried = 0;
        foreach (var value in SameNameCookies(request.Headers.Cookie, room.CookieName))
        {
            if (value == cookie)
                continue;
            if (++tried > MaxSameNameCookies)
                break;
            if (Check(tokens, revoked, value, room.Id) is { } another)
                return another;
        }
        return null;
    }

    private const int MaxSameNameCookies = 4;

    /// <summary>Every value of the cookie <paramref name="name"/> (its name in any case, as ASP.NET Core reads it) in the Cookie headers.</summary>
    internal static IEnumerable<string> SameNameCookies(StringValues headers, string name)
    {
        foreach (var header in headers)
        {
            foreach (var pair in (header ?? "").Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                var equals = pair.IndexOf('=', StringComparison.Ordinal);
                if (equals > 0 && pair.AsSpan(0, equals).Trim().Equals(name, StringComparison.OrdinalIgnoreCase))
                    yield return pair[(equals + 1)..].Trim().Trim('"');
            }
        }
    }

    /// <summary>
    /// The gate's whole check of one token: its admission id when it is a valid admission for the room that
    /// nobody revoked, else null. No store round trip: a MAC (or a cache hit) and a frozen-set look-up
    /// (measured in docs/BENCHMARKS.md, "Revocation check").
    /// </summary>
    internal static string? Check(AdmissionTokens tokens, RevokedAdmissions revoked, string? token, string roomId) =>
        tokens.Verify(token, roomId) is { } admissionId && !revoked.Contains(admissionId) ? admissionId : null;

    /// <summary>Whether the request takes <c>text/html</c> (a browser's navigation): named in Accept with a quality above 0.</summary>
    internal static bool AcceptsHtml(HttpRequest request)
    {
        var accept = request.Headers.Accept;
        // Parsed only when it names text/html at all: a flood of unadmitted API calls costs no allocation here.
        var named = false;
        foreach (var value in accept)
            named |= value is not null && value.Contains("text/html", StringComparison.OrdinalIgnoreCase);
        if (!named || !MediaTypeHeaderValue.TryParseList(accept, out var types))
            return false;
        foreach (var type in types)
        {
            if (type.MediaType.Equals("text/html", StringComparison.OrdinalIgnoreCase) && type.Quality is not <= 0)
                return true;
        }
        return false;
    }
}

/// <summary>What the gate decided for a request to a gated route.</summary>
internal enum GateDecision
{
    Allowed,
    Redirected,
    Rejected,
    Misconfigured,
}

/// <summary>The admission a gated request was let through with (request feature), for the origin's revoke command.</summary>
internal sealed record GateAdmission(Room Room, string AdmissionId);
