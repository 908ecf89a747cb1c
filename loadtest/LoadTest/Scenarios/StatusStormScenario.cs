using LoadTest.Engine;
using static System.FormattableString;

namespace LoadTest.Scenarios;

/// <summary>Tokens held after a prefill, and what the prefill measured.</summary>
/// <param name="Run">The prefill's own run (its joins' latency and errors).</param>
/// <param name="Tokens">Waiting tokens of every successful join.</param>
public sealed record PrefillResult(LoadTestResult Run, IReadOnlyList<string> Tokens);

/// <summary>
/// Scenario <c>status-storm</c>: fill the queue with distinct users, then poll the status of a sample of
/// them at a fixed rate, as a crowd of waiting pages does.
/// </summary>
public static class StatusStormScenario
{
    /// <summary>Step name of the prefill joins.</summary>
    public const string JoinStep = "join";

    /// <summary>Step name of the polls.</summary>
    public const string StatusStep = "status";

    /// <summary>
    /// Joins <paramref name="joins"/> distinct users (<paramref name="userPrefix"/> + number) as fast as
    /// <paramref name="concurrency"/> parallel joiners allow (closed model), and keeps their waiting tokens.
    /// </summary>
    public static async Task<PrefillResult> PrefillAsync(
        Uri gateway,
        string eventId,
        string userPrefix,
        int joins,
        int concurrency,
        LoadRunOptions options,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var tokens = new string?[joins];
        long joined = 0;
        var scenario = new Scenario
        {
            Name = "prefill",
            // Bounded by the iteration budget; the duration is only a safety net.
            Simulation = new ClosedModel(concurrency, LoadLimits.MaxDuration),
            MaxIterations = joins,
            Iteration = async context =>
            {
                var userId = Invariant($"{userPrefix}{context.Number}");
                var result = await context.SendAsync(JoinStep, QueueApi.Join(gateway, eventId, userId), readBody: true);
                if (result.IsSuccess)
                {
                    tokens[context.Number] = QueueApi.Parse(result.Body, QueueJson.Default.JoinResponse).WaitingToken;
                    Interlocked.Increment(ref joined);
                }
            },
            ProgressDetail = () => Invariant($"joined {Interlocked.Read(ref joined)}/{joins}"),
        };
        var run = await LoadRunner.RunAsync(scenario, options, cancellationToken);
        return new PrefillResult(run, tokens.OfType<string>().ToList());
    }

    /// <summary>A uniformly random sample of <paramref name="size"/> tokens (all of them when fewer).</summary>
    public static IReadOnlyList<string> Sample(IReadOnlyList<string> tokens, int size)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        var shuffled = tokens.ToArray();
        Random.Shared.Shuffle(shuffled);
        return shuffled.Take(size).ToList();
    }

    /// <summary>One status poll of a random token from <paramref name="sample"/> per iteration.</summary>
    public static Scenario Create(Uri gateway, IReadOnlyList<string> sample, LoadSimulation simulation)
    {
        ArgumentNullException.ThrowIfNull(sample);
        if (sample.Count == 0)
        {
            throw new ArgumentException("status-storm needs at least one waiting token to poll", nameof(sample));
        }

        return new Scenario
        {
            Name = "status-storm",
            Simulation = simulation,
            Iteration = context =>
                context.SendAsync(StatusStep, QueueApi.Status(gateway, sample[Random.Shared.Next(sample.Count)])),
        };
    }
}
