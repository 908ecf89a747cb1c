using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gateway.Tests.Infrastructure;

/// <summary>A thin client of the contract's queue API, returning raw status and JSON so tests assert the wire format.</summary>
public sealed class QueueClient(HttpClient http)
{
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
        return await SendAsync(request);
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
