using System.Threading.RateLimiting;
using Gateway.Admission.Rooms;
using Microsoft.Extensions.Options;

namespace Gateway.Admission.Clients;

/// <summary>
/// This instance's per-client limits: joins (a first line before the store's limit, which every instance
/// shares, so a flood from one address costs the store nothing) and polls (status and enter). Keyed by
/// <see cref="ClientAddress"/>; partitions are bounded by the rate limiter's own idle cleanup.
/// </summary>
internal sealed class ClientRateLimits(IOptionsMonitor<WaitingRoomOptions> options) : IDisposable
{
    private readonly PartitionedRateLimiter<string> _joins = PartitionedRateLimiter.Create<string, string>(client =>
        PerMinute(client, options.CurrentValue.JoinsPerClientPerMinute));

    private readonly PartitionedRateLimiter<string> _polls = PartitionedRateLimiter.Create<string, string>(client =>
        PerMinute(client, options.CurrentValue.PollsPerClientPerMinute));

    public bool TryJoin(string client) => options.CurrentValue.JoinsPerClientPerMinute == 0 || Acquire(_joins, client);

    public bool TryPoll(string client) => options.CurrentValue.PollsPerClientPerMinute == 0 || Acquire(_polls, client);

    public void Dispose()
    {
        _joins.Dispose();
        _polls.Dispose();
    }

    private static bool Acquire(PartitionedRateLimiter<string> limiter, string client)
    {
        using var lease = limiter.AttemptAcquire(client);
        return lease.IsAcquired;
    }

    private static RateLimitPartition<string> PerMinute(string client, int perMinute) => perMinute == 0
        ? RateLimitPartition.GetNoLimiter(client)
        : RateLimitPartition.GetTokenBucketLimiter(client, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = perMinute,
            TokensPerPeriod = perMinute,
            ReplenishmentPeriod = TimeSpan.FromMinutes(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        });
}
