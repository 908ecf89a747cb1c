using System.Diagnostics;

namespace Gateway.SampleBackends.Http;

/// <summary>
/// The one place that maps an outcome to an HTTP status and the error body every service shares:
/// <c>{"error": {"code", "message", "trace_id"}}</c>.
/// </summary>
internal static class ApiErrors
{
    public static IResult Invalid(HttpContext context, string message) =>
        Error(context, StatusCodes.Status400BadRequest, "INVALID_REQUEST", message);

    public static IResult Forbidden(HttpContext context, string message) =>
        Error(context, StatusCodes.Status403Forbidden, "FORBIDDEN", message);

    public static IResult NotFound(HttpContext context, string code, string message) =>
        Error(context, StatusCodes.Status404NotFound, code, message);

    public static IResult Overloaded(HttpContext context)
    {
        context.Response.Headers.RetryAfter = "1";
        return Error(
            context,
            StatusCodes.Status503ServiceUnavailable,
            "BACKEND_OVERLOADED",
            "The service is over capacity; retry after 1 second.");
    }

    private static IResult Error(HttpContext context, int status, string code, string message) =>
        Results.Json(new ErrorResponse(new ErrorBody(code, message, TraceId(context))), statusCode: status);

    // The W3C trace id when the request carried or started one, so it matches the gateway's traces.
    private static string TraceId(HttpContext context) =>
        Activity.Current?.TraceId.ToHexString() ?? context.TraceIdentifier;
}

/// <summary>Error response body.</summary>
internal sealed record ErrorResponse(ErrorBody Error);

/// <summary>The <c>error</c> object of an error response.</summary>
internal sealed record ErrorBody(string Code, string Message, string TraceId);
