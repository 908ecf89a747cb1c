using Gateway.Admission.Rooms;
using Microsoft.Extensions.Options;

namespace Gateway.Admission.Clients;

/// <summary>
/// This instance's per-client limits: joins (a first line before the store's limit, which every instance
/// shares, so a flood from one address costs the store nothing) and polls (status and enter). Keyed by
/// <see cref="ClientAddress"/>; each client has a token bucket that holds a minute's calls and refills
/// evenly over the minute, on the gateway's clock. The reloaded limit applies to the next call.
/// </summary>
internal sealed class ClientRateLimits(IOptionsMonitor<WaitingRoomOptions> options, TimeProvider time)
{
    /// <summary>
    /// The most clients each limit remembers. An attacker who rotates addresses (an IPv6 /48 holds 65,536
    /// /64s) would otherwise grow the table with every address; at under 200 bytes a client (its address
    /// included, measured) this caps each limit near 20 MB.
    /// </summary>
    public const int MaxClients = 100_000;

    private readonly Buckets _joins = new(time);
    private readonly Buckets _polls = new(time);

    public bool TryJoin(string client) => _joins.TryTake(client, options.CurrentValue.JoinsPerClientPerMinute);

    public bool TryPoll(string client) => _polls.TryTake(client, options.CurrentValue.PollsPerClientPerMinute);

    /// <summary>How many clients each limit remembers now.</summary>
    internal (int Joins, int Polls) Remembered => (_joins.Count, _polls.Count);

    /// <summary>
    /// The buckets of one limit in two generations. A client is looked up in the newer one, then the older one
    /// (and moved to the newer one); when the newer one is full the older one is dropped and a new one begins.
    /// So a client that calls at least once a generation keeps its bucket, however many addresses pass
    /// meanwhile, and a dropped client only gets a full bucket back: nobody is refused for being forgotten.
    /// </summary>
    private sealed class Buckets(TimeProvider time)
    {
        private readonly Lock _gate = new();
        private Dictionary<string, Bucket> _newer = new(StringComparer.Ordinal);
        private Dictionary<string, Bucket> _older = new(StringComparer.Ordinal);

        public int Count
        {
            get
            {
                lock (_gate)
                    return _newer.Count + _older.Count;
            }
        }

        public bool TryTake(string client, int perMinute)
        {
            if (perMinute <= 0)
                return true;
            // A bucket is kept as the instant it is full again (the GCRA form of a token bucket): a call moves
            // that instant one interval on, and is allowed while it stays within a minute of now. In whole clock
            // ticks, not fractions of a token: at 6 a minute the 7th call is allowed exactly 10 s after the first six.
            var interval = Math.Max(1, time.TimestampFrequency * 60 / perMinute);
            var now = time.GetTimestamp();
            lock (_gate)
            {
                var bucket = Find(client, now);
                var fullAt = Math.Max(bucket.FullAt, now) + interval;
                if (fullAt - now > interval * perMinute)
                    return false;
                bucket.FullAt = fullAt;
                return true;
            }
        }

        private Bucket Find(string client, long now)
        {
            if (_newer.TryGetValue(client, out var bucket))
                return bucket;
            if (!_older.Remove(client, out bucket))
                bucket = new Bucket { FullAt = now };
            if (_newer.Count >= MaxClients / 2)
            {
                _older = _newer;
                _newer = new Dictionary<string, Bucket>(StringComparer.Ordinal);
            }
            _newer.Add(client, bucket);
            return bucket;
        }
    }

    private sealed class Bucket
    {
        /// <summary>The clock's timestamp at which the bucket is full again.</summary>
        public long FullAt;
    }
}
