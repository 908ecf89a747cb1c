using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace LoadTest.Scenarios;

/// <summary>Requests and responses of the gateway's queue API and gated routes (shared/CONTRACT.md).</summary>
internal static class QueueApi
{
    /// <summary>Header carrying the admission token, used instead of the cookie (see LoadTestHttp).</summary>
    public const string AdmissionHeader = "X-Admission-Token";

    private static readonly MediaTypeHeaderValue JsonMediaType = new("application/json");

    public static HttpRequestMessage Join(Uri gateway, string eventId, string userId) =>
        Post(new Uri(gateway, "/api/v1/queue/join"), new JoinRequest(eventId, userId), QueueJson.Default.JoinRequest);

    public static HttpRequestMessage Status(Uri gateway, string waitingToken) =>
        Get(new Uri(gateway, $"/api/v1/queue/status?token={Uri.EscapeDataString(waitingToken)}"));

    public static HttpRequestMessage Enter(Uri gateway, string waitingToken) =>
        Post(new Uri(gateway, "/api/v1/queue/enter"), new EnterRequest(waitingToken), QueueJson.Default.EnterRequest);

    public static HttpRequestMessage Get(Uri url, string? admissionToken = null) =>
        Admitted(new HttpRequestMessage(HttpMethod.Get, url), admissionToken);

    public static HttpRequestMessage Post<T>(Uri url, T body, JsonTypeInfo<T> typeInfo, string? admissionToken = null)
    {
        // Serialised up front so the request has a Content-Length, as browsers send it, instead of a chunked body.
        var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(body, typeInfo));
        content.Headers.ContentType = JsonMediaType;
        return Admitted(new HttpRequestMessage(HttpMethod.Post, url) { Content = content }, admissionToken);
    }

    /// <summary>Parses a JSON body; a body not matching the contract fails the iteration with the reason.</summary>
    public static T Parse<T>(byte[] body, JsonTypeInfo<T> typeInfo) =>
        JsonSerializer.Deserialize(body, typeInfo) ?? throw new JsonException($"empty {typeof(T).Name} body");

    private static HttpRequestMessage Admitted(HttpRequestMessage request, string? admissionToken)
    {
        // JSON clients get 429 ADMISSION_REQUIRED instead of a 302 to the waiting-room page. Added as raw
        // strings: parsing them into header objects and formatting them back cost ~200 bytes per request.
        request.Headers.TryAddWithoutValidation("Accept", "application/json");
        if (admissionToken is not null)
        {
            request.Headers.TryAddWithoutValidation(AdmissionHeader, admissionToken);
        }

        return request;
    }
}

internal sealed record JoinRequest(string EventId, string UserId);

// Fields other than the tokens may be absent (for example the position while the store is degraded).
internal sealed record JoinResponse(string WaitingToken, string? Status = null, long? Position = null, double? EtaSec = null, double? Confidence = null);

internal sealed record StatusResponse(string? Status = null, long? Position = null, double? EtaSec = null, bool? ReadyForEntry = null, long? PollAfterMs = null)
{
    public bool IsReady => ReadyForEntry == true || Status is "ready" or "admitted";
}

internal sealed record EnterRequest(string WaitingToken);

internal sealed record EnterResponse(string ReservationToken, string? Admission = null, long? TtlSec = null);

internal sealed record ReservationRequest(string EventId, string[] Seats);

internal sealed record PaymentRequest(string ReservationId, decimal Amount, string Currency);

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(JoinRequest))]
[JsonSerializable(typeof(JoinResponse))]
[JsonSerializable(typeof(StatusResponse))]
[JsonSerializable(typeof(EnterRequest))]
[JsonSerializable(typeof(EnterResponse))]
[JsonSerializable(typeof(ReservationRequest))]
[JsonSerializable(typeof(PaymentRequest))]
internal sealed partial class QueueJson : JsonSerializerContext;
