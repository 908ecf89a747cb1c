using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Threading.RateLimiting;
using Gateway.Admission.Eta;
using Gateway.Admission.Queue;
using Gateway.Admission.Rooms;
using Gateway.Admission.Storage;
using Gateway.Admission.Tokens;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace Gateway.Admission.Middleware;

/// <summary>The queue API of CONTRACT.md: join, status, enter, leave under <c>/api/v1/queue</c>.</summary>
internal sealed partial class QueueEndpoints(
    QueueService queue,
    RoomRegistry rooms,
    JoinRateLimiter joinLimiter,
    IOptionsMonitor<WaitingRoomOptions> options)
{
    private const int MaxBodyBytes = 4096;

    [GeneratedRegex("^[A-Za-z0-9._:@+-]{1,128}$")]
    private static partial Regex UserIdPattern();

    [GeneratedRegex("^[A-Za-z0-9._:-]{1,128}$")]
    private static partial Regex IdempotencyKeyPattern();

    private TimeSpan RetryAfter => options.CurrentValue.RetryAfter;

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/v1/queue");
        group.MapPost("/join", (HttpContext c, QueueEndpoints e) => e.JoinAsync(c));
        group.MapGet("/status", (HttpContext c, QueueEndpoints e) => e.StatusAsync(c));
        group.MapPost("/enter", (HttpContext c, QueueEndpoints e) => e.EnterAsync(c));
        group.MapDelete("/leave", (HttpContext c, QueueEndpoints e) => e.LeaveAsync(c));
        // navigator.sendBeacon can only POST.
        group.MapPost("/leave", (HttpContext c, QueueEndpoints e) => e.LeaveAsync(c));
    }

    private async Task JoinAsync(HttpContext context)
    {
        var request = await ReadJsonAsync(context, QueueJsonContext.Api.JoinRequest);
        if (request is null)
        {
            await ApiError.WriteAsync(context, ApiErrorCode.InvalidRequest, "The body must be JSON like {\"event_id\": \"concert\", \"user_id\": \"optional\"}.");
            return;
        }
        if (!TryFindRoom(request.EventId, out var room, out var error, out var message))
        {
            await ApiError.WriteAsync(context, error, message);
            return;
        }
        if (request.UserId is not null && !UserIdPattern().IsMatch(request.UserId))
        {
            await ApiError.WriteAsync(context, ApiErrorCode.InvalidUserId, "user_id must be 1-128 characters from letters, digits and . _ : @ + -.");
            return;
        }
        string? idempotencyKey = context.Request.Headers["Idempotency-Key"];
        if (idempotencyKey is not null && !IdempotencyKeyPattern().IsMatch(idempotencyKey))
        {
            await ApiError.WriteAsync(context, ApiErrorCode.InvalidIdempotencyKey, "Idempotency-Key must be 1-128 characters from letters, digits and . _ : -.");
            return;
        }
        if (!joinLimiter.TryAcquire(context.Connection.RemoteIpAddress))
        {
            queue.RefusedJoin(room, "rate_limited");
            await ApiError.WriteAsync(context, ApiErrorCode.RateLimited, "Too many joins from this client; wait and retry.", TimeSpan.FromMinutes(1) / Math.Max(1, options.CurrentValue.JoinsPerClientPerMinute));
            return;
        }

        QueueEntry entry;
        try
        {
            entry = await queue.JoinAsync(room, request.UserId, idempotencyKey);
        }
        catch (StoreUnavailableException)
        {
            queue.RefusedJoin(room, "unavailable");
            await ApiError.WriteAsync(context, ApiErrorCode.StoreUnavailable, "The waiting room is briefly unavailable; retry shortly.", RetryAfter);
            return;
        }
        if (entry.Outcome == QueueOutcome.Full)
        {
            await ApiError.WriteAsync(context, ApiErrorCode.QueueFull, "The queue is full; retry later.", RetryAfter, new ErrorDetails(EventId: room.Id));
            return;
        }

        var korean = EtaMessages.PrefersKorean(context.Request.Headers.AcceptLanguage);
        var eta = queue.Eta(room, entry);
        context.Response.StatusCode = StatusCodes.Status202Accepted;
        context.Response.Headers.CacheControl = "no-store";
        await context.Response.WriteAsJsonAsync(
            new JoinResponse(entry.Token, StatusName(entry.State), entry.Position, eta.Seconds, eta.Confidence, Message(entry.State, eta, korean), entry.State != EntryState.Waiting, room.Id),
            QueueJsonContext.Api.JoinResponse);
    }

    private async Task StatusAsync(HttpContext context)
    {
        var token = context.Request.Query["token"].ToString();
        if (!TryFindToken(token, out var room, out _))
        {
            await ApiError.WriteAsync(context, ApiErrorCode.TokenNotFound, "This waiting token is unknown, has left, was dropped or has expired; join again.");
            return;
        }
        var korean = EtaMessages.PrefersKorean(context.Request.Headers.AcceptLanguage);
        context.Response.Headers.CacheControl = "no-store";
        QueueEntry entry;
        try
        {
            entry = await queue.StatusAsync(room, token);
        }
        catch (StoreUnavailableException)
        {
            // The original's graceful form: still waiting, position unknown, retry shortly.
            context.Response.Headers.RetryAfter = ((long)RetryAfter.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
            await context.Response.WriteAsJsonAsync(
                new StatusResponse("waiting", null, null, 0, EtaMessages.Degraded(korean), false, null, room.Id) { Degraded = true },
                QueueJsonContext.Api.StatusResponse);
            return;
        }
        if (entry.Outcome == QueueOutcome.NotFound)
        {
            await ApiError.WriteAsync(context, ApiErrorCode.TokenNotFound, "This waiting token is unknown, has left, was dropped or has expired; join again.");
            return;
        }
        var eta = queue.Eta(room, entry);
        var waited = (long)Math.Max(0, ((entry.ReadyAt ?? entry.Now) - entry.JoinedAt).TotalSeconds);
        await context.Response.WriteAsJsonAsync(
            new StatusResponse(StatusName(entry.State), entry.Position, eta.Seconds, eta.Confidence, Message(entry.State, eta, korean), entry.State != EntryState.Waiting, waited, room.Id),
            QueueJsonContext.Api.StatusResponse);
    }

    private async Task EnterAsync(HttpContext context)
    {
        var request = await ReadJsonAsync(context, QueueJsonContext.Api.EnterRequest);
        if (request?.WaitingToken is null)
        {
            await ApiError.WriteAsync(context, ApiErrorCode.InvalidRequest, "The body must be JSON like {\"waiting_token\": \"...\"}.");
            return;
        }
        if (!TryFindToken(request.WaitingToken, out var room, out var subject))
        {
            await ApiError.WriteAsync(context, ApiErrorCode.TokenNotFound, "This waiting token is unknown, has left, was dropped or has expired; join again.");
            return;
        }

        QueueEntry entry;
        string? admission;
        try
        {
            (entry, admission) = await queue.EnterAsync(room, request.WaitingToken, subject);
        }
        catch (StoreUnavailableException)
        {
            queue.RefusedEnter(room);
            await ApiError.WriteAsync(context, ApiErrorCode.StoreUnavailable, "The waiting room is briefly unavailable; your place is kept. Retry shortly.", RetryAfter);
            return;
        }

        switch (entry.Outcome)
        {
            case QueueOutcome.Granted when admission is not null:
                var ttl = entry.ExpiresAt - entry.Now;
                context.Response.Cookies.Append(room.CookieName, admission, new CookieOptions
                {
                    HttpOnly = true,
                    SameSite = SameSiteMode.Lax,
                    Secure = context.Request.IsHttps,
                    Path = "/",
                    MaxAge = ttl,
                    IsEssential = true,
                });
                context.Response.Headers.CacheControl = "no-store";
                await context.Response.WriteAsJsonAsync(
                    new EnterResponse("granted", admission, (long)Math.Max(0, ttl.TotalSeconds), entry.ExpiresAt, room.Id),
                    QueueJsonContext.Api.EnterResponse);
                return;
            case QueueOutcome.NotReady:
                var eta = queue.Eta(room, entry);
                await ApiError.WriteAsync(context, ApiErrorCode.NotReady, "Not your turn yet; keep polling status.", null,
                    new ErrorDetails(Position: entry.Position, EtaSec: eta.Seconds, EventId: room.Id));
                return;
            default:
                await ApiError.WriteAsync(context, ApiErrorCode.TokenNotFound, "This waiting token is unknown, has left, was dropped or has expired; join again.");
                return;
        }
    }

    private async Task LeaveAsync(HttpContext context)
    {
        var token = context.Request.Query["token"].ToString();
        if (token.Length == 0 && HttpMethods.IsPost(context.Request.Method))
            token = await ReadBeaconTokenAsync(context) ?? "";
        if (!TryFindToken(token, out var room, out _))
        {
            await ApiError.WriteAsync(context, ApiErrorCode.TokenNotFound, "Pass the waiting token as ?token=... (or as the request body from sendBeacon).");
            return;
        }
        try
        {
            await queue.LeaveAsync(room, token);
        }
        catch (StoreUnavailableException)
        {
            await ApiError.WriteAsync(context, ApiErrorCode.StoreUnavailable, "The waiting room is briefly unavailable; retry shortly.", RetryAfter);
            return;
        }
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private bool TryFindRoom(string? eventId, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Room? room, out ApiErrorCode error, out string message)
    {
        room = null;
        if (eventId is null || !WaitingRoomOptionsValidator.RoomIdPattern().IsMatch(eventId))
        {
            (error, message) = (ApiErrorCode.InvalidEventId, "event_id must be 1-64 letters, digits, '-' or '_'.");
            return false;
        }
        if (!rooms.TryGet(eventId, out room))
        {
            (error, message) = (ApiErrorCode.EventNotFound, $"There is no waiting room for event '{eventId}'.");
            return false;
        }
        (error, message) = (default, "");
        return true;
    }

    private bool TryFindToken(string? token, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Room? room, out string subject)
    {
        room = null;
        return WaitingTokens.TryParse(token, out var roomId, out subject) && rooms.TryGet(roomId, out room);
    }

    private static async Task<T?> ReadJsonAsync<T>(HttpContext context, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type) where T : class
    {
        if (context.Request.ContentLength > MaxBodyBytes)
            return null;
        try
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
            if (body.Length is 0 or > MaxBodyBytes)
                return null;
            body.Position = 0;
            return await JsonSerializer.DeserializeAsync(body, type, context.RequestAborted);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>A beacon body is the bare token, or JSON <c>{"waiting_token": "..."}</c>, or a form field.</summary>
    private static async Task<string?> ReadBeaconTokenAsync(HttpContext context)
    {
        if (context.Request.HasFormContentType)
        {
            var form = await context.Request.ReadFormAsync(context.RequestAborted);
            return form["waiting_token"].ToString();
        }
        if (context.Request.ContentLength > MaxBodyBytes)
            return null;
        using var reader = new StreamReader(context.Request.Body);
        var text = (await reader.ReadToEndAsync(context.RequestAborted)).Trim();
        if (!text.StartsWith('{'))
            return text;
        try
        {
            return JsonSerializer.Deserialize(text, QueueJsonContext.Api.EnterRequest)?.WaitingToken;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string StatusName(EntryState state) => state switch
    {
        EntryState.Ready => "ready",
        EntryState.Admitted => "admitted",
        _ => "waiting",
    };

    private static string Message(EntryState state, EtaEstimate eta, bool korean) => state switch
    {
        EntryState.Ready => EtaMessages.Ready(korean),
        EntryState.Admitted => EtaMessages.Admitted(korean),
        _ => EtaMessages.Waiting(eta, korean),
    };
}

/// <summary>The per-client join limit (429). Partitioned by the connection's address, never by a client-supplied header.</summary>
internal sealed class JoinRateLimiter(IOptionsMonitor<WaitingRoomOptions> options) : IDisposable
{
    private readonly PartitionedRateLimiter<IPAddress> _limiter = PartitionedRateLimiter.Create<IPAddress, IPAddress>(address =>
    {
        var perMinute = options.CurrentValue.JoinsPerClientPerMinute;
        return perMinute == 0
            ? RateLimitPartition.GetNoLimiter(address)
            : RateLimitPartition.GetTokenBucketLimiter(address, _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = perMinute,
                TokensPerPeriod = perMinute,
                ReplenishmentPeriod = TimeSpan.FromMinutes(1),
                QueueLimit = 0,
                AutoReplenishment = true,
            });
    });

    public bool TryAcquire(IPAddress? address)
    {
        if (options.CurrentValue.JoinsPerClientPerMinute == 0)
            return true;
        using var lease = _limiter.AttemptAcquire(address ?? IPAddress.None);
        return lease.IsAcquired;
    }

    public void Dispose() => _limiter.Dispose();
}
