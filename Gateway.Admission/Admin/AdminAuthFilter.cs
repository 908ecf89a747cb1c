using Gateway.Admission.Api;
using Gateway.Admission.Clients;
using Gateway.Admission.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gateway.Admission.Admin;

/// <summary>
/// Guards every admin endpoint, in this order: the port (with <c>Admin:Urls</c>, only the admin port serves
/// it: 404 elsewhere), enabled (no key configured: 404), the client's wrong-key allowance (used up: 429, even
/// with the right key), then the bearer key (missing or wrong: 401 with <c>WWW-Authenticate: Bearer</c>).
/// The key's id is left on the request for the audit log.
/// </summary>
internal sealed class AdminAuthFilter(AdminKeys keys, WaitingRoomMetrics metrics, ILogger<AdminAuthFilter> logger) : IEndpointFilter
{
    /// <summary>Where the authenticated key's id is left for the handlers (<see cref="HttpContext.Items"/>).</summary>
    public const string KeyIdItem = "waitingroom.admin.key";

    private const string Challenge = "Bearer realm=\"waiting-room-admin\"";

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (!keys.ServesPort(http.Connection.LocalPort) || !keys.Enabled)
            return ApiError.Result(ApiErrorCode.NotFound, "Nothing is served at this path.");

        var client = ClientAddress.Of(http);
        var secret = BearerSecret(http.Request.Headers.Authorization);
        var keyId = secret is null ? null : keys.Authenticate(secret);
        if (keys.IsLockedOut(client))
        {
            metrics.AdminAuthFailed("locked_out");
            // A wrong key here is already counted and logged; a right one being refused is worth a line of its own.
            if (keyId is not null)
                Log.AdminLockedOutKeyRefused(logger, keyId, client);
            return ApiError.Result(ApiErrorCode.TooManyFailedAttempts, "Too many wrong admin keys from this address; wait a minute and retry with the right one.", TimeSpan.FromMinutes(1));
        }
        if (keyId is null)
        {
            http.Response.Headers.WWWAuthenticate = secret is null ? Challenge : Challenge + ", error=\"invalid_token\"";
            if (secret is null)
            {
                // Asking without a key guesses nothing: not counted against the client.
                metrics.AdminAuthFailed("missing");
                return ApiError.Result(ApiErrorCode.Unauthorized, "The admin API needs 'Authorization: Bearer <secret>'.");
            }
            metrics.AdminAuthFailed("wrong_key");
            var lockedOut = keys.RecordFailure(client);
            Log.AdminAuthFailed(logger, client, Printable(http.Request.Method), Printable(http.Request.Path.Value));
            if (lockedOut)
                Log.AdminLockedOut(logger, client);
            return ApiError.Result(ApiErrorCode.Unauthorized, "This admin key is not valid.");
        }

        http.Items[KeyIdItem] = keyId;
        return await next(context);
    }

    /// <summary>The secret of an <c>Authorization: Bearer &lt;secret&gt;</c> header (one value, scheme case-insensitive), or null.</summary>
    internal static string? BearerSecret(Microsoft.Extensions.Primitives.StringValues header)
    {
        if (header.Count != 1 || header[0] is not { } value)
            return null;
        const string Scheme = "Bearer ";
        if (value.Length <= Scheme.Length || !value.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
            return null;
        var secret = value[Scheme.Length..].Trim();
        return secret.Length is > 0 and <= 1024 ? secret : null;
    }

    private static string Printable(string? value) => ClientInput.Printable(value, 128);
}
