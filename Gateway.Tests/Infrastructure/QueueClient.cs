using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// A thin client of the contract's queue API, returning raw status and JSON so tests assert the wire format.
/// Each user id behaves as its own browser: the identity cookie the gateway sets on that user's first join is
/// sent with that user's later joins (so the same person gets the same place); the HttpClient itself keeps no cookies.
/// </summary>
public sealed class QueueClient(HttpClient http)
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> _identities = new(StringComparer.Ordinal);

    public HttpClient Http { get; } = http;

    public async Task<(HttpStatusCode Status, JsonObject Body, HttpResponseMessage Response)> JoinAsync(string eventId, string? userId = null, string? idempotencyKey = null, string? acceptLanguage = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/queue/join")
        {
            Content = JsonContent.Create(new Dictionary<string, string?> { ["event_id"] = eventId, ["user_id"] = userId }),
        };
        if (idempotencyKey is not null)
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        if (acceptLanguage is not null)
            request.Headers.Add("Accept-Language", acceptLanguage);
        if (userId is not null && _identities.TryGetValue(userId, out var identity))
            request.Headers.Add("Cookie", identity);
        var result = await SendAsync(request);
        if (userId is not null && result.Item3.Headers.TryGetValues("Set-Cookie", out var cookies) &&
            cookies.FirstOrDefault(c => c.StartsWith("wr_id=", StringComparison.Ordinal)) is { } cookie)
            _identities[userId] = cookie.Split(';')[0];
        return result;
    }

    public async Task<(HttpStatusCode Status, JsonObject Body, HttpResponseMessage Response)> StatusAsync(string token, string? acceptLanguage = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/queue/status?token=" + Uri.EscapeDataString(token));
        if (acceptLanguage is not null)
            request.Headers.Add("Accept-Language", acceptLanguage);
        return await SendAsync(request);
    }

    public async Task<(HttpStatusCode Status, JsonObject Body, HttpResponseMessage Response)> EnterAsync(string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/queue/enter")
        {
            Content = JsonContent.Create(new Dictionary<string, string> { ["waiting_token"] = token }),
        };
        return await SendAsync(request);
    }

    public async Task<HttpStatusCode> LeaveAsync(string token)
    {
        using var response = await Http.DeleteAsync("/api/v1/queue/leave?token=" + Uri.EscapeDataString(token));
        return response.StatusCode;
    }

    /// <summary>Joins, polls until ready, enters; returns the admission token.</summary>
    public async Task<string> AdmitAsync(string eventId, string? userId = null, TimeSpan? timeout = null)
    {
        var (_, joined, _) = await JoinAsync(eventId, userId);
        var token = joined["waiting_token"]!.GetValue<string>();
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (DateTime.UtcNow < deadline)
        {
            var (status, body, _) = await EnterAsync(token);
            if (status == HttpStatusCode.OK)
                return body["reservation_token"]!.GetValue<string>();
            await Task.Delay(100);
            await StatusAsync(token);
        }
        throw new TimeoutException("not admitted in time");
    }

    private async Task<(HttpStatusCode, JsonObject, HttpResponseMessage)> SendAsync(HttpRequestMessage request)
    {
        var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var body = text.Length == 0 ? new JsonObject() : JsonNode.Parse(text) as JsonObject ?? throw new JsonException("not an object: " + text);
        return (response.StatusCode, body, response);
    }
}
