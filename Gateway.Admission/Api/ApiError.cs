using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace Gateway.Admission.Api;

/// <summary>Every error the gateway answers with, and its one HTTP status. The only place that maps outcomes to status codes.</summary>
internal enum ApiErrorCode
{
    InvalidRequest,
    InvalidEventId,
    InvalidUserId,
    InvalidIdempotencyKey,
    ChallengeRequired,
    ChallengeInvalid,
    ChallengeExpired,
    InvalidUserToken,
    InvalidValue,
    InvalidAdmissionToken,
    Unauthorized,
    NotReady,
    RoomClosed,
    RoomNotOpen,
    EventNotFound,
    TokenNotFound,
    NotFound,
    MethodNotAllowed,
    AlreadyQueued,
    PayloadTooLarge,
    UnsupportedMediaType,
    RateLimited,
    TooManyPlaces,
    AdmissionRequired,
    TooManyFailedAttempts,
    InternalError,
    QueueFull,
    StoreUnavailable,
    RoomNotConfigured,
    BackendUnavailable,
}

internal static class ApiError
{
    public static int StatusCode(ApiErrorCode code) => code switch
    {
        ApiErrorCode.InvalidRequest or ApiErrorCode.InvalidEventId or ApiErrorCode.InvalidUserId or ApiErrorCode.InvalidIdempotencyKey
            or ApiErrorCode.ChallengeRequired or ApiErrorCode.ChallengeInvalid or ApiErrorCode.ChallengeExpired
            or ApiErrorCode.InvalidValue or ApiErrorCode.InvalidAdmissionToken => StatusCodes.Status400BadRequest,
        ApiErrorCode.InvalidUserToken or ApiErrorCode.Unauthorized => StatusCodes.Status401Unauthorized,
        ApiErrorCode.NotReady or ApiErrorCode.RoomClosed or ApiErrorCode.RoomNotOpen => StatusCodes.Status403Forbidden,
        ApiErrorCode.EventNotFound or ApiErrorCode.TokenNotFound or ApiErrorCode.NotFound => StatusCodes.Status404NotFound,
        ApiErrorCode.MethodNotAllowed => StatusCodes.Status405MethodNotAllowed,
        ApiErrorCode.AlreadyQueued => StatusCodes.Status409Conflict,
        ApiErrorCode.PayloadTooLarge => StatusCodes.Status413PayloadTooLarge,
        ApiErrorCode.UnsupportedMediaType => StatusCodes.Status415UnsupportedMediaType,
        ApiErrorCode.RateLimited or ApiErrorCode.TooManyPlaces or ApiErrorCode.AdmissionRequired or ApiErrorCode.TooManyFailedAttempts => StatusCodes.Status429TooManyRequests,
        ApiErrorCode.InternalError => StatusCodes.Status500InternalServerError,
        ApiErrorCode.QueueFull or ApiErrorCode.StoreUnavailable or ApiErrorCode.RoomNotConfigured or ApiErrorCode.BackendUnavailable => StatusCodes.Status503ServiceUnavailable,
        _ => throw new UnreachableException(),
    };

    /// <summary>The code on the wire: the enum name in UPPER_SNAKE_CASE (<c>TokenNotFound</c> = <c>TOKEN_NOT_FOUND</c>).</summary>
    public static string Name(ApiErrorCode code) => Names[(int)code];

    private static readonly string[] Names = [.. Enum.GetValues<ApiErrorCode>().Select(c => System.Text.Json.JsonNamingPolicy.SnakeCaseUpper.ConvertName(c.ToString()))];

    /// <summary>An endpoint result writing the error shape (see <see cref="WriteAsync"/>).</summary>
    public static IResult Result(ApiErrorCode code, string message, TimeSpan? retryAfter = null, ErrorDetails? details = null) =>
        new ErrorResult(code, message, retryAfter, details);

    /// <summary>Writes <c>{"error": {"code", "message", "trace_id", ...}}</c> with the code's status and an optional Retry-After.</summary>
    public static Task WriteAsync(HttpContext context, ApiErrorCode code, string message, TimeSpan? retryAfter = null, ErrorDetails? details = null)
    {
        var response = context.Response;
        response.StatusCode = StatusCode(code);
        if (retryAfter is { } wait)
            response.Headers.RetryAfter = Math.Max(1, (long)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        response.Headers.CacheControl = "no-store";
        var body = new ErrorBody(new ErrorPayload(Name(code), message, TraceId(context))
        {
            Position = details?.Position,
            EtaSec = details?.EtaSec,
            EventId = details?.EventId,
            JoinUrl = details?.JoinUrl,
            WaitingRoomUrl = details?.WaitingRoomUrl,
            OpensAt = details?.OpensAt,
            PrequeueFrom = details?.PrequeueFrom,
            Field = details?.Field,
        });
        return response.WriteAsJsonAsync(body, QueueJsonContext.Api.ErrorBody);
    }

    public static string TraceId(HttpContext context) => Activity.Current?.TraceId.ToHexString() ?? context.TraceIdentifier;

    private sealed class ErrorResult(ApiErrorCode code, string message, TimeSpan? retryAfter, ErrorDetails? details) : IResult, IStatusCodeHttpResult
    {
        public int? StatusCode => ApiError.StatusCode(code);

        public Task ExecuteAsync(HttpContext httpContext) => WriteAsync(httpContext, code, message, retryAfter, details);
    }
}

/// <summary>Optional fields some errors carry beside code, message and trace id.</summary>
internal sealed record ErrorDetails(
    long? Position = null,
    long? EtaSec = null,
    string? EventId = null,
    string? JoinUrl = null,
    string? WaitingRoomUrl = null,
    DateTimeOffset? OpensAt = null,
    string? Field = null,
    DateTimeOffset? PrequeueFrom = null);
