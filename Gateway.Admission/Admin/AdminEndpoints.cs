using System.Text.Json;
using Gateway.Admission.Api;
using Gateway.Admission.Diagnostics;
using Gateway.Admission.Queue;
using Gateway.Admission.Rooms;
using Gateway.Admission.Tokens;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;

namespace Gateway.Admission.Admin;

/// <summary>
/// The operators' API under <c>/admin/v1</c> (docs/API.md, "Admin API"): read rooms, change their state, rate,
/// burst, active-user cap and schedule live, remove those overrides, revoke an admission. Every change goes to
/// the store (the control hash every script and every instance's tick reads), so it applies on every instance
/// within a tick and survives restarts; each is logged with the key id, the client, before and after.
/// Reading a room is one store round trip (a read-only tick: bounded work however long the line).
/// </summary>
internal sealed class AdminEndpoints(
    IQueueStore store,
    QueueService queue,
    RoomRegistry rooms,
    RoomSnapshots snapshots,
    AdmissionTokens admissionTokens,
    WaitingRoomMetrics metrics,
    ILogger<AdminEndpoints> logger)
{
    public const string Prefix = "/admin/v1";
    private const string RevokeExample = "{\"reservation_token\": \"...\"}";

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup(Prefix).AddEndpointFilter<AdminAuthFilter>().AddEndpointFilter<StoreOutageFilter>();
        group.MapGet("/rooms", (HttpContext c, AdminEndpoints e) => e.ListAsync(c))
            .Produces<AdminRoomList>()
            .ProducesErrors(401, 404, 429, 503);
        group.MapGet("/rooms/{id}", (HttpContext c, string id, AdminEndpoints e) => e.GetAsync(c, id))
            .Produces<AdminRoom>()
            .ProducesErrors(401, 404, 429, 503);
        group.MapPatch("/rooms/{id}", (HttpContext c, string id, AdminEndpoints e) => e.PatchAsync(c, id))
            .Produces<AdminRoom>()
            .ProducesErrors(400, 401, 404, 413, 415, 429, 503);
        group.MapDelete("/rooms/{id}/overrides", (HttpContext c, string id, AdminEndpoints e) => e.ClearAsync(c, id))
            .Produces<AdminRoom>()
            .ProducesErrors(401, 404, 429, 503);
        group.MapPost("/rooms/{id}/revoke", (HttpContext c, string id, AdminEndpoints e) => e.RevokeAsync(c, id))
            .Produces(StatusCodes.Status204NoContent)
            .ProducesErrors(400, 401, 404, 413, 415, 429, 503);

        // Every other method and path under the prefix. Without it routing would answer 405 to, say, a PUT on a room
        // even where the API is off (no key, or the public port beside Admin:Urls): the contract's 404 must not depend
        // on the method, nor tell a scanner that the API is there. Behind the key the answer is the true one:
        // 405 with Allow for a method the path does not take, 404 for a path nothing serves.
        endpoints.MapGroup(Prefix).AddEndpointFilter<AdminAuthFilter>()
            .Map("/{**rest}", (HttpContext c, string? rest) => Unmatched(c, rest))
            .ExcludeFromDescription();
    }

    /// <summary>The methods each admin path takes, for the catch-all's 405 (<c>Allow</c>) and 404.</summary>
    internal static string? AllowedMethods(string? rest)
    {
        var segments = (rest ?? "").Split('/');
        return segments switch
        {
            ["rooms"] => "GET",
            ["rooms", { Length: > 0 }] => "GET, PATCH",
            ["rooms", { Length: > 0 }, "overrides"] => "DELETE",
            ["rooms", { Length: > 0 }, "revoke"] => "POST",
            _ => null,
        };
    }

    private static IResult Unmatched(HttpContext context, string? rest)
    {
        if (AllowedMethods(rest) is not { } allow)
            return ApiError.Result(ApiErrorCode.NotFound, "Nothing is served at this path.");
        context.Response.Headers.Allow = allow;
        return ApiError.Result(ApiErrorCode.MethodNotAllowed, $"This path takes {allow}.");
    }

    private async Task<IResult> ListAsync(HttpContext context)
    {
        NoStore(context);
        // One round trip per room, all in flight together on the one multiplexer.
        var views = await Task.WhenAll(rooms.All.OrderBy(r => r.Id, StringComparer.Ordinal).Select(ReadAsync));
        return Results.Json(new AdminRoomList(views), AdminJsonContext.Api.AdminRoomList);
    }

    private async Task<IResult> GetAsync(HttpContext context, string id)
    {
        if (Find(context, id) is not { } room)
            return UnknownRoom(id);
        NoStore(context);
        return Results.Json(await ReadAsync(room), AdminJsonContext.Api.AdminRoom);
    }

    private async Task<IResult> PatchAsync(HttpContext context, string id)
    {
        if (Find(context, id) is not { } room)
            return UnknownRoom(id);
        if (!MediaTypeHeaderValue.TryParse(context.Request.ContentType, out var media) ||
            !(media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) || media.MediaType.Equals("application/merge-patch+json", StringComparison.OrdinalIgnoreCase)))
            return ApiError.Result(ApiErrorCode.UnsupportedMediaType, "Send the changes as application/json (or application/merge-patch+json), e.g. " + RoomPatch.Example + ".");
        var (bytes, error) = await RequestBody.ReadAsync(context);
        if (error is not null)
            return error;
        var before = await store.TickAsync(room, TickWork.ReadOnly());
        var (changes, field, problem, badValue) = RoomPatch.Parse(bytes, room, before);
        if (changes is null)
            return ApiError.Result(badValue ? ApiErrorCode.InvalidValue : ApiErrorCode.InvalidRequest, problem!, details: new ErrorDetails(EventId: room.Id, Field: field));

        await store.SetOverridesAsync(room, changes);
        var after = await RefreshAsync(room);
        var touched = RoomPatch.Fields.Where(f => changes.ContainsKey(f.Store)).Select(f => f.Api).ToArray();
        Audit(context, room, "update", Describe(RoomView.Of(room, before), touched), Describe(after, touched));
        NoStore(context);
        return Results.Json(after, AdminJsonContext.Api.AdminRoom);
    }

    private async Task<IResult> ClearAsync(HttpContext context, string id)
    {
        if (Find(context, id) is not { } room)
            return UnknownRoom(id);
        var before = RoomView.Of(room, await store.TickAsync(room, TickWork.ReadOnly()));
        await store.ClearOverridesAsync(room);
        var after = await RefreshAsync(room);
        var touched = RoomPatch.Fields.Select(f => f.Api).ToArray();
        Audit(context, room, "clear_overrides", Describe(before, touched), Describe(after, touched));
        NoStore(context);
        return Results.Json(after, AdminJsonContext.Api.AdminRoom);
    }

    private async Task<IResult> RevokeAsync(HttpContext context, string id)
    {
        if (Find(context, id) is not { } room)
            return UnknownRoom(id);
        var (request, bodyError) = await RequestBody.ReadJsonAsync(context, AdminJsonContext.Api.RevokeRequest, RevokeExample);
        if (request is null)
            return bodyError!;
        if (string.IsNullOrEmpty(request.ReservationToken))
            return ApiError.Result(ApiErrorCode.InvalidRequest, "Name the admission to revoke: " + RevokeExample + ".", details: new ErrorDetails(EventId: room.Id, Field: "reservation_token"));
        if (!admissionTokens.TryRead(request.ReservationToken, out var tokenRoom, out var admissionId))
            return ApiError.Result(ApiErrorCode.InvalidAdmissionToken, "reservation_token is not an unexpired admission this gateway signed (an expired one opens nothing already).",
                details: new ErrorDetails(EventId: room.Id, Field: "reservation_token"));
        if (!string.Equals(tokenRoom, room.Id, StringComparison.Ordinal))
            return ApiError.Result(ApiErrorCode.InvalidAdmissionToken, $"This admission is for room '{tokenRoom}', not '{room.Id}'; revoke it under /admin/v1/rooms/{tokenRoom}/revoke.",
                details: new ErrorDetails(EventId: room.Id, Field: "reservation_token"));

        var wasActive = await queue.RevokeAsync(room, admissionId, "admin");
        metrics.AdminChange(room.Id, "revoke");
        Log.AdminRevoked(logger, KeyId(context), Client(context), room.Id, admissionId, wasActive);
        return Results.NoContent();
    }

    private async Task<AdminRoom> ReadAsync(Room room) => RoomView.Of(room, await store.TickAsync(room, TickWork.ReadOnly()));

    /// <summary>Reads the room after a change and hands the reading to this instance at once (the others see it at their next tick).</summary>
    private async Task<AdminRoom> RefreshAsync(Room room)
    {
        var snapshot = await store.TickAsync(room, TickWork.ReadOnly());
        snapshots.Set(room.Id, snapshot);
        return RoomView.Of(room, snapshot);
    }

    private Room? Find(HttpContext context, string id)
    {
        if (!WaitingRoomOptionsValidator.RoomIdPattern().IsMatch(id) || !rooms.TryGet(id, out var room))
            return null;
        context.Items[StoreOutageFilter.RoomItem] = room;
        return room;
    }

    private static IResult UnknownRoom(string id) =>
        ApiError.Result(ApiErrorCode.EventNotFound, $"There is no room '{Clients.ClientInput.Printable(id, 64)}'; GET {Prefix}/rooms lists them.");

    private void Audit(HttpContext context, Room room, string action, string before, string after)
    {
        metrics.AdminChange(room.Id, action);
        Log.AdminChanged(logger, KeyId(context), Client(context), room.Id, action, before, after);
    }

    /// <summary>The named fields of a room view as compact JSON, for the audit log's before and after.</summary>
    private static string Describe(AdminRoom room, string[] fields)
    {
        var all = JsonSerializer.SerializeToElement(room, AdminJsonContext.Api.AdminRoom);
        var picked = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var field in fields)
        {
            if (all.TryGetProperty(field, out var value))
                picked[field] = value;
        }
        picked["overrides"] = all.GetProperty("overrides");
        return JsonSerializer.Serialize(picked, AdminJsonContext.Api.DictionaryStringJsonElement);
    }

    private static string KeyId(HttpContext context) => context.Items[AdminAuthFilter.KeyIdItem] as string ?? "";

    // The full connection address (not the /64 the limits use): this is an audit trail.
    private static string Client(HttpContext context) => context.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    private static void NoStore(HttpContext context) => context.Response.Headers.CacheControl = "no-store";
}
