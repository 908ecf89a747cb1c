using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace Gateway.Admission.Tokens;

/// <summary>
/// Issues and verifies admission tokens: <c>base64url(payload).base64url(HMAC-SHA256(payload))</c> with
/// payload <c>2|room|admission id|expiryUnixSeconds|keyId</c>. The admission id is random, chosen at the first
/// enter, so a backend or a log line that sees an admission learns nothing that opens or ends the place.
/// Verification is local (no store round trip), constant-time on the MAC, accepts every configured key so
/// keys can rotate, and never throws whatever the bytes. Recently verified tokens are remembered (bounded),
/// so a browsing user's requests cost a dictionary lookup instead of an HMAC.
/// </summary>
internal sealed class AdmissionTokens(KeyRing keys, TimeProvider time)
{
    private const int MacBytes = 32;
    private const int MaxTokenChars = 512;
    // Bounded: only tokens that verified get in, and the whole cache is dropped when full or when keys change.
    private const int CacheLimit = 50_000;

    // Every SweepEvery new entries the expired ones are dropped, so the cache holds about the admissions in force.
    // Without it every token stayed until the cache was full: ~430 bytes each (measured), ~21 MiB at 50,000, about
    // what a gateway's heap grew by in the soak (docs/BENCHMARKS.md) as it saw ~22 new admissions a second.
    private const int SweepEvery = 1_000;

    private readonly ConcurrentDictionary<string, Verified> _cache = new(StringComparer.Ordinal);
    private KeyRing.Keys? _cachedFor;
    private long _added;

    /// <summary>Signs an admission for <paramref name="roomId"/>; the same inputs give the same token.</summary>
    public string Issue(string roomId, string admissionId, DateTimeOffset expires)
    {
        var ring = keys.Current;
        var payload = Encoding.ASCII.GetBytes($"2|{roomId}|{admissionId}|{expires.ToUnixTimeSeconds()}|{ring.SigningKeyId}");
        Span<byte> mac = stackalloc byte[MacBytes];
        HMACSHA256.HashData(ring.Admission[ring.SigningKeyId], payload, mac);
        return System.Buffers.Text.Base64Url.EncodeToString(payload) + "." + System.Buffers.Text.Base64Url.EncodeToString(mac);
    }

    /// <summary>
    /// The admission id of <paramref name="token"/> when it is a well-formed, correctly signed, unexpired
    /// admission for <paramref name="roomId"/>; null for anything else (garbage, tampered, unknown key,
    /// expired, other room).
    /// </summary>
    public string? Verify(string? token, string roomId)
    {
        if (string.IsNullOrEmpty(token) || token.Length > MaxTokenChars)
            return null;
        var ring = keys.Current;
        if (!ReferenceEquals(_cachedFor, ring))
        {
            // A removed key must stop opening the gate at once: forget what the old ring verified.
            _cache.Clear();
            _cachedFor = ring;
        }
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        if (_cache.TryGetValue(token, out var known))
            return known.Expiry > now && string.Equals(known.Room, roomId, StringComparison.Ordinal) ? known.AdmissionId : null;

        if (!TryVerify(token, ring, out var verified) || verified.Expiry <= now)
            return null;
        if (Interlocked.Increment(ref _added) % SweepEvery == 0)
            DropExpired(now);
        if (_cache.Count >= CacheLimit)
            _cache.Clear();
        _cache[token] = verified;
        return string.Equals(verified.Room, roomId, StringComparison.Ordinal) ? verified.AdmissionId : null;
    }

    /// <summary>Tokens remembered as verified.</summary>
    internal int CachedCount => _cache.Count;

    /// <summary>The room and admission id of a correctly signed, unexpired token, whatever its room; for revocation.</summary>
    public bool TryRead(string? token, out string roomId, out string admissionId)
    {
        roomId = admissionId = "";
        if (string.IsNullOrEmpty(token) || token.Length > MaxTokenChars || !TryVerify(token, keys.Current, out var verified) ||
            verified.Expiry <= time.GetUtcNow().ToUnixTimeSeconds())
            return false;
        (roomId, admissionId) = (verified.Room, verified.AdmissionId);
        return true;
    }

    private static bool TryVerify(string token, KeyRing.Keys ring, out Verified verified)
    {
        verified = default;
        var dot = token.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0)
            return false;
        Span<byte> payload = stackalloc byte[MaxTokenChars];
        Span<byte> mac = stackalloc byte[MacBytes + 3];
        if (!SafeBase64Url.TryDecode(token.AsSpan(0, dot), payload, out var payloadLength) ||
            !SafeBase64Url.TryDecode(token.AsSpan(dot + 1), mac, out var macLength) || macLength != MacBytes)
            return false;
        payload = payload[..payloadLength];

        // Fields: version | room | admission id | expiry | key id. Version 1 (earlier releases) carried another subject; both verify alike.
        Span<Range> fields = stackalloc Range[5];
        if (!TrySplit(payload, fields) || !(payload[fields[0]].SequenceEqual("2"u8) || payload[fields[0]].SequenceEqual("1"u8)))
            return false;
        if (!ring.Admission.TryGetValue(Encoding.ASCII.GetString(payload[fields[4]]), out var key))
            return false;
        Span<byte> expected = stackalloc byte[MacBytes];
        HMACSHA256.HashData(key, payload, expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, mac[..MacBytes]))
            return false;
        if (!System.Buffers.Text.Utf8Parser.TryParse(payload[fields[3]], out long expiry, out var consumed) || consumed != payload[fields[3]].Length)
            return false;
        verified = new Verified(Encoding.ASCII.GetString(payload[fields[1]]), Encoding.ASCII.GetString(payload[fields[2]]), expiry);
        return true;
    }

    // One pass over at most CacheLimit entries, once per SweepEvery verified tokens.
    private void DropExpired(long now)
    {
        foreach (var entry in _cache)
        {
            if (entry.Value.Expiry <= now)
                _cache.TryRemove(entry);
        }
    }

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

    private readonly record struct Verified(string Room, string AdmissionId, long Expiry);
}
