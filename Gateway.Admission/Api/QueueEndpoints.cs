using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Gateway.Admission.Clients;
using Gateway.Admission.Eta;
using Gateway.Admission.ProofOfWork;
using Gateway.Admission.Queue;
using Gateway.Admission.Rooms;
using Gateway.Admission.Tokens;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Gateway.Admission.Api;

/// <summary>
/// The queue API: challenge, join, status, enter, leave under <c>/api/v1/queue</c> (docs/API.md). Each handler reads and
/// validates the request, asks <see cref="QueueService"/> once, and maps its result to a response; store
/// outages are mapped in one place, <see cref="StoreOutageFilter"/>.
/// </summary>
internal sealed partial class QueueEndpoints(
    QueueService queue,
    RoomRegistry rooms,
    WaitingTokens waitingTokens,
    CallerIdentity identity,
    UserTokens userTokens,
    Challenges challenges,
    ChallengeDifficulty difficulty,
    IOptionsMonitor<WaitingRoomOptions> options)
{
    public const string Prefix = "/api/v1/queue";
    private const string JoinExample = "{\"event_id\": \"concert\"}";
    private const string EnterExample = "{\"waiting_token\": \"...\"}";
    private const string UnknownToken = "This waiting token is unknown, has left, was dropped or has expired; join again.";

    // \z, not $: '$' also matches before a trailing newline.
    [GeneratedRegex(@"^[A-Za-z0-9._:@+-]{1,128}\z")]
    private static partial Regex UserIdPattern();

    [GeneratedRegex(@"^[A-Za-z0-9._:-]{1,128}\z")]
    private static partial Regex IdempotencyKeyPattern();

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup(Prefix).AddEndpointFilter<StoreOutageFilter>();
        group.MapGet("/challenge", (HttpContext c, QueueEndpoints e) => e.Challenge(c))
            .Produces<ChallengeResponse>()
            .ProducesErrors(400, 404);
        group.MapPost("/join", (HttpContext c, QueueEndpoints e) => e.JoinAsync(c))
            .Produces<JoinResponse>(StatusCodes.Status202Accepted)
            .ProducesErrors(400, 401, 403, 404, 409, 413, 415, 429, 503);
        group.MapGet("/status", (HttpContext c, QueueEndpoints e) => e.StatusAsync(c))
            .Produces<StatusResponse>()
            .ProducesErrors(404, 429)
            .WithMetadata(new DegradedStatus());
        group.MapPost("/enter", (HttpContext c, QueueEndpoints e) => e.EnterAsync(c))
            .Produces<EnterResponse>()
            .ProducesErrors(400, 403, 404, 413, 415, 429, 503);
        group.MapDelete("/leave", (HttpContext c, QueueEndpoints e) => e.LeaveAsync(c))
            .Produces(StatusCodes.Status204NoContent)
            .ProducesErrors(404, 503);
        // navigator.sendBeacon can only POST.
        group.MapPost("/leave", (HttpContext c, QueueEndpoints e) => e.LeaveAsync(c))
            .Produces(StatusCodes.Status204NoContent)
            .ProducesErrors(404, 413, 415, 503);
    }

    private TimeSpan RetryAfter => options.CurrentValue.RetryAfter;

    private async Task<IResult> JoinAsync(HttpContext context)
    {
        var (request, bodyError) = await RequestBody.ReadJsonAsync(context, QueueJsonContext.Api.JoinRequest, JoinExample);
        if (request is null)
            return bodyError!;
        if (request.EventId is null || !WaitingRoomOptionsValidator.RoomIdPattern().IsMatch(request.EventId))
            return ApiError.Result(ApiErrorCode.InvalidEventId, "event_id must be 1-64 letters, digits, '-' or '_'.");
        if (!rooms.TryGet(request.EventId, out var room))
            return ApiError.Result(ApiErrorCode.EventNotFound, $"There is no waiting room for event '{request.EventId}'.");
        context.Items[StoreOutageFilter.RoomItem] = room;
        if (request.UserId is not null && !UserIdPattern().IsMatch(request.UserId))
            return Refuse(room, "invalid_user_id", ApiErrorCode.InvalidUserId, "user_id must be 1-128 characters from letters, digits and . _ : @ + -.");
        var idempotencyKey = context.Request.Headers["Idempotency-Key"];
        if (idempotencyKey.Count > 1 || (idempotencyKey.Count == 1 && !IdempotencyKeyPattern().IsMatch(idempotencyKey[0] ?? "")))
            return Refuse(room, "invalid_idempotency_key", ApiErrorCode.InvalidIdempotencyKey, "Idempotency-Key must be one value of 1-128 characters from letters, digits and . _ : -.");

        // Proof of work before anything else that costs: a bad solution never reaches the store.
        var (proof, proofError) = CheckProof(room, request.Pow);
        if (proofError is not null)
            return proofError;

        // Who is asking: a verified user (any device), else this browser's identity cookie; neither = a new identity.
        string? caller;
        string? browser = null;
        if (request.UserToken is not null)
        {
            var (subject, problem) = await userTokens.ValidateAsync(request.UserToken, room.Id);
            if (subject is null)
                return Refuse(room, "invalid_user_token", ApiErrorCode.InvalidUserToken, "The user_token was refused: " + problem + ".");
            caller = CallerIdentity.ForVerifiedUser(subject);
            // The same browser may hold a place from before the person signed in: theirs too (join.lua links it).
            browser = identity.Read(context.Request.Cookies[CallerIdentity.CookieName]);
        }
        else if (options.CurrentValue.Identity.Required)
            return Refuse(room, "invalid_user_token", ApiErrorCode.InvalidUserToken, "This waiting room needs a user_token from the site you came from; go back and start again from there.");
        else if ((caller = identity.Read(context.Request.Cookies[CallerIdentity.CookieName])) is null)
        {
            // A new identity goes out before the store is asked, so it is on every answer, a 503 included: a join the
            // store carries out late (a stall that outlasted the call's timeout) is then found again by the retry,
            // instead of leaving a place nobody holds and making a second one.
            (var cookie, caller) = identity.Mint();
            context.Response.Cookies.Append(CallerIdentity.CookieName, cookie, Cookies.Options(context, options.CurrentValue, CallerIdentity.CookieLifetime));
        }

        var result = await queue.JoinAsync(room, new JoinCommand(caller, request.UserId, ClientAddress.Of(context), proof?.Id, proof?.ReplayGuardUntil, browser));
        switch (result.Outcome)
        {
            case JoinOutcome.Joined or JoinOutcome.Existing:
                if (result.NewIdentityCookie is { } cookie)
                    context.Response.Cookies.Append(CallerIdentity.CookieName, cookie, Cookies.Options(context, options.CurrentValue, CallerIdentity.CookieLifetime));
                context.Response.Headers.CacheControl = "no-store";
                var standing = result.Standing!;
                var korean = EtaMessages.PrefersKorean(context.Request.Headers.AcceptLanguage);
                return Results.Json(
                    new JoinResponse(result.WaitingToken!, Status(standing), standing.Position, standing.Eta?.Seconds, standing.Eta?.Confidence ?? 0,
                        EtaMessages.For(standing, korean), standing.ReadyForEntry, standing.WaitedSeconds, room.Id, standing.PollAfterMs, standing.ServerTime)
                    { OpensAt = standing.OpensAt },
                    QueueJsonContext.Api.JoinResponse, statusCode: StatusCodes.Status202Accepted);
            case JoinOutcome.AlreadyQueued:
                return ApiError.Result(ApiErrorCode.AlreadyQueued, "This user_id already holds a place in this line; continue where it was taken (the same browser, or a verified user_token).", details: new ErrorDetails(EventId: room.Id));
            case JoinOutcome.RateLimited:
                return ApiError.Result(ApiErrorCode.RateLimited, "Too many joins from this network; wait and retry.", TimeSpan.FromSeconds(60 - DateTimeOffset.UtcNow.Second));
            case JoinOutcome.TooManyPlaces:
                return ApiError.Result(ApiErrorCode.TooManyPlaces, $"This network already holds {options.CurrentValue.MaxPlacesPerClient} places in this line.", RetryAfter);
            case JoinOutcome.Full:
                return ApiError.Result(ApiErrorCode.QueueFull, "The queue is full; retry later.", RetryAfter, new ErrorDetails(EventId: room.Id));
            case JoinOutcome.Closed:
                return ApiError.Result(ApiErrorCode.RoomClosed, "This waiting room no longer takes new people.", details: new ErrorDetails(EventId: room.Id));
            case JoinOutcome.NotOpen:
                return ApiError.Result(ApiErrorCode.RoomNotOpen, "This waiting room is not open yet.", details: new ErrorDetails(EventId: room.Id, OpensAt: result.OpensAt, PrequeueFrom: result.PrequeueFrom));
            default:
                return ApiError.Result(ApiErrorCode.ChallengeInvalid, "This proof-of-work challenge was already used; fetch a new one.", details: new ErrorDetails(EventId: room.Id));
        }
    }

    /// <summary>A signed challenge for the room at its current difficulty; no store call.</summary>
    private IResult Challenge(HttpContext context)
    {
        var eventId = context.Request.Query["event_id"];
        if (eventId.Count != 1 || eventId[0] is not { } id || !WaitingRoomOptionsValidator.RoomIdPattern().IsMatch(id))
            return ApiError.Result(ApiErrorCode.InvalidEventId, "Pass one event_id of 1-64 letters, digits, '-' or '_', e.g. ?event_id=concert.");
        if (!rooms.TryGet(id, out var room))
            return ApiError.Result(ApiErrorCode.EventNotFound, $"There is no waiting room for event '{id}'.");
        var pow = room.Options.ProofOfWork;
        var issued = challenges.Issue(room.Id, difficulty.Current(room), pow.ChallengeTtl);
        queue.ChallengeIssued(room, issued.Difficulty);
        context.Response.Headers.CacheControl = "no-store";
        return Results.Json(new ChallengeResponse(issued.Text, Challenges.Algorithm, issued.Difficulty, issued.ExpiresAt, pow.Enabled, room.Id),
            QueueJsonContext.Api.ChallengeResponse);
    }

    /// <summary>
    /// A room without proof of work ignores <c>pow</c>. Otherwise the solution must be present, well formed, signed
    /// by this gateway for this room, unexpired, at least as hard as the room asks, and solved: all checked here.
    /// </summary>
    private (ChallengeCheck? Valid, IResult? Error) CheckProof(Room room, JsonElement? pow)
    {
        if (!room.Options.ProofOfWork.Enabled)
            return (null, null);
        if (pow is not { ValueKind: not JsonValueKind.Null } given)
            return (null, Refuse(room, "challenge_required", ApiErrorCode.ChallengeRequired,
                $"This waiting room needs a solved challenge: GET {Prefix}/challenge?event_id={room.Id}, then join with \"pow\": {{\"challenge\", \"nonce\"}} (docs/API.md, Proof of work)."));
        var check = challenges.Verify(room.Id, Text(given, "challenge"), Text(given, "nonce"), difficulty.Least(room));
        return check.Verdict switch
        {
            ChallengeVerdict.Valid => (check, null),
            ChallengeVerdict.Expired => (null, Refuse(room, "challenge_expired", ApiErrorCode.ChallengeExpired, $"The challenge was refused: {check.Problem}. Fetch a new one.")),
            _ => (null, Refuse(room, "challenge_invalid", ApiErrorCode.ChallengeInvalid, $"The challenge was refused: {check.Problem}. Fetch a new one and solve it.")),
        };

        // The pow object is kept as raw JSON, so its strings were never decoded: invalid UTF-8 or a lone surrogate
        // throws here, and counts as no answer (CHALLENGE_INVALID), never a 500.
        static string? Text(JsonElement pow, string name)
        {
            if (pow.ValueKind != JsonValueKind.Object || !pow.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.String)
                return null;
            try
            {
                return value.GetString();
            }
            catch (InvalidOperationException)
            {
                return null;
            }
        }
    }

    private async Task<IResult> StatusAsync(HttpContext context)
    {
        if (!TryFindPlace(context.Request.Query["token"], out var room, out var placeId))
            return ApiError.Result(ApiErrorCode.TokenNotFound, UnknownToken);
        context.Items[StoreOutageFilter.RoomItem] = room;
        if (!queue.TryPoll(room, ClientAddress.Of(context)))
            return ApiError.Result(ApiErrorCode.RateLimited, "Too many status calls from this network; follow poll_after_ms.", TimeSpan.FromSeconds(1));
        var result = await queue.StatusAsync(room, placeId);
        if (result.Standing is not { } standing)
            return ApiError.Result(ApiErrorCode.TokenNotFound, UnknownToken);
        context.Response.Headers.CacheControl = "no-store";
        return StatusJson(context, room, standing, degraded: false);
    }

    private async Task<IResult> EnterAsync(HttpContext context)
    {
        var (request, bodyError) = await RequestBody.ReadJsonAsync(context, QueueJsonContext.Api.EnterRequest, EnterExample);
        if (request is null)
            return bodyError!;
        if (!TryFindPlace(request.WaitingToken, out var room, out var placeId))
            return ApiError.Result(ApiErrorCode.TokenNotFound, UnknownToken);
        context.Items[StoreOutageFilter.RoomItem] = room;
        if (!queue.TryPoll(room, ClientAddress.Of(context)))
            return ApiError.Result(ApiErrorCode.RateLimited, "Too many calls from this network; retry shortly.", TimeSpan.FromSeconds(1));

        var result = await queue.EnterAsync(room, placeId);
        switch (result.Outcome)
        {
            case EnterOutcome.Granted:
                context.Response.Cookies.Append(room.CookieName, result.AdmissionToken!, Cookies.Options(context, options.CurrentValue, result.Ttl));
                context.Response.Headers.CacheControl = "no-store";
                return Results.Json(new EnterResponse("granted", result.AdmissionToken!, (long)Math.Max(0, result.Ttl.TotalSeconds), result.ExpiresAt, room.Id),
                    QueueJsonContext.Api.EnterResponse);
            case EnterOutcome.NotFound:
                return ApiError.Result(ApiErrorCode.TokenNotFound, UnknownToken);
            case EnterOutcome.Closed:
                return ApiError.Result(ApiErrorCode.RoomClosed, "This waiting room was closed; nobody more is admitted.", details: new ErrorDetails(EventId: room.Id));
            default:
                var standing = result.Standing;
                return ApiError.Result(ApiErrorCode.NotReady,
                    result.Outcome switch
                    {
                        EnterOutcome.Paused => "Admissions are paused for a moment; your place is kept. Keep polling status.",
                        EnterOutcome.AtMaxActive => "The site is at its limit of people inside; your place is kept and you go in as soon as someone leaves. Keep polling status.",
                        _ => "Not your turn yet; keep polling status.",
                    },
                    null, new ErrorDetails(Position: standing?.Position, EtaSec: standing?.Eta?.Seconds, EventId: room.Id));
        }
    }

    private async Task<IResult> LeaveAsync(HttpContext context)
    {
        string? token = context.Request.Query["token"];
        if (string.IsNullOrEmpty(token) && HttpMethods.IsPost(context.Request.Method))
        {
            var (value, error) = await ReadBeaconTokenAsync(context);
            if (error is not null)
                return error;
            token = value;
        }
        else if (context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody == true)
        {
            // The token came in the query; a body is read only to hold it to the queue API's 4 KiB like any other.
            var (_, error) = await RequestBody.ReadAsync(context);
            if (error is not null)
                return error;
        }
        if (!TryFindPlace(token, out var room, out var placeId))
            return ApiError.Result(ApiErrorCode.TokenNotFound, "Pass the waiting token as ?token=... (or as the request body from sendBeacon).");
        await queue.LeaveAsync(room, placeId);
        return Results.NoContent();
    }

    /// <summary>The 200 answer of a status poll, also in its degraded form (see <see cref="StoreOutageFilter"/>).</summary>
    internal static IResult StatusJson(HttpContext context, Room room, Standing standing, bool degraded)
    {
        var korean = EtaMessages.PrefersKorean(context.Request.Headers.AcceptLanguage);
        return Results.Json(
            new StatusResponse(Status(standing), standing.Position, standing.Eta?.Seconds, standing.Eta?.Confidence ?? 0,
                degraded ? EtaMessages.Degraded(korean) : EtaMessages.For(standing, korean), standing.ReadyForEntry,
                degraded ? null : standing.WaitedSeconds, room.Id, standing.PollAfterMs, standing.ServerTime)
            { Degraded = degraded, OpensAt = standing.OpensAt },
            QueueJsonContext.Api.StatusResponse);
    }

    private bool TryFindPlace(string? token, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Room? room, out string placeId)
    {
        room = null;
        return waitingTokens.TryRead(token, out var roomId, out placeId) && rooms.TryGet(roomId, out room);
    }

    private IResult Refuse(Room room, string reason, ApiErrorCode code, string message)
    {
        queue.RefusedJoin(room, reason);
        return ApiError.Result(code, message);
    }

    /// <summary>A beacon body is the bare token (text/plain), JSON <c>{"waiting_token": "..."}</c> or a form field <c>waiting_token</c>.</summary>
    private static async Task<(string? Token, IResult? Error)> ReadBeaconTokenAsync(HttpContext context)
    {
        var contentType = context.Request.ContentType;
        var type = MediaTypeHeaderValue.TryParse(contentType, out var media) ? media.MediaType.Value?.ToLowerInvariant() : null;
        if (contentType is not null && type is not ("text/plain" or "application/json" or "application/x-www-form-urlencoded"))
            return (null, ApiError.Result(ApiErrorCode.UnsupportedMediaType, "Leave takes the token as ?token=..., or a text/plain, application/json or form body."));
        var (bytes, error) = await RequestBody.ReadAsync(context);
        if (error is not null)
            return (null, error);
        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes).Trim();
        }
        catch (DecoderFallbackException)
        {
            return (null, null);
        }
        if (type == "application/x-www-form-urlencoded")
            return (QueryHelpers.ParseQuery(text).TryGetValue("waiting_token", out var field) ? field.ToString() : null, null);
        if (!text.StartsWith('{'))
            return (text, null);
        try
        {
            return (JsonSerializer.Deserialize(text, QueueJsonContext.Api.EnterRequest)?.WaitingToken, null);
        }
        catch (JsonException)
        {
            return (null, null);
        }
    }

    private static string Status(Standing standing) => standing.Status switch
    {
        StandingStatus.Prequeue => "prequeue",
        StandingStatus.Ready => "ready",
        StandingStatus.Admitted => "admitted",
        StandingStatus.Paused => "paused",
        StandingStatus.Closed => "closed",
        _ => "waiting",
    };
}

