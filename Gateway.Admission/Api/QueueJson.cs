using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Gateway.Admission.Api;

/// <summary>The join body. <paramref name="Pow"/> is read as raw JSON so that a malformed one is CHALLENGE_INVALID, not a bad body.</summary>
/// <param name="Pow">A solved proof-of-work challenge: <c>{"challenge": "...", "nonce": "..."}</c>.</param>
internal sealed record JoinRequest(string? EventId, string? UserId, string? UserToken, JsonElement? Pow = null);

/// <summary>The answer of <c>GET /api/v1/queue/challenge</c>.</summary>
/// <param name="Required">Whether the room's joins need a solution now (a challenge is issued either way).</param>
internal sealed record ChallengeResponse(string Challenge, string Algorithm, int Difficulty, DateTimeOffset ExpiresAt, bool Required, string EventId);

internal sealed record EnterRequest(string? WaitingToken);

internal sealed record JoinResponse(
    string WaitingToken,
    string Status,
    long? Position,
    long? EtaSec,
    double Confidence,
    string Message,
    bool ReadyForEntry,
    long WaitingTime,
    string EventId,
    int PollAfterMs,
    DateTimeOffset ServerTime)
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DateTimeOffset? OpensAt { get; init; }
}

internal sealed record StatusResponse(
    string Status,
    long? Position,
    long? EtaSec,
    double Confidence,
    string Message,
    bool ReadyForEntry,
    long? WaitingTime,
    string EventId,
    int PollAfterMs,
    DateTimeOffset ServerTime)
{
    /// <summary>True when the store could not be reached and the answer is the graceful fallback.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool Degraded { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DateTimeOffset? OpensAt { get; init; }
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

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DateTimeOffset? OpensAt { get; init; }

    /// <summary>ROOM_NOT_OPEN: when the pre-queue starts taking joins (a page joins then, not at the opening).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DateTimeOffset? PrequeueFrom { get; init; }

    /// <summary>The request field an invalid-value error is about (admin API).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Field { get; init; }
}

/// <summary>Source-generated snake_case JSON for the queue API (no reflection on the hot path).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(JoinRequest))]
[JsonSerializable(typeof(EnterRequest))]
[JsonSerializable(typeof(ChallengeResponse))]
[JsonSerializable(typeof(JoinResponse))]
[JsonSerializable(typeof(StatusResponse))]
[JsonSerializable(typeof(EnterResponse))]
[JsonSerializable(typeof(ErrorBody))]
internal sealed partial class QueueJsonContext : JsonSerializerContext
{
    /// <summary>
    /// The context the API reads and writes with: leaves Korean text and apostrophes readable instead of
    /// \u-escaping them (responses are application/json, never HTML); reading is strict JSON.
    /// </summary>
    public static QueueJsonContext Api { get; } = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        MaxDepth = 8,
    });
}
