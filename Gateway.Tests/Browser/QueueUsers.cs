using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Gateway.Tests.Browser;

/// <summary>People in line who are not the browser: joined and kept waiting through the queue API.</summary>
internal static class QueueUsers
{
    public static async Task<string> JoinAsync(HttpClient client, string userId, string room = "concert")
    {
        using var response = await client.PostAsJsonAsync("/api/v1/queue/join", new { event_id = room, user_id = userId });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("waiting_token").GetString()!;
    }

    public static async Task<HttpStatusCode> StatusAsync(HttpClient client, string token)
    {
        using var response = await client.GetAsync("/api/v1/queue/status?token=" + Uri.EscapeDataString(token));
        return response.StatusCode;
    }

    /// <summary>
    /// Polls status every second (the heartbeat that keeps the place), enters once ready (as a person's
    /// page would), then stops. Runs until entered or <paramref name="stop"/> is cancelled.
    /// </summary>
    public static async Task KeepPlaceThenEnterAsync(HttpClient client, string token, CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                using (var status = await client.GetAsync("/api/v1/queue/status?token=" + Uri.EscapeDataString(token), stop))
                {
                    if (status.StatusCode == HttpStatusCode.OK)
                    {
                        using var json = JsonDocument.Parse(await status.Content.ReadAsStringAsync(stop));
                        if (json.RootElement.GetProperty("ready_for_entry").GetBoolean())
                        {
                            using var enter = await client.PostAsJsonAsync("/api/v1/queue/enter", new { waiting_token = token }, stop);
                            return;
                        }
                    }
                }
                await Task.Delay(TimeSpan.FromSeconds(1), stop);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }
}
