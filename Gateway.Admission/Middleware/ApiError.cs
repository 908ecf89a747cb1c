using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace Gateway.Admission.Middleware;

/// <summary>Every error the gateway answers with, and its one HTTP status. The only place that maps outcomes to status codes.</summary>
internal enum ApiErrorCode
{
    InvalidRequest,
    InvalidEventId,
    InvalidUserId,
    InvalidIdempotencyKey,
    EventNotFound,
    TokenNotFound,
    NotReady,
    RateLimited,
    AdmissionRequired,
    QueueFull,
    StoreUnavailable,
    RoomNotConfigured,
}

internal static class ApiError
{
    public static int StatusCode(ApiErrorCode code) => code switch
    {
        ApiErrorCode.InvalidRequest or ApiErrorCode.InvalidEventId or ApiErrorCode.InvalidUserId or ApiErrorCode.InvalidIdempotencyKey => StatusCodes.Status400BadRequest,
        ApiErrorCode.EventNotFound or ApiErrorCode.TokenNotFound => StatusCodes.Status404NotFound,
        ApiErrorCode.NotReady => StatusCodes.Status403Forbidden,
        ApiErrorCode.RateLimited or ApiErrorCode.AdmissionRequired => StatusCodes.Status429TooManyRequests,
        ApiErrorCode.QueueFull or ApiErrorCode.StoreUnavailable or ApiErrorCode.RoomNotConfigured => StatusCodes.Status503ServiceUnavailable,
        _ => throw new UnreachableException(),
    };

    public static string Name(ApiErrorCode code) => code switch
    {
        ApiErrorCode.InvalidRequest => "INVALID_REQUEST",
        ApiErrorCode.InvalidEventId => "INVALID_EVENT_ID",
        ApiErrorCode.InvalidUserId => "INVALID_USER_ID",
        ApiErrorCode.InvalidIdempotencyKey => "INVALID_IDEMPOTENCY_KEY",
        ApiErrorCode.EventNotFound => "EVENT_NOT_FOUND",
        ApiErrorCode.TokenNotFound => "TOKEN_NOT_FOUND",
        ApiErrorCode.NotReady => "NOT_READY",
        ApiErrorCode.RateLimited => "RATE_LIMITED",
        ApiErrorCode.AdmissionRequired => "ADMISSION_REQUIRED",
        ApiErrorCode.QueueFull => "QUEUE_FULL",
        ApiErrorCode.StoreUnavailable => "STORE_UNAVAILABLE",
        ApiErrorCode.RoomNotConfigured => "ROOM_NOT_CONFIGURED",
        _ => throw new UnreachableException(),
    };

    /// <summary>Writes <c>{"error": {"code", "message", "trace_id", ...}}</c> with the code's status and an optional Retry-After.</summary>
    public static Task WriteAsync(HttpContext context, ApiErrorCode code, string message, TimeSpan? retryAfter = null, ErrorDetails? details = null)
    {
        var response = context.Response;
        response.StatusCode = StatusCode(code);
        if (retryAfter is { } wait)
            response.Headers.RetryAfter = ((long)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        response.Headers.CacheControl = "no-store";
        var body = new ErrorBody(new ErrorPayload(Name(code), message, TraceId(context))
        {
            Position = details?.Position,
            EtaSec = details?.EtaSec,
            EventId = details?.EventId,
            JoinUrl = details?.JoinUrl,
            WaitingRoomUrl = details?.WaitingRoomUrl,
        });
        return response.WriteAsJsonAsync(body, QueueJsonContext.Api.ErrorBody);
    }

    public static string TraceId(HttpContext context) => Activity.Current?.TraceId.ToHexString() ?? context.TraceIdentifier;
}

/// <summary>Optional fields some errors carry beside code, message and trace id.</summary>
internal sealed record ErrorDetails(long? Position = null, long? EtaSec = null, string? EventId = null, string? JoinUrl = null, string? WaitingRoomUrl = null);
