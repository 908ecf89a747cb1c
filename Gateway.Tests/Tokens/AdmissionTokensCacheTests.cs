using Gateway.Admission.Tokens;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Tokens;

/// <summary>The verified-token cache holds the admissions in force, not every token a gateway ever verified.</summary>
public sealed class AdmissionTokensCacheTests
{
    private const string Room = "concert";

    [Fact]
    public void ExpiredTokens_AreDroppedFromTheCache_AsNewOnesAreVerified()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
        var tokens = new AdmissionTokens(TestKeys.Ring(), time);
        var first = VerifyNew(tokens, time, "first", 1_000);
        Assert.Equal(1_000, tokens.CachedCount);

        time.Advance(TimeSpan.FromMinutes(3));
        VerifyNew(tokens, time, "second", 1_000);

        // The first thousand expired a minute ago: gone, and still refused.
        Assert.Equal(1_000, tokens.CachedCount);
        Assert.All(first, token => Assert.Null(tokens.Verify(token, Room)));
    }

    private static List<string> VerifyNew(AdmissionTokens tokens, FakeTimeProvider time, string prefix, int count)
    {
        var issued = Enumerable.Range(0, count).Select(i => tokens.Issue(Room, $"{prefix}-{i}", time.GetUtcNow().AddMinutes(2))).ToList();
        Assert.All(issued, token => Assert.NotNull(tokens.Verify(token, Room)));
        return issued;
    }
}