/// <summary>Marks the status endpoint: while the store is down it answers the graceful "still waiting" form, not 503.</summary>
internal sealed class DegradedStatus;

/// <summary>The one place that turns a store outage into an answer: 503 + Retry-After, or status's graceful form.</summary>
internal sealed class StoreOutageFilter(QueueService queue, IOptionsMonitor<WaitingRoomOptions> options) : IEndpointFilter
{
    /// <summary>The handlers leave the request's room here, so an outage is counted (and status answered) for it.</summary>
    public const string RoomItem = "waitingroom.room";

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        catch (Storage.StoreUnavailableException)
        {
            var http = context.HttpContext;
            var retryAfter = options.CurrentValue.RetryAfter;
            var room = http.Items[RoomItem] as Room;
            if (room is not null)
                queue.Unavailable(room, http.Request.Path.Value ?? "");
            if (http.GetEndpoint()?.Metadata.GetMetadata<DegradedStatus>() is not null && room is not null)
            {
                http.Response.Headers.RetryAfter = ((long)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                http.Response.Headers.CacheControl = "no-store";
                return QueueEndpoints.StatusJson(http, room, queue.Degraded(room), degraded: true);
            }
            return ApiError.Result(ApiErrorCode.StoreUnavailable, "The waiting room is briefly unavailable; your place is kept. Retry shortly.", retryAfter);
        }
    }
}

/// <summary>The gateway's cookies: HttpOnly, SameSite=Lax, path /, Secure when the original request was HTTPS or the operator says always.</summary>
internal static class Cookies
{
    public static CookieOptions Options(HttpContext context, WaitingRoomOptions options, TimeSpan maxAge) => new()
    {
        HttpOnly = true,
        SameSite = Microsoft.AspNetCore.Http.SameSiteMode.Lax,
        // IsHttps reflects a trusted proxy's X-Forwarded-Proto (ForwardedHeaders:KnownProxies / KnownNetworks).
        Secure = options.Cookie.Secure == CookieSecurity.Always || context.Request.IsHttps,
        Path = "/",
        MaxAge = maxAge,
        IsEssential = true,
    };
}

/// <summary>Declares the error answers of an endpoint (the contract's error shape) for the API description.</summary>
internal static class ErrorMetadata
{
    public static RouteHandlerBuilder ProducesErrors(this RouteHandlerBuilder builder, params int[] statusCodes)
    {
        foreach (var code in statusCodes)
            builder.Produces<ErrorBody>(code);
        return builder;
    }
}
