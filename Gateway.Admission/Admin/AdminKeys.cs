using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Text;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace Gateway.Admission.Admin;

/// <summary>
/// Who may call the admin API: the configured key hashes (swapped whole when <c>Admin</c> reloads), the ports
/// it answers on, and the per-client limit on wrong keys. A presented secret is hashed once and compared with
/// every configured hash in constant time, so neither the comparison nor the number of keys tried leaks
/// which bytes were right.
/// </summary>
internal sealed class AdminKeys : IDisposable
{
    private const int HashBytes = 32;

    private readonly IOptionsMonitor<AdminOptions> _options;
    private readonly IDisposable? _subscription;
    private readonly PartitionedRateLimiter<string> _failures;
    private volatile Key[] _keys;

    public AdminKeys(IOptionsMonitor<AdminOptions> options)
    {
        _options = options;
        _keys = Parse(options.CurrentValue);
        _subscription = options.OnChange(o => _keys = Parse(o));
        // The ports are what Kestrel was told to listen on at start-up; a reload cannot move them.
        Ports = [.. AdminOptionsValidator.Ports(options.CurrentValue.Urls)];
        _failures = PartitionedRateLimiter.Create<string, string>(client => RateLimitPartition.GetTokenBucketLimiter(client, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = _options.CurrentValue.FailedAttemptsPerClientPerMinute,
            TokensPerPeriod = _options.CurrentValue.FailedAttemptsPerClientPerMinute,
            ReplenishmentPeriod = TimeSpan.FromMinutes(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        }));
    }

    /// <summary>True when at least one key is configured; otherwise the admin API answers 404.</summary>
    public bool Enabled => _keys.Length > 0;

    public int Count => _keys.Length;

    /// <summary>The local ports the admin API answers on (<c>Admin:Urls</c>); empty = every port.</summary>
    public FrozenSet<int> Ports { get; }

    /// <summary>Whether a request that arrived on <paramref name="localPort"/> may reach the admin API.</summary>
    public bool ServesPort(int localPort) => Ports.Count == 0 || Ports.Contains(localPort);

    /// <summary>The id of the key whose hash matches <paramref name="secret"/>, or null.</summary>
    public string? Authenticate(ReadOnlySpan<char> secret)
    {
        Span<byte> presented = stackalloc byte[HashBytes];
        var bytes = Encoding.UTF8.GetBytes(secret.ToArray());
        SHA256.HashData(bytes, presented);
        CryptographicOperations.ZeroMemory(bytes);
        string? match = null;
        // Every key is compared, whichever matches: the time taken does not depend on which one (or none) did.
        foreach (var key in _keys)
        {
            if (CryptographicOperations.FixedTimeEquals(presented, key.Hash))
                match ??= key.Id;
        }
        return match;
    }

    /// <summary>True when <paramref name="client"/> has used up its wrong attempts for now (checked without using one).</summary>
    public bool IsLockedOut(string client) => _failures.GetStatistics(client) is { CurrentAvailablePermits: <= 0 };

    /// <summary>Counts a wrong key from <paramref name="client"/>; true when this attempt used up its allowance.</summary>
    public bool RecordFailure(string client)
    {
        using (var lease = _failures.AttemptAcquire(client, 1))
        {
            if (!lease.IsAcquired)
                return true;
        }
        return IsLockedOut(client);
    }

    public void Dispose()
    {
        _subscription?.Dispose();
        _failures.Dispose();
    }

    /// <summary>The 32 bytes of a 64-hex-digit SHA-256, or null.</summary>
    public static byte[]? TryDecodeHash(string? hex)
    {
        if (hex is null || hex.Length != HashBytes * 2)
            return null;
        try
        {
            return Convert.FromHexString(hex);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static Key[] Parse(AdminOptions options) =>
        [.. options.Keys.Select(k => (k.Id, Hash: TryDecodeHash(k.Sha256))).Where(k => k.Id is not null && k.Hash is not null).Select(k => new Key(k.Id!, k.Hash!))];

    private sealed record Key(string Id, byte[] Hash);
}
