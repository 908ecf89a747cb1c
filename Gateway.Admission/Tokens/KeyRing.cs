using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Text;
using Gateway.Admission.Diagnostics;
using Gateway.Admission.Rooms;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Admission.Tokens;

/// <summary>
/// The gateway's secrets, from <c>WaitingRoom:SigningKeys</c>: the admission-token keys (the first signs,
/// all verify) and, derived from each of them, the keys that MAC waiting tokens and identity cookies, and
/// proof-of-work challenges.
/// Swapped whole when configuration reloads, so keys rotate without a restart.
/// </summary>
internal sealed class KeyRing : IDisposable
{
    private readonly ILogger<KeyRing> _logger;
    private readonly Lazy<byte[]> _ephemeralKey = new(() => RandomNumberGenerator.GetBytes(32));
    private readonly IDisposable? _subscription;
    private volatile Keys _keys;

    public KeyRing(IOptionsMonitor<WaitingRoomOptions> options, ILogger<KeyRing> logger)
    {
        _logger = logger;
        _keys = Build(options.CurrentValue);
        _subscription = options.OnChange(o => _keys = Build(o));
    }

    /// <summary>The current keys; read once per operation so a reload never mixes two rings.</summary>
    public Keys Current => _keys;

    public void Dispose() => _subscription?.Dispose();

    private Keys Build(WaitingRoomOptions options)
    {
        if (options.SigningKeys.Count == 0)
        {
            // Only reachable in Development: the validator refuses other environments without a key.
            if (!_ephemeralKey.IsValueCreated)
                Log.EphemeralSigningKey(_logger);
            return Keys.From([("dev", _ephemeralKey.Value)]);
        }
        return Keys.From([.. options.SigningKeys.Select(k => (k.Id, SigningKeyOptions.TryDecodeSecret(k.Secret)!))]);
    }

    /// <summary>One generation of keys.</summary>
    internal sealed class Keys
    {
        private Keys(string signingKeyId, FrozenDictionary<string, byte[]> admission, byte[][] places, byte[][] challenges)
        {
            SigningKeyId = signingKeyId;
            Admission = admission;
            Places = places;
            Challenges = challenges;
        }

        /// <summary>The id of the key that signs new admission tokens.</summary>
        public string SigningKeyId { get; }

        /// <summary>Admission-token keys by id.</summary>
        public FrozenDictionary<string, byte[]> Admission { get; }

        /// <summary>Keys MACing waiting tokens and identity cookies, the signing key's first (it MACs new ones).</summary>
        public byte[][] Places { get; }

        /// <summary>Keys MACing proof-of-work challenges, the signing key's first (it MACs new ones).</summary>
        public byte[][] Challenges { get; }

        public static Keys From(IReadOnlyList<(string Id, byte[] Secret)> keys) => new(
            keys[0].Id,
            keys.ToFrozenDictionary(k => k.Id, k => k.Secret, StringComparer.Ordinal),
            // A separate key per purpose: a MAC made for one kind of token can never pass as another.
            [.. keys.Select(k => Derive(k.Secret, "waiting-room/place-mac/v1"))],
            [.. keys.Select(k => Derive(k.Secret, "waiting-room/pow-challenge/v1"))]);

        private static byte[] Derive(byte[] secret, string purpose) => HMACSHA256.HashData(secret, Encoding.ASCII.GetBytes(purpose));
    }
}
