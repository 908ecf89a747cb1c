using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Gateway.Admission.Tokens;

/// <summary>
/// Who is asking for a place. A repeat join returns an existing place only to the same caller: the same
/// browser (the HttpOnly identity cookie the gateway sets on join, <c>&lt;id&gt;.&lt;mac&gt;</c>) or the same
/// verified user (a <c>user_token</c> signed by the operator's origin). The store sees the caller as
/// <c>c:&lt;cookie id&gt;</c> or <c>s:&lt;hash of the user id&gt;</c>, never a raw user id.
/// </summary>
internal sealed class CallerIdentity(KeyRing keys)
{
    public const string CookieName = "wr_id";

    /// <summary>How long a browser keeps its identity: longer than any wait.</summary>
    public static readonly TimeSpan CookieLifetime = TimeSpan.FromDays(7);

    /// <summary>The caller id from a well-formed, correctly MACed identity cookie; null otherwise.</summary>
    public string? Read(string? cookie)
    {
        if (cookie is null || cookie.Length != (2 * Mac.Chars) + 1 || cookie[Mac.Chars] != '.')
            return null;
        var id = cookie.AsSpan(0, Mac.Chars);
        foreach (var c in id)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '-' && c != '_')
                return null;
        }
        return Mac.Verify(keys.Current.Places, MacInput(id), cookie.AsSpan(Mac.Chars + 1)) ? "c:" + id.ToString() : null;
    }

    /// <summary>A new identity: the cookie value and the caller id it stands for.</summary>
    public (string Cookie, string Caller) Mint()
    {
        var id = WaitingTokens.NewPlaceId();
        return (id + "." + Mac.Compute(keys.Current.Places[0], MacInput(id)), "c:" + id);
    }

    /// <summary>The caller id of a verified user (the <c>sub</c> of a valid user token).</summary>
    public static string ForVerifiedUser(string subject)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes("waiting-room/user/" + subject), hash);
        return "s:" + Base64Url.EncodeToString(hash[..16]);
    }

    private static string MacInput(ReadOnlySpan<char> id) => string.Concat("c|", id);
}
