using System.Security.Cryptography;
using System.Text;

namespace Gateway.Admission.Queue;

/// <summary>
/// One queue script: its text and the SHA-1 by which the store knows it once loaded (<c>EVALSHA</c>). The hash is
/// computed here, once: the client's by-text call looks the whole text up in its script cache on every call,
/// which hashed its ~15 KB (UTF-16: twice that) per call (6.7% of the gateway's CPU at 5,000 polls/s, docs/BENCHMARKS.md).
/// </summary>
internal sealed class StoreScript
{
    public StoreScript(string text)
    {
        Text = text;
#pragma warning disable CA5350 // Redis names a script by its SHA-1 (EVALSHA, SCRIPT LOAD); not a security use.
        Sha1 = SHA1.HashData(Encoding.UTF8.GetBytes(text));
#pragma warning restore CA5350
        Hex = Convert.ToHexStringLower(Sha1);
    }

    /// <summary>The Lua source as sent by <c>EVAL</c> or <c>SCRIPT LOAD</c>.</summary>
    public string Text { get; }

    /// <summary>The 20-byte SHA-1 of <see cref="Text"/> (UTF-8).</summary>
    public byte[] Sha1 { get; }

    /// <summary>The SHA-1 as Redis prints it (lower-case hex): how <c>EVALSHA</c> lines name the script.</summary>
    public string Hex { get; }
}
