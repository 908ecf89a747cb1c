using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Gateway.Admission.Tokens;

/// <summary>
/// Short MACs for tokens the gateway issues and checks locally (waiting tokens, identity cookies): the first
/// 128 bits of HMAC-SHA256, 22 base64url characters, compared in constant time against every key of the ring.
/// The input is ASCII text of at most 256 characters (room ids, base64url ids); anything else has no MAC and
/// never verifies (a lossy conversion, '?' for every other character, would give two inputs one MAC).
/// </summary>
internal static class Mac
{
    public const int Chars = 22;
    private const int Bytes = 16;
    private const int MaxInput = 256;

    /// <summary>The MAC of <paramref name="input"/> (ASCII, at most 256 characters) under <paramref name="key"/>, as 22 base64url characters.</summary>
    public static string Compute(byte[] key, ReadOnlySpan<char> input)
    {
        Span<byte> text = stackalloc byte[MaxInput];
        if (!TryAscii(input, text, out var length))
            throw new ArgumentException("A MAC covers ASCII text of at most 256 characters.", nameof(input));
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(key, text[..length], mac);
        return Base64Url.EncodeToString(mac[..Bytes]);
    }

    /// <summary>True when <paramref name="mac"/> is the MAC of <paramref name="input"/> under any of <paramref name="keys"/>.</summary>
    public static bool Verify(byte[][] keys, ReadOnlySpan<char> input, ReadOnlySpan<char> mac)
    {
        Span<byte> text = stackalloc byte[MaxInput];
        if (mac.Length != Chars || !TryAscii(input, text, out var length))
            return false;
        Span<byte> given = stackalloc byte[Bytes + 2];
        if (!SafeBase64Url.TryDecode(mac, given, out var written) || written != Bytes)
            return false;
        Span<byte> expected = stackalloc byte[32];
        var match = false;
        foreach (var key in keys)
        {
            HMACSHA256.HashData(key, text[..length], expected);
            match |= CryptographicOperations.FixedTimeEquals(expected[..Bytes], given[..Bytes]);
        }
        return match;
    }

    private static bool TryAscii(ReadOnlySpan<char> input, Span<byte> destination, out int length)
    {
        length = 0;
        return input.Length <= destination.Length && Ascii.FromUtf16(input, destination, out length) == OperationStatus.Done;
    }
}

/// <summary>Base64url decoding that never throws, whatever the input (any length, any characters).</summary>
internal static class SafeBase64Url
{
    public static bool TryDecode(ReadOnlySpan<char> source, Span<byte> destination, out int written)
    {
        written = 0;
        // Base64Url's Try* methods throw FormatException for some malformed inputs (e.g. a length of 4n+1);
        // checking the alphabet and length first makes every remaining input decodable.
        if (source.Length % 4 == 1 || Base64Url.GetMaxDecodedLength(source.Length) > destination.Length)
            return false;
        foreach (var c in source)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '-' && c != '_')
                return false;
        }
        return Base64Url.DecodeFromChars(source, destination, out _, out written) == System.Buffers.OperationStatus.Done;
    }
}
