using Gateway.Admission.Api;
using Gateway.Admission.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gateway.Admission.Hosting;

/// <summary>Errors a host writes in the waiting room's error shape <c>{"error": {"code", "message", "trace_id"}}</c>.</summary>
public static class GatewayErrors
{
    /// <summary>500 INTERNAL_ERROR: a bug, never caused by what a client sent; the body carries the trace id only.</summary>
    public static Task WriteInternalErrorAsync(HttpContext context) =>
        ApiError.WriteAsync(context, ApiErrorCode.InternalError, "Something went wrong on our side; please retry. Quote the trace id if it persists.");

    /// <summary>503 BACKEND_UNAVAILABLE with Retry-After: a backend is failing and the gateway stops sending it requests for a while.</summary>
    public static Task WriteBackendUnavailableAsync(HttpContext context, TimeSpan retryAfter) =>
        ApiError.WriteAsync(context, ApiErrorCode.BackendUnavailable, "This service is overloaded right now; retry shortly.", retryAfter);

    /// <summary>405 METHOD_NOT_ALLOWED.</summary>
    public static Task WriteMethodNotAllowedAsync(HttpContext context) =>
        ApiError.WriteAsync(context, ApiErrorCode.MethodNotAllowed, "This method is not allowed here.");

    /// <summary>404 NOT_FOUND for a path nothing serves.</summary>
    public static Task WriteNotFoundAsync(HttpContext context) =>
        ApiError.WriteAsync(context, ApiErrorCode.NotFound, "Nothing is served at this path.");

    /// <summary>Logs an unhandled exception once, at Error, with the request's method and path.</summary>
    public static void LogUnhandled(ILogger logger, Exception exception, string method, string path) =>
        Log.UnhandledError(logger, exception, Clients.ClientInput.Printable(method, 16), Clients.ClientInput.Printable(path, 256));
}
