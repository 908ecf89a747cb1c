using System.Buffers.Text;
using System.Security.Cryptography;

namespace Gateway.Admission.Tokens;

/// <summary>
/// Waiting tokens name the room and a 128-bit random id: <c>&lt;roomId&gt;.&lt;22 base64url chars&gt;</c>.
/// The room in the token lets a status call find the room's keys without another parameter; the
/// random part makes tokens unguessable.
/// </summary>
internal static class WaitingTokens
{
    private const int RandomChars = 22;

    public static string New(string roomId)
    {
        Span<byte> random = stackalloc byte[16];
        RandomNumberGenerator.Fill(random);
        return roomId + "." + Base64Url.EncodeToString(random);
    }

    /// <summary>Splits a waiting token into its room id and random id; false for anything malformed.</summary>
    public static bool TryParse(string? token, out string roomId, out string subject)
    {
        roomId = subject = "";
        if (token is null || token.Length > 100)
            return false;
        var dot = token.LastIndexOf('.');
        if (dot <= 0 || token.Length - dot - 1 != RandomChars)
            return false;
        foreach (var c in token.AsSpan(dot + 1))
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '-' && c != '_')
                return false;
        }
        roomId = token[..dot];
        subject = token[(dot + 1)..];
        return Rooms.WaitingRoomOptionsValidator.RoomIdPattern().IsMatch(roomId);
    }
}
