using System.Diagnostics;
using System.Net;
using LoadTest.Engine;

namespace LoadTest.Scenarios;

/// <summary>
/// Scenario <c>admitted</c>: one admitted user's token on every request to a gated route, so the run
/// measures what the admission gate and the proxy add on the path of admitted traffic.
/// </summary>
public static class AdmittedScenario
{
    /// <summary>Step name in reports.</summary>
    public const string StepName = "gated GET";

    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan SetupRequestTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Joins the queue as <paramref name="userId"/> and polls status / enter (about once a second) until
    /// admitted. Returns the admission token.
    /// </summary>
    /// <exception cref="InvalidOperationException">The join was refused or no admission came within <paramref name="timeout"/>.</exception>
    public static async Task<string> ObtainAdmissionAsync(
        HttpClient client, Uri gateway, string eventId, string userId, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        var (joinStatus, joinBody) = await SendAsync(client, QueueApi.Join(gateway, eventId, userId), cancellationToken);
        if (joinStatus != HttpStatusCode.Accepted && joinStatus != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"join as '{userId}' answered {(int)joinStatus}: {System.Text.Encoding.UTF8.GetString(joinBody)}");
        }

        var waitingToken = QueueApi.Parse(joinBody, QueueJson.Default.JoinResponse).WaitingToken;
        var lastAnswer = "none yet";
        while (Stopwatch.GetTimestamp() < deadline)
        {
            var (status, body) = await SendAsync(client, QueueApi.Status(gateway, waitingToken), cancellationToken);
            if (status == HttpStatusCode.OK && QueueApi.Parse(body, QueueJson.Default.StatusResponse).IsReady)
            {
                (status, body) = await SendAsync(client, QueueApi.Enter(gateway, waitingToken), cancellationToken);
                if (status == HttpStatusCode.OK)
                {
                    return QueueApi.Parse(body, QueueJson.Default.EnterResponse).ReservationToken;
                }
            }

            lastAnswer = $"{(int)status}: {System.Text.Encoding.UTF8.GetString(body)}";
            await Task.Delay(PollInterval, cancellationToken);
        }

        throw new InvalidOperationException($"no admission for '{userId}' within {timeout.TotalSeconds} s (last answer {lastAnswer})");
    }

    /// <summary>One GET of the gated <paramref name="url"/> with <paramref name="admissionToken"/> per iteration.</summary>
    public static Scenario Create(Uri url, string admissionToken, LoadSimulation simulation) => new()
    {
        Name = "admitted",
        Simulation = simulation,
        Iteration = context => context.SendAsync(StepName, QueueApi.Get(url, admissionToken)),
    };

    private static async Task<(HttpStatusCode Status, byte[] Body)> SendAsync(HttpClient client, HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using (request)
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            timeout.CancelAfter(SetupRequestTimeout);
            using var response = await client.SendAsync(request, timeout.Token);
            return (response.StatusCode, await response.Content.ReadAsByteArrayAsync(timeout.Token));
        }
    }
}
