using System.Buffers.Text;
using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Text;
using Gateway.Admission.Diagnostics;
using Gateway.Admission.Rooms;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Admission.Tokens;

/// <summary>
/// Issues and verifies admission tokens: <c>base64url(payload).base64url(HMAC-SHA256(payload))</c> with
/// payload <c>1|room|subject|expiryUnixSeconds|keyId</c>. Verification is local (no store round trip),
/// constant-time on the MAC, and accepts every configured key so keys can rotate.
/// </summary>
internal sealed class AdmissionTokens : IDisposable
{
    private const int MacBytes = 32;
    private const int MaxTokenChars = 512;
    private readonly TimeProvider _time;
    private readonly ILogger<AdmissionTokens> _logger;
    private readonly IDisposable? _subscription;
    private readonly Lazy<byte[]> _ephemeralKey = new(() => RandomNumberGenerator.GetBytes(32));
    private volatile KeyRing _ring;

    public AdmissionTokens(IOptionsMonitor<WaitingRoomOptions> options, TimeProvider time, ILogger<AdmissionTokens> logger)
    {
        _time = time;
        _logger = logger;
        _ring = BuildRing(options.CurrentValue);
        _subscription = options.OnChange(o => _ring = BuildRing(o));
    }

    /// <summary>Signs an admission for <paramref name="roomId"/>; the same inputs give the same token.</summary>
    public string Issue(string roomId, string subject, DateTimeOffset expires)
    {
        var ring = _ring;
        var payload = Encoding.ASCII.GetBytes($"1|{roomId}|{subject}|{expires.ToUnixTimeSeconds()}|{ring.SigningKeyId}");
        Span<byte> mac = stackalloc byte[MacBytes];
        HMACSHA256.HashData(ring.Keys[ring.SigningKeyId], payload, mac);
        return Base64Url.EncodeToString(payload) + "." + Base64Url.EncodeToString(mac);
    }

    /// <summary>
    /// True when <paramref name="token"/> is a well-formed, correctly signed, unexpired admission for
    /// <paramref name="roomId"/>. Anything else (garbage, tampered, unknown key, expired, other room) is false.
    /// </summary>
    public bool IsValid(ReadOnlySpan<char> token, string roomId)
    {
        if (token.IsEmpty || token.Length > MaxTokenChars)
            return false;
        var dot = token.IndexOf('.');
        if (dot <= 0)
            return false;

        Span<byte> payload = stackalloc byte[MaxTokenChars];
        Span<byte> mac = stackalloc byte[MacBytes + 3];
        if (!Base64Url.TryDecodeFromChars(token[..dot], payload, out var payloadLength) ||
            !Base64Url.TryDecodeFromChars(token[(dot + 1)..], mac, out var macLength) || macLength != MacBytes)
            return false;
        payload = payload[..payloadLength];

        // Fields: version | room | subject | expiry | key id.
        Span<Range> fields = stackalloc Range[5];
        if (!TrySplit(payload, fields))
            return false;
        if (!payload[fields[0]].SequenceEqual("1"u8))
            return false;

        var ring = _ring;
        var keyId = Encoding.ASCII.GetString(payload[fields[4]]);
        if (!ring.Keys.TryGetValue(keyId, out var key))
            return false;
        Span<byte> expected = stackalloc byte[MacBytes];
        HMACSHA256.HashData(key, payload, expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, mac[..MacBytes]))
            return false;

        if (!System.Buffers.Text.Utf8Parser.TryParse(payload[fields[3]], out long expiry, out var consumed) ||
            consumed != payload[fields[3]].Length || expiry <= _time.GetUtcNow().ToUnixTimeSeconds())
            return false;
        return RoomMatches(payload[fields[1]], roomId);
    }

    public void Dispose() => _subscription?.Dispose();

    private static bool TrySplit(ReadOnlySpan<byte> payload, Span<Range> fields)
    {
        var start = 0;
        for (var i = 0; i < fields.Length - 1; i++)
        {
            var bar = payload[start..].IndexOf((byte)'|');
            if (bar < 0)
                return false;
            fields[i] = new Range(start, start + bar);
            start += bar + 1;
        }
        fields[^1] = new Range(start, payload.Length);
        return payload[start..].IndexOf((byte)'|') < 0;
    }

    private static bool RoomMatches(ReadOnlySpan<byte> room, string roomId)
    {
        if (room.Length != roomId.Length)
            return false;
        for (var i = 0; i < room.Length; i++)
        {
            if (room[i] != roomId[i])
                return false;
        }
        return true;
    }

    private KeyRing BuildRing(WaitingRoomOptions options)
    {
        if (options.SigningKeys.Count == 0)
        {
            // Only reachable in Development: the validator refuses other environments without a key.
            if (!_ephemeralKey.IsValueCreated)
                Log.EphemeralSigningKey(_logger);
            return new KeyRing("dev", new Dictionary<string, byte[]> { ["dev"] = _ephemeralKey.Value }.ToFrozenDictionary());
        }
        var keys = options.SigningKeys.ToFrozenDictionary(k => k.Id, k => SigningKeyOptions.TryDecodeSecret(k.Secret)!, StringComparer.Ordinal);
        return new KeyRing(options.SigningKeys[0].Id, keys);
    }

    private sealed record KeyRing(string SigningKeyId, FrozenDictionary<string, byte[]> Keys);
}
