using Gateway.SampleBackends.Hosting;
using Gateway.SampleBackends.Http;
using Gateway.SampleBackends.Storage;

namespace Gateway.SampleBackends.Inventory;

/// <summary>
/// Event and seat availability. The waiting rooms are configured in the gateway, not here, so the catalog
/// answers for any well-formed event id with details derived from the id (the same every run) instead of
/// making every demo configure its events twice.
/// </summary>
internal sealed class InventoryService : IBackendService
{
    public const string ServiceName = "inventory";

    // Shown by GET /api/inventory before anyone has asked for another event.
    private const string SampleEventId = "concert-2025";
    private const string Currency = "KRW";

    private static readonly (string Name, decimal Price, int Seats)[] SectionPlan =
    [
        ("floor", 198_000m, 1_000),
        ("lower", 165_000m, 3_000),
        ("upper", 132_000m, 4_000),
        ("balcony", 99_000m, 2_000),
    ];

    private static readonly string[] Venues = ["KSPO Dome, Seoul", "Gocheok Sky Dome, Seoul", "Olympic Hall, Seoul", "BEXCO, Busan"];

    private static readonly DateTimeOffset FirstShow = new(2026, 1, 10, 19, 0, 0, TimeSpan.FromHours(9));

    private readonly BoundedStore<CatalogEvent> _catalog = new();

    public InventoryService() => _catalog.GetOrAdd(SampleEventId, Describe);

    public string Name => ServiceName;

    public string PathPrefix => "/api/inventory";

    public void MapEndpoints(IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup(PathPrefix);
        api.MapGet("", (string? limit) => new InventorySummary(
            _catalog.Count, _catalog.Newest(Paging.Limit(limit)).Select(e => e.Details).ToList()));
        api.MapGet("/events/{eventId}", (string eventId, HttpContext context) =>
            EventIds.IsValid(eventId) ? Results.Json(_catalog.GetOrAdd(eventId, Describe).Details) : UnknownEvent(context, eventId));
        api.MapGet("/events/{eventId}/seats", (string eventId, HttpContext context) =>
            EventIds.IsValid(eventId)
                ? Results.Json(new SeatMap(eventId, Currency, _catalog.GetOrAdd(eventId, Describe).Sections))
                : UnknownEvent(context, eventId));
    }

    private static IResult UnknownEvent(HttpContext context, string eventId) =>
        ApiErrors.NotFound(context, "EVENT_NOT_FOUND", $"No event '{eventId}'; event ids are 1-64 letters, digits, '-', '_' or '.'.");

    private static CatalogEvent Describe(string eventId)
    {
        var hash = StableHash(eventId);
        var sections = SectionPlan
            .Select((plan, i) =>
            {
                // 5-95% of each section still free, varying by event and section.
                var freePercent = 5 + (int)((hash >> (i * 8)) % 91);
                return new Section(plan.Name, plan.Price, plan.Seats, plan.Seats * freePercent / 100);
            })
            .ToList();
        var details = new EventDetails(
            eventId,
            $"Live Concert {eventId}",
            Venues[hash % (uint)Venues.Length],
            FirstShow.AddDays(hash % 180),
            "on_sale",
            sections.Sum(s => s.Total),
            sections.Sum(s => s.Available));
        return new CatalogEvent(details, sections);
    }

    // FNV-1a: string.GetHashCode is randomised per process, and the catalog should read the same every run.
    private static uint StableHash(string value)
    {
        var hash = 2166136261u;
        foreach (var c in value)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return hash;
    }

    private sealed record CatalogEvent(EventDetails Details, IReadOnlyList<Section> Sections);
}

/// <summary>Answer of <c>GET /api/inventory/events/{eventId}</c>.</summary>
internal sealed record EventDetails(
    string EventId, string Name, string Venue, DateTimeOffset StartsAt, string Status, int TotalSeats, int AvailableSeats);

/// <summary>Answer of <c>GET /api/inventory/events/{eventId}/seats</c>.</summary>
internal sealed record SeatMap(string EventId, string Currency, IReadOnlyList<Section> Sections);

/// <summary>One priced section of a venue and how many of its seats are free.</summary>
internal sealed record Section(string Name, decimal Price, int Total, int Available);

/// <summary>Answer of <c>GET /api/inventory</c>: the most recently listed events.</summary>
internal sealed record InventorySummary(int EventCount, IReadOnlyList<EventDetails> Events);
