using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Gateway.Admission.ProofOfWork;
using Gateway.Admission.Rooms;
using Gateway.Admission.Tokens;
using Gateway.EtaSimulation.Engine;
using Gateway.PowSolver;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.ProofOfWork;

/// <summary>
/// The verifier against random input (FsCheck): nothing passes but a real solution, nothing throws, and at
/// 16 bits random nonces pass at the rate 2^-16 and no more, within bounds that fail by chance with
/// probability below 10^-9. The reference solver (tools/PowSolver) and the verifier are written apart and agree.
/// </summary>
[Trait("Category", "Fast")]
public sealed class ChallengePropertyTests
{
    private const string Room = "concert";
    private static readonly FakeTimeProvider Clock = new(new DateTimeOffset(2026, 12, 24, 10, 0, 0, TimeSpan.Zero));
    private static readonly Challenges Verifier = New(TestConfig.TestSecret);

    [Fact]
    public void RandomNonces_AtSixteenBits_PassAtTheRateTwoToTheMinusSixteen_AndNoMore()
    {
        const int Bits = 16;
        const int Trials = 1 << 22;
        const double FailureOdds = 1e-9;
        var challenge = Verifier.Issue(Room, Bits, TimeSpan.FromMinutes(2)).Text;
        // Random nonces: 64 prefixes of 1-40 characters of the nonce alphabet drawn by FsCheck, each followed by
        // 65,536 counters. The verifier's own hash check (the part a nonce can influence) judges each.
        var alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".ToCharArray();
        var prefixes = Gen.Sample(Gen.Choose(1, 40).SelectMany(length => Gen.ArrayOf(Gen.Elements(alphabet), length)).Select(chars => new string(chars)), Trials >> 16);

        long passed = 0;
        foreach (var prefix in prefixes)
        {
            for (var i = 0; i < 1 << 16; i++)
            {
                var nonce = prefix + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
                if (Challenges.Solves(challenge, nonce, Bits))
                {
                    Assert.True(ProofOfWorkSolver.IsSolution(challenge, nonce, Bits));
                    Assert.Equal(ChallengeVerdict.Valid, Verifier.Verify(Room, challenge, nonce, Bits).Verdict);
                    passed++;
                }
            }
        }

        // Chernoff bounds for a binomial with mean mu: P(X >= (1 + d) mu) <= exp(-d^2 mu / (2 + d)), P(X <= (1 - d) mu) <= exp(-d^2 mu / 2).
        var mu = Trials * Math.Pow(2, -Bits); // 64
        var log = Math.Log(1 / FailureOdds);
        var up = (log + Math.Sqrt((log * log) + (8 * mu * log))) / (2 * mu);
        var down = Math.Sqrt(2 * log / mu);
        var rate = (double)passed / Trials;
        Assert.InRange(rate, (1 - down) * Math.Pow(2, -Bits), (1 + up) * Math.Pow(2, -Bits)); // about 0.2 to 2.0 x 2^-16
    }

    [Property(MaxTest = 500)]
    public void AnyChallengeAndNonce_IsRefused_WithoutThrowing(string challenge, string nonce, int floor)
    {
        var check = Verifier.Verify(Room, challenge, nonce, floor);

        Assert.NotEqual(ChallengeVerdict.Valid, check.Verdict);
        Assert.False(string.IsNullOrEmpty(check.Problem));
    }

    [Property(MaxTest = 300)]
    public void TamperedChallenge_IsInvalid_EvenWhenItsNonceSolvesTheTamperedText(NonNegativeInt at, char replacement)
    {
        var issued = Verifier.Issue(Room, 4, TimeSpan.FromMinutes(2)).Text;
        var index = at.Get % issued.Length;
        if (issued[index] == replacement)
            return;
        var tampered = string.Concat(issued.AsSpan(0, index), replacement.ToString(), issued.AsSpan(index + 1));
        var (nonce, _) = ProofOfWorkSolver.Solve(tampered, 4);

        Assert.Equal(ChallengeVerdict.Invalid, Verifier.Verify(Room, tampered, nonce, 1).Verdict);
    }

    [Property(MaxTest = 200)]
    public void SignedChallenge_AnyNonce_PassesExactlyWhenTheReferenceSolverSaysItSolves(NonEmptyString nonce)
    {
        const int Bits = 3; // one nonce in eight solves: both answers are exercised
        var challenge = Verifier.Issue(Room, Bits, TimeSpan.FromMinutes(2)).Text;
        var candidate = nonce.Get;
        var wellFormed = candidate.Length <= Challenges.MaxNonceLength && candidate.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

        var verdict = Verifier.Verify(Room, challenge, candidate, 1).Verdict;

        Assert.Equal(wellFormed && ProofOfWorkSolver.IsSolution(challenge, candidate, Bits), verdict == ChallengeVerdict.Valid);
    }

    [Fact]
    public void ReferenceSolversAnswer_IsValid_OnlyForItsRoom_WithinItsExpiry_AndAtLeastTheFloor()
    {
        var clock = new FakeTimeProvider(Clock.GetUtcNow());
        var challenges = New(TestConfig.TestSecret, clock);
        var issued = challenges.Issue(Room, 10, TimeSpan.FromMinutes(2));
        var (nonce, _) = ProofOfWorkSolver.Solve(issued.Text, 10);

        var valid = challenges.Verify(Room, issued.Text, nonce, 10);
        Assert.Equal(ChallengeVerdict.Valid, valid.Verdict);
        Assert.Equal(issued.ExpiresAt + Challenges.ClockSkewAllowance, valid.ReplayGuardUntil);
        Assert.Equal(ChallengeVerdict.Invalid, challenges.Verify("other-room", issued.Text, nonce, 10).Verdict);
        Assert.Equal(ChallengeVerdict.Expired, challenges.Verify(Room, issued.Text, nonce, 11).Verdict); // the room asks more now
        Assert.Equal(ChallengeVerdict.Invalid, New("b3RoZXItc2lnbmluZy1rZXktb3RoZXItc2lnbmluZy1rZXkhIQ==").Verify(Room, issued.Text, nonce, 1).Verdict);
        clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(ChallengeVerdict.Expired, challenges.Verify(Room, issued.Text, nonce, 10).Verdict);
    }

    private static Challenges New(string secret, TimeProvider? clock = null)
    {
        var options = new WaitingRoomOptions { SigningKeys = [new SigningKeyOptions { Id = "test", Secret = secret }] };
        return new Challenges(new KeyRing(new MutableOptionsMonitor<WaitingRoomOptions>(options), NullLogger<KeyRing>.Instance), clock ?? Clock);
    }
}
