using Gateway.Admission.Diagnostics;
using Gateway.Admission.Rooms;
using Gateway.Admission.Tokens;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gateway.Admission.Middleware;

/// <summary>
/// The step of the YARP proxy pipeline that decides whether a request to a gated route may reach the
/// backend. A route is gated when its metadata names a room (<c>Metadata:WaitingRoom</c>); the route
/// config is read per request, so toggling the metadata in appsettings takes effect on reload. A valid
/// admission token (cookie or <c>X-Admission-Token</c>) is checked locally, with no store round trip.
/// </summary>
internal sealed class WaitingRoomGate(AdmissionTokens tokens, RoomRegistry rooms, WaitingRoomMetrics metrics, ILogger<WaitingRoomGate> logger)
{
    public const string MetadataKey = "WaitingRoom";
    public const string HeaderName = "X-Admission-Token";

    public Task InvokeAsync(HttpContext context, Func<Task> next)
    {
        var route = context.GetReverseProxyFeature().Route.Config;
        if (route.Metadata is null || !route.Metadata.TryGetValue(MetadataKey, out var roomId) || string.IsNullOrEmpty(roomId))
            return next();

        var decision = Decide(context, route.RouteId, roomId, out var room);
        switch (decision)
        {
            case GateDecision.Allowed:
                return next();
            case GateDecision.Misconfigured:
                return ApiError.WriteAsync(context, ApiErrorCode.RoomNotConfigured, "This route is gated by a waiting room that is not configured.", TimeSpan.FromSeconds(30));
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
            TimeSpan.FromSeconds(5), new ErrorDetails(EventId: room.Id, JoinUrl: "/api/v1/queue/join", WaitingRoomUrl: waitingRoomUrl));
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
            // Fail closed: a typo in a room name must not open the backend to the crowd.
            Log.GateRoomNotConfigured(logger, routeId, roomId);
            decision = GateDecision.Misconfigured;
        }
        else if (HasValidAdmission(context, room))
            decision = GateDecision.Allowed;
        else
            decision = AcceptsHtml(context.Request) ? GateDecision.Redirected : GateDecision.Rejected;

        var outcome = decision switch
        {
            GateDecision.Allowed => "allowed",
            GateDecision.Redirected => "redirected",
            GateDecision.Rejected => "rejected",
            _ => "misconfigured",
        };
        metrics.Gate(roomId, outcome);
        activity?.SetTag("waitingroom.decision", outcome);
        return decision;
    }

    private bool HasValidAdmission(HttpContext context, Room room)
    {
        var request = context.Request;
        if (request.Headers.TryGetValue(HeaderName, out var header) && tokens.IsValid(header.ToString(), room.Id))
            return true;
        return request.Cookies.TryGetValue(room.CookieName, out var cookie) && tokens.IsValid(cookie, room.Id);
    }

    private enum GateDecision
    {
        Allowed,
        Redirected,
        Rejected,
        Misconfigured,
    }

    private static bool AcceptsHtml(HttpRequest request)
    {
        foreach (var value in request.Headers.Accept)
        {
            if (value is not null && value.Contains("text/html", StringComparison.OrdinalIgnoreCase))
                return true;
        }
        return false;
    }
}
