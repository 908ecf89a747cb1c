using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Gateway.Admission.Rooms;
using Gateway.Admission.Tokens;

namespace Gateway.Admission.ProofOfWork;

/// <summary>
/// Proof-of-work challenges: stateless, signed and expiring. A challenge is
/// <c>1.&lt;room&gt;.&lt;difficulty&gt;.&lt;expiry, unix seconds&gt;.&lt;id&gt;.&lt;mac&gt;</c>, where the id is 128
/// random bits and the MAC (<see cref="Mac"/>, a key derived from the signing keys for this purpose only) covers
/// everything before it. A solution is a nonce such that SHA-256 of <c>challenge ":" nonce</c> starts with at least
/// <c>difficulty</c> zero bits. Everything here is local: a forged, foreign, expired or unsolved challenge is
/// refused without a store round trip; the store only sees valid solutions (and refuses a second use of one).
/// </summary>
internal sealed class Challenges(KeyRing keys, TimeProvider time)
{
    /// <summary>The algorithm's name in the challenge response.</summary>
    public const string Algorithm = "sha256-leading-zero-bits";

    /// <summary>Longer challenges are refused before any parsing (a 64-character room id gives 127).</summary>
    public const int MaxChallengeLength = 160;

    /// <summary>The longest nonce accepted.</summary>
    public const int MaxNonceLength = 64;

    /// <summary>
    /// The store remembers a used challenge this long past its expiry, so a gateway whose clock runs behind the
    /// store's by less than this still finds it (the store prunes on its own clock).
    /// </summary>
    public static readonly TimeSpan ClockSkewAllowance = TimeSpan.FromMinutes(1);

    private const string Version = "1";

