using System.Buffers.Text;
using System.Security.Cryptography;
using Gateway.Admission.Rooms;

namespace Gateway.Admission.Tokens;

/// <summary>
/// Waiting tokens: <c>&lt;roomId&gt;.&lt;place id&gt;.&lt;mac&gt;</c>. The place id is 128 random bits (the store's
/// name for the place); the MAC (<see cref="Mac"/>) lets the gateway refuse a token it did not issue
/// without a store round trip. The room in the token finds the room's keys without another parameter.
/// A waiting token is a bearer capability for one place: it is never logged, and never sent to backends.
/// </summary>
internal sealed class WaitingTokens(KeyRing keys)
{
    /// <summary>Longer tokens are refused before any parsing (64-character room + 2 x 22 + 2 dots).</summary>
    public const int MaxLength = 110;

    /// <summary>A new place id: 22 base64url characters.</summary>
    public static string NewPlaceId()
    {
        Span<byte> random = stackalloc byte[16];
        RandomNumberGenerator.Fill(random);
        return Base64Url.EncodeToString(random);
    }

    public string Issue(string roomId, string placeId) => roomId + "." + placeId + "." + Mac.Compute(keys.Current.Places[0], MacInput(roomId, placeId));

    /// <summary>Splits a token the gateway issued into its room id and place id; false for anything else, whatever the bytes.</summary>
    public bool TryRead(string? token, out string roomId, out string placeId)
    {
        roomId = placeId = "";
        if (token is null || token.Length > MaxLength)
            return false;
        var span = token.AsSpan();
        var second = span.LastIndexOf('.');
        if (second <= 0)
            return false;
        var first = span[..second].LastIndexOf('.');
        if (first <= 0 || second - first - 1 != Mac.Chars || span.Length - second - 1 != Mac.Chars)
            return false;
        var room = span[..first];
        var place = span[(first + 1)..second];
        if (!WaitingRoomOptionsValidator.RoomIdPattern().IsMatch(room) || !IsBase64Url(place))
            return false;
        if (!Mac.Verify(keys.Current.Places, MacInput(room, place), span[(second + 1)..]))
            return false;
        roomId = room.ToString();
        placeId = place.ToString();
        return true;
    }

    private static string MacInput(ReadOnlySpan<char> roomId, ReadOnlySpan<char> placeId) => string.Concat("p|", roomId, "|", placeId);

    private static bool IsBase64Url(ReadOnlySpan<char> value)
    {
        foreach (var c in value)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '-' && c != '_')
                return false;
        }
        return true;
    }
}
