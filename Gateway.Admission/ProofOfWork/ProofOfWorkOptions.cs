namespace Gateway.Admission.ProofOfWork;

/// <summary>
/// <c>WaitingRoom:Rooms:&lt;eventId&gt;:ProofOfWork</c>: whether a join must carry a solved challenge from
/// <c>GET /api/v1/queue/challenge</c>, and how hard it is (docs/API.md, "Proof of work"; costs in docs/SECURITY.md).
/// </summary>
public sealed record ProofOfWorkOptions
{
    /// <summary>The most leading zero bits a challenge may ask for (2^32 hashes: hours in a browser).</summary>
    public const int MaxBits = 32;

    /// <summary>When true, a join without a valid solved challenge is refused with 400 <c>CHALLENGE_REQUIRED</c>/<c>CHALLENGE_INVALID</c>/<c>CHALLENGE_EXPIRED</c>.</summary>
    public bool Enabled { get; init; }

    /// <summary>
    /// Leading zero bits the SHA-256 of a solution must have: about 2^Difficulty hashes of work on average.
    /// The default, 15, is about a second on a phone (measured and estimated in docs/SECURITY.md).
    /// </summary>
    public int Difficulty { get; init; } = 15;

    /// <summary>How long a challenge may be used after it was issued (a solution is accepted once, within this time).</summary>
    public TimeSpan ChallengeTtl { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Raises the difficulty while joins arrive faster than a threshold.</summary>
    public AutoDifficultyOptions AutoDifficulty { get; init; } = new();
}

/// <summary>
/// <c>WaitingRoom:Rooms:&lt;eventId&gt;:ProofOfWork:AutoDifficulty</c>: while new places are created faster than
/// <see cref="JoinsPerSecond"/> (counted in the store, over <see cref="Window"/>), each challenge asks for one more
/// bit per doubling of the rate above the threshold, up to <see cref="MaxDifficulty"/>; back down one bit per window.
/// </summary>
public sealed record AutoDifficultyOptions
{
    /// <summary>New places per second (all instances) above which the difficulty rises; 0 = automatic mode off.</summary>
    public double JoinsPerSecond { get; init; }

    /// <summary>The highest difficulty the automatic mode sets; unset = the room's difficulty + 4 (16 times the work).</summary>
    public int? MaxDifficulty { get; init; }

    /// <summary>The span the join rate is measured over, and the least time between two steps down.</summary>
    public TimeSpan Window { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The ceiling for a room whose base difficulty is <paramref name="difficulty"/>.</summary>
    internal int Ceiling(int difficulty) => Math.Min(ProofOfWorkOptions.MaxBits, MaxDifficulty ?? difficulty + 4);
}
