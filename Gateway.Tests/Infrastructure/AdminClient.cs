using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;

namespace Gateway.Tests.Infrastructure;

/// <summary>A thin client of the admin API (<c>/admin/v1</c>), returning raw status and JSON so tests assert the wire format.</summary>
public sealed class AdminClient(HttpClient http) : IDisposable
{
    public HttpClient Http { get; } = http;

    public Task<(HttpStatusCode Status, JsonObject Body, HttpResponseMessage Response)> ListAsync() =>
        SendAsync(new HttpRequestMessage(HttpMethod.Get, "/admin/v1/rooms"));

    public Task<(HttpStatusCode Status, JsonObject Body, HttpResponseMessage Response)> GetAsync(string room) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Get, "/admin/v1/rooms/" + Uri.EscapeDataString(room)));

    /// <summary>PATCHes the room with <paramref name="json"/> as it is (application/json unless told otherwise).</summary>
    public Task<(HttpStatusCode Status, JsonObject Body, HttpResponseMessage Response)> PatchAsync(string room, string json, string mediaType = "application/json") =>
        SendAsync(new HttpRequestMessage(HttpMethod.Patch, "/admin/v1/rooms/" + Uri.EscapeDataString(room))
        {
            Content = new StringContent(json, Encoding.UTF8, mediaType),
        });

    /// <summary>PATCHes and asserts 200: the room as it is after the change.</summary>
    public async Task<JsonObject> SetAsync(string room, string json)
    {
        var (status, body, _) = await PatchAsync(room, json);
        Assert.True(status == HttpStatusCode.OK, $"PATCH {json} answered {(int)status}: {body.ToJsonString()}");
        return body;
    }

    public Task<(HttpStatusCode Status, JsonObject Body, HttpResponseMessage Response)> ClearAsync(string room) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Delete, "/admin/v1/rooms/" + Uri.EscapeDataString(room) + "/overrides"));

    public Task<(HttpStatusCode Status, JsonObject Body, HttpResponseMessage Response)> RevokeAsync(string room, string? reservationToken) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Post, "/admin/v1/rooms/" + Uri.EscapeDataString(room) + "/revoke")
        {
            Content = JsonContent.Create(new Dictionary<string, string?> { ["reservation_token"] = reservationToken }),
        });

    public async Task<(HttpStatusCode Status, JsonObject Body, HttpResponseMessage Response)> SendAsync(HttpRequestMessage request)
    {
        using (request)
        {
            var response = await Http.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            var body = text.Length == 0 ? new JsonObject() : JsonNode.Parse(text) as JsonObject ?? throw new InvalidOperationException("not an object: " + text);
            return (response.StatusCode, body, response);
        }
    }

    public void Dispose() => Http.Dispose();
}
