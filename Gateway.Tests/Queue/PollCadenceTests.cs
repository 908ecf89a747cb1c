using Gateway.Admission.Queue;
using Gateway.Admission.Rooms;
using Xunit.Abstractions;

namespace Gateway.Tests.Queue;

/// <summary>
/// When pre-queued pages poll: every minute while the opening is far, then once, spread uniformly over
/// half of AbandonAfter (at most 30 s) after the opening, so a pre-queue of 300,000 does not arrive in one second.
/// </summary>
public sealed class PollCadenceTests(ITestOutputHelper output)
{
    private static readonly Room Room = new("concert", new RoomOptions(), rankByTree: false, TimeSpan.FromSeconds(1));

    [Theory]
    [InlineData(3_600_000, 60_000)]
    [InlineData(120_000, 60_000)]
    [InlineData(75_000, 45_000)]
    public void Prequeue_FarFromTheOpening_PollsAtMostEveryMinute_AndLastBeforeTheFinalMinute(int opensInMs, int expected)
    {
        Assert.Equal(expected, PollCadence.Prequeue(Room, TimeSpan.FromMilliseconds(opensInMs)));
    }

    [Theory]
    [InlineData(60_000)]
    [InlineData(30_000)]
    [InlineData(1)]
    public void Prequeue_WithinAMinuteOfTheOpening_PollsAfterIt_WithinHalfOfAbandonAfter(int opensInMs)
    {
        for (var i = 0; i < 1000; i++)
            Assert.InRange(PollCadence.Prequeue(Room, TimeSpan.FromMilliseconds(opensInMs)), opensInMs, opensInMs + 30_000);
    }

    [Fact]
    public void Prequeue_ShortAbandonAfter_SpreadsOverHalfOfIt()
    {
        var room = new Room("short", new RoomOptions { AbandonAfter = TimeSpan.FromSeconds(10) }, rankByTree: false, TimeSpan.FromSeconds(1));
        for (var i = 0; i < 1000; i++)
            Assert.InRange(PollCadence.Prequeue(room, TimeSpan.FromSeconds(20)), 20_000, 25_000);
    }

    [Fact]
    public void Prequeue_AfterTheOpening_NotYetPlaced_PollsAgainWithinASecond()
    {
        for (var i = 0; i < 1000; i++)
            Assert.InRange(PollCadence.Prequeue(Room, TimeSpan.FromMilliseconds(-5)), 900, 1100);
    }

    /// <summary>
    /// 300,000 pages that joined at random during the last hour, each following poll_after_ms as the page does
    /// (times 0.95-1.05): their first polls after the opening. A page's previous poll may land just before the
    /// opening (the page's own jitter); it is then told to come back after it, like everyone else.
    /// </summary>
    [Fact]
    public void Prequeue_300000Pages_FirstPollsAfterTheOpening_AreSpreadOverThirtySeconds()
    {
        const int pages = 300_000;
        var random = new Random(20261224);
        var firstPoll = new double[pages];
        var pollsBeforeOpening = 0L;
        for (var p = 0; p < pages; p++)
        {
            var t = -random.NextDouble() * 3_600_000; // ms relative to the opening
            while (t < 0)
            {
                pollsBeforeOpening++;
                t += PollCadence.Prequeue(Room, TimeSpan.FromMilliseconds(-t)) * (0.95 + (random.NextDouble() * 0.1));
            }
            firstPoll[p] = t;
        }

        var perSecond = new int[40];
        foreach (var t in firstPoll)
            perSecond[Math.Min(39, (int)(t / 1000))]++;
        var busiest = perSecond.Max();
        var share = (double)perSecond.Take(30).Sum() / pages;
        output.WriteLine($"first polls after the opening per second: {string.Join(' ', perSecond)}");
        output.WriteLine($"busiest second {busiest} (a uniform spread: {pages / 30}); within 30 s: {share:P1}; last at {firstPoll.Max() / 1000:F1} s; " +
            $"polls before the opening: {pollsBeforeOpening / (double)pages:F1} per page, {pollsBeforeOpening / 3600.0:F0}/s");

        Assert.True(busiest < 1.25 * pages / 30, $"the busiest second after the opening has {busiest} first polls");
        Assert.True(share > 0.9, $"only {share:P1} of first polls within 30 s");
        Assert.True(firstPoll.Max() < 35_000, $"a first poll {firstPoll.Max()} ms after the opening");
    }
}
