using System.Security.Cryptography;
using System.Text;

namespace Gateway.PowSolver;

/// <summary>
/// The reference solver for API clients (docs/API.md, "Proof of work"), written apart from the gateway's verifier
/// so each checks the other. A challenge from <c>GET /api/v1/queue/challenge</c> is solved by a nonce (1-64
/// letters, digits, '-' or '_'; this solver counts in decimal from 0) such that SHA-256 of the ASCII bytes of
/// <c>challenge + ":" + nonce</c> starts with at least <c>difficulty</c> zero bits, most significant bit of the
/// first byte first. The join body then carries <c>"pow": {"challenge": challenge, "nonce": nonce}</c>.
/// </summary>
public static class ProofOfWorkSolver
{
    /// <summary>Finds the first decimal nonce that solves <paramref name="challenge"/>; about 2^difficulty hashes on average.</summary>
    /// <returns>The nonce and how many hashes it took.</returns>
    public static (string Nonce, long Hashes) Solve(string challenge, int difficulty, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(difficulty);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(difficulty, 256);
        var prefix = Encoding.ASCII.GetBytes(challenge + ":");
        var input = new byte[prefix.Length + 20];
        prefix.CopyTo(input, 0);
        Span<byte> hash = stackalloc byte[32];
        for (long nonce = 0; ; nonce++)
        {
            if ((nonce & 0xFFFF) == 0)
                cancellationToken.ThrowIfCancellationRequested();
            nonce.TryFormat(input.AsSpan(prefix.Length), out var digits, provider: System.Globalization.CultureInfo.InvariantCulture);
            SHA256.HashData(input.AsSpan(0, prefix.Length + digits), hash);
            if (LeadingZeroBits(hash) >= difficulty)
                return (nonce.ToString(System.Globalization.CultureInfo.InvariantCulture), nonce + 1);
        }
    }

    /// <summary>True when <paramref name="nonce"/> solves <paramref name="challenge"/> at <paramref name="difficulty"/> bits.</summary>
    public static bool IsSolution(string challenge, string nonce, int difficulty) =>
        LeadingZeroBits(SHA256.HashData(Encoding.ASCII.GetBytes(challenge + ":" + nonce))) >= difficulty;

    /// <summary>Zero bits at the start of <paramref name="hash"/>.</summary>
    public static int LeadingZeroBits(ReadOnlySpan<byte> hash)
    {
        var bits = 0;
        foreach (var b in hash)
        {
            for (var mask = 0x80; mask != 0; mask >>= 1)
            {
                if ((b & mask) != 0)
                    return bits;
                bits++;
            }
        }
        return bits;
    }
}
