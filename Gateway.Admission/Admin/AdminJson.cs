using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Gateway.Admission.Admin;

/// <summary>
/// A room as the admin API shows it (<c>GET /admin/v1/rooms/{id}</c>): the values in force (configuration, or the
/// operators' override where one is set), the live counts from one store round trip, and the overrides themselves.
/// </summary>
/// <param name="RefillPerSecond">The configured or overridden rate; <paramref name="EffectiveRefillPerSecond"/> is what the bucket uses (lowered by adaptive admission).</param>
/// <param name="MaxActive">The active-admission cap in force; null = no cap.</param>
/// <param name="Active">Admissions in force: what <paramref name="MaxActive"/> caps (with <paramref name="Ready"/>, whose admissions are reserved).</param>
/// <param name="AdmittedTotal">Admissions granted since the room's keys were created.</param>
/// <param name="OldestWaitSec">How long the person at the head of the line has waited; 0 when nobody waits.</param>
internal sealed record AdminRoom(
    string EventId,
    string State,
    int Capacity,
    double RefillPerSecond,
    double EffectiveRefillPerSecond,
    int? MaxActive,
    long Waiting,
    long Ready,
    long Active,
    long AdmittedTotal,
    long OldestWaitSec,
    long Prequeued,
    DateTimeOffset? PrequeueFrom,
    DateTimeOffset? OpensAt,
    DateTimeOffset? JoinsCloseAt,
    bool ShuffleAtOpen,
    AdminOverrides Overrides,
    DateTimeOffset ServerTime);

/// <summary>The operators' overrides in the store, by the names PATCH takes; a field is present only while overridden.</summary>
internal sealed record AdminOverrides
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? State { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Capacity { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? RefillPerSecond { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? MaxActive { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DateTimeOffset? PrequeueFrom { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DateTimeOffset? OpensAt { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DateTimeOffset? JoinsCloseAt { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? ShuffleAtOpen { get; init; }
}

internal sealed record AdminRoomList(IReadOnlyList<AdminRoom> Rooms);

internal sealed record RevokeRequest(string? ReservationToken);

/// <summary>Source-generated snake_case JSON for the admin API.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(AdminRoom))]
[JsonSerializable(typeof(AdminRoomList))]
[JsonSerializable(typeof(AdminOverrides))]
[JsonSerializable(typeof(RevokeRequest))]
[JsonSerializable(typeof(Dictionary<string, JsonElement>))]
internal sealed partial class AdminJsonContext : JsonSerializerContext
{
    /// <summary>Readable output (no \u-escaping; responses are application/json); strict, shallow input.</summary>
    public static AdminJsonContext Api { get; } = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        MaxDepth = 8,
    });
}
