using Gateway.SampleBackends.Hosting;
using Gateway.SampleBackends.Http;
using Gateway.SampleBackends.Storage;

namespace Gateway.SampleBackends.Reservations;

/// <summary>Seat holds: <c>POST /api/reservations</c> holds seats for ten minutes; holds can be read and listed.</summary>
internal sealed class ReservationService(TimeProvider time) : IBackendService
{
    public const string ServiceName = "reservation";

    private const int MaxSeats = 10;
    private const int MaxSeatLength = 16;
    private static readonly TimeSpan HoldDuration = TimeSpan.FromMinutes(10);

    private readonly BoundedStore<Reservation> _reservations = new();

    public string Name => ServiceName;

    public string PathPrefix => "/api/reservations";

    public void MapEndpoints(IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup(PathPrefix);
        api.MapPost("", CreateAsync);
        api.MapGet("", (string? limit) => new ListResponse<Reservation>(
            _reservations.Newest(Paging.Limit(limit)).Select(WithCurrentStatus).ToList(), _reservations.Count));
        api.MapGet("/{id}", (string id, HttpContext context) => _reservations.TryGet(id, out var reservation)
            ? Results.Json(WithCurrentStatus(reservation))
            : ApiErrors.NotFound(context, "RESERVATION_NOT_FOUND", $"No reservation '{id}'."));
    }

    // Takes HttpRequest: a method taking only HttpContext would bind as a RequestDelegate and drop the IResult.
    private async Task<IResult> CreateAsync(HttpRequest httpRequest)
    {
        var context = httpRequest.HttpContext;
        var request = await JsonBody.TryReadAsync<CreateReservationRequest>(context);
        if (request is null)
        {
            return ApiErrors.Invalid(context, "Expected a JSON body {\"event_id\": \"...\", \"seats\": [\"A-12\", ...]}.");
        }

        if (!EventIds.IsValid(request.EventId))
        {
            return ApiErrors.Invalid(context, "event_id must be 1-64 letters, digits, '-', '_' or '.'.");
        }

        if (request.Seats is not { Count: > 0 and <= MaxSeats } seats
            || seats.Any(s => s is not { Length: > 0 and <= MaxSeatLength })
            || seats.Distinct(StringComparer.Ordinal).Count() != seats.Count)
        {
            return ApiErrors.Invalid(context, $"seats must list 1-{MaxSeats} distinct seat ids of at most {MaxSeatLength} characters.");
        }

        var now = time.GetUtcNow();
        var reservation = new Reservation(
            $"rsv_{Guid.CreateVersion7(now):N}", request.EventId!, [.. seats.Select(s => s!)], "held", now, now + HoldDuration);
        _reservations.TryAdd(reservation.Id, reservation);
        return Results.Created($"{PathPrefix}/{reservation.Id}", reservation);
    }

    private Reservation WithCurrentStatus(Reservation reservation) =>
        time.GetUtcNow() >= reservation.ExpiresAt ? reservation with { Status = "expired" } : reservation;
}

/// <summary>Body of <c>POST /api/reservations</c>.</summary>
internal sealed record CreateReservationRequest(string? EventId, IReadOnlyList<string?>? Seats);

/// <summary>A seat hold; <see cref="Status"/> is <c>held</c> until <see cref="ExpiresAt"/>, then <c>expired</c>.</summary>
internal sealed record Reservation(
    string Id, string EventId, IReadOnlyList<string> Seats, string Status, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt);