    /// <summary>A new challenge for <paramref name="roomId"/> at <paramref name="difficulty"/> bits, valid for <paramref name="ttl"/>.</summary>
    public IssuedChallenge Issue(string roomId, int difficulty, TimeSpan ttl)
    {
        var expires = DateTimeOffset.FromUnixTimeSeconds((time.GetUtcNow() + ttl).ToUnixTimeSeconds());
        var body = string.Join('.', Version, roomId, difficulty.ToString(CultureInfo.InvariantCulture),
            expires.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture), WaitingTokens.NewPlaceId());
        return new IssuedChallenge(body + "." + Mac.Compute(keys.Current.Challenges[0], body), difficulty, expires);
    }

    /// <summary>
    /// Checks a solution for a join to <paramref name="roomId"/>, whatever the input: the challenge's shape and MAC,
    /// its room, its expiry, that it asks for at least <paramref name="minimumDifficulty"/> bits, then the hash.
    /// </summary>
    public ChallengeCheck Verify(string roomId, string? challenge, string? nonce, int minimumDifficulty)
    {
        if (string.IsNullOrEmpty(challenge) || string.IsNullOrEmpty(nonce))
            return ChallengeCheck.Invalid("pow must be an object with the strings challenge and nonce");
        if (challenge.Length > MaxChallengeLength || !IsToken(challenge, allowDots: true))
            return ChallengeCheck.Invalid("the challenge is not one this gateway issues");
        if (nonce.Length > MaxNonceLength || !IsToken(nonce, allowDots: false))
            return ChallengeCheck.Invalid($"the nonce must be 1-{MaxNonceLength} letters, digits, '-' or '_'");

        var span = challenge.AsSpan();
        var macAt = span.LastIndexOf('.');
        if (macAt <= 0 || !TryParse(span[..macAt], out var room, out var difficulty, out var expiresSeconds, out var id))
            return ChallengeCheck.Invalid("the challenge is not one this gateway issues");
        if (!Mac.Verify(keys.Current.Challenges, span[..macAt], span[(macAt + 1)..]))
            return ChallengeCheck.Invalid("the challenge was not issued by this gateway");
        if (!room.SequenceEqual(roomId))
            return ChallengeCheck.Invalid("the challenge was issued for another waiting room");
        var expires = DateTimeOffset.FromUnixTimeSeconds(expiresSeconds);
        if (expires <= time.GetUtcNow())
            return ChallengeCheck.Expired("the challenge has expired");
        if (difficulty < minimumDifficulty)
            return ChallengeCheck.Expired($"the room now asks for {minimumDifficulty} bits, more than this challenge's {difficulty}");
        if (!Solves(challenge, nonce, difficulty))
            return ChallengeCheck.Invalid("the nonce does not solve the challenge");
        return new ChallengeCheck(ChallengeVerdict.Valid, "", id.ToString(), expires + ClockSkewAllowance);
    }

    /// <summary>True when SHA-256 of <c>challenge ":" nonce</c> (ASCII) starts with at least <paramref name="difficulty"/> zero bits.</summary>
    internal static bool Solves(string challenge, string nonce, int difficulty)
    {
        Span<byte> input = stackalloc byte[MaxChallengeLength + 1 + MaxNonceLength];
        if (challenge.Length + 1 + nonce.Length > input.Length)
            return false;
        var length = Encoding.ASCII.GetBytes(challenge, input);
        input[length++] = (byte)':';
        length += Encoding.ASCII.GetBytes(nonce, input[length..]);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(input[..length], hash);
        return LeadingZeroBits(hash) >= difficulty;
    }

    /// <summary>Zero bits at the start of <paramref name="bytes"/>, most significant bit of the first byte first.</summary>
    internal static int LeadingZeroBits(ReadOnlySpan<byte> bytes)
    {
        var bits = 0;
        foreach (var b in bytes)
        {
            if (b != 0)
                return bits + System.Numerics.BitOperations.LeadingZeroCount((uint)b) - 24;
            bits += 8;
        }
        return bits;
    }

    private static bool TryParse(ReadOnlySpan<char> body, out ReadOnlySpan<char> room, out int difficulty, out long expires, out ReadOnlySpan<char> id)
    {
        room = id = default;
        difficulty = 0;
        expires = 0;
        Span<Range> parts = stackalloc Range[6];
        if (body.Split(parts, '.') != 5 || !body[parts[0]].SequenceEqual(Version))
            return false;
        room = body[parts[1]];
        id = body[parts[4]];
        var bits = body[parts[2]];
        var expiry = body[parts[3]];
        return WaitingRoomOptionsValidator.RoomIdPattern().IsMatch(room)
            && bits.Length is 1 or 2 && int.TryParse(bits, NumberStyles.None, CultureInfo.InvariantCulture, out difficulty)
            && difficulty is >= 1 and <= ProofOfWorkOptions.MaxBits
            && expiry.Length is >= 1 and <= 12 && long.TryParse(expiry, NumberStyles.None, CultureInfo.InvariantCulture, out expires)
            && id.Length == Mac.Chars;
    }

    private static bool IsToken(ReadOnlySpan<char> value, bool allowDots)
    {
        foreach (var c in value)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '-' && c != '_' && !(allowDots && c == '.'))
                return false;
        }
        return true;
    }
}

/// <summary>A challenge as the challenge endpoint hands it out.</summary>
internal sealed record IssuedChallenge(string Text, int Difficulty, DateTimeOffset ExpiresAt);

/// <summary>What a check of a solution found.</summary>
internal enum ChallengeVerdict
{
    Valid,

    /// <summary>Malformed, forged, for another room, or not solved: <c>CHALLENGE_INVALID</c>.</summary>
    Invalid,

    /// <summary>Past its expiry, or easier than the room now asks: <c>CHALLENGE_EXPIRED</c> (fetch a new one).</summary>
    Expired,
}

/// <summary>The result of <see cref="Challenges.Verify"/>.</summary>
/// <param name="Problem">Why a solution was refused, for the error message.</param>
/// <param name="Id">For a valid solution: the challenge's random id, which the store accepts once.</param>
/// <param name="ReplayGuardUntil">For a valid solution: until when the store must remember the id.</param>
internal sealed record ChallengeCheck(ChallengeVerdict Verdict, string Problem, string? Id = null, DateTimeOffset? ReplayGuardUntil = null)
{
    public static ChallengeCheck Invalid(string problem) => new(ChallengeVerdict.Invalid, problem);

    public static ChallengeCheck Expired(string problem) => new(ChallengeVerdict.Expired, problem);
}
