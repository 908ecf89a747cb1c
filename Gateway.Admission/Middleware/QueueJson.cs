using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Gateway.Admission.Middleware;

internal sealed record JoinRequest(string? EventId, string? UserId);

internal sealed record EnterRequest(string? WaitingToken);

internal sealed record JoinResponse(string WaitingToken, string Status, long Position, long EtaSec, double Confidence, string Message, bool ReadyForEntry, string EventId);

internal sealed record StatusResponse(string Status, long? Position, long? EtaSec, double Confidence, string Message, bool ReadyForEntry, long? WaitingTime, string EventId)
{
    /// <summary>True when the store could not be reached and the answer is the graceful fallback.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool Degraded { get; init; }
}

internal sealed record EnterResponse(string Admission, string ReservationToken, long TtlSec, DateTimeOffset ExpiresAt, string EventId);

internal sealed record ErrorBody(ErrorPayload Error);

internal sealed record ErrorPayload(string Code, string Message, string TraceId)
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? Position { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long? EtaSec { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? EventId { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? JoinUrl { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? WaitingRoomUrl { get; init; }
}

/// <summary>Source-generated snake_case JSON for the queue API (no reflection on the hot path).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, AllowTrailingCommas = true, ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip)]
[JsonSerializable(typeof(JoinRequest))]
[JsonSerializable(typeof(EnterRequest))]
[JsonSerializable(typeof(JoinResponse))]
[JsonSerializable(typeof(StatusResponse))]
[JsonSerializable(typeof(EnterResponse))]
[JsonSerializable(typeof(ErrorBody))]
internal sealed partial class QueueJsonContext : JsonSerializerContext
{
    /// <summary>
    /// The context the API writes with: like <see cref="JsonSerializerContext"/>'s default but leaves Korean
    /// text and apostrophes readable instead of \u-escaping them (responses are application/json, never HTML).
    /// </summary>
    public static QueueJsonContext Api { get; } = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        AllowTrailingCommas = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}
