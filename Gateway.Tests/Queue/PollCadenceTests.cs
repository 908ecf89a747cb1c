using Gateway.Admission.Queue;
using Gateway.Admission.Rooms;
using Xunit.Abstractions;

namespace Gateway.Tests.Queue;

/// <summary>
/// When pre-queued pages poll: every minute while the opening is far, then once, spread uniformly over
/// half of AbandonAfter (at most 30 s) after the opening, so a pre-queue of 300,000 does not arrive in one second.
/// </summary>
[Trait("Category", "Fast")]
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
    public void WaitingForASlot_TheFirstFew_PollAsTheFrontDoes_TheRestByTheirEta()
    {
        var eta = new Gateway.Admission.Eta.EtaEstimate(300, 0.5);
        for (var i = 0; i < 1000; i++)
        {
            Assert.InRange(PollCadence.WaitingForSlot(Room, eta, slotsAhead: 0), 450, 550);
            Assert.InRange(PollCadence.WaitingForSlot(Room, eta, slotsAhead: PollCadence.SlotWaitersNearFront - 1), 450, 550);
            Assert.Equal(PollCadence.Cap(Room), PollCadence.WaitingForSlot(Room, eta, slotsAhead: PollCadence.SlotWaitersNearFront), tolerance: PollCadence.Cap(Room) * 0.1);
        }
    }

    [Fact]
    public void Prequeue_ShortAbandonAfter_SpreadsOverHalfOfIt()
    {
        var room = new Room("short", new RoomOptions { AbandonAfter = TimeSpan.FromSeconds(10) }, rankByTree: false, TimeSpan.FromSeconds(1));
        for (var i = 0; i < 1000; i++)
            Assert.InRange(PollCadence.Prequeue(room, TimeSpan.FromSeconds(20)), 20_000, 25_000);
    }

    [Fact]
    public void Degraded_SpreadsTheNextPollOverRetryAfter_SoABlipDoesNotSendTheLineBackAsOneWave()
    {
        var polls = Enumerable.Range(0, 1000).Select(_ => PollCadence.Degraded(Room, TimeSpan.FromSeconds(5))).ToList();

        Assert.All(polls, ms => Assert.InRange(ms, PollCadence.NearFrontMs, 5_000));
        var perSecond = polls.GroupBy(ms => ms / 1000).ToDictionary(group => group.Key, group => group.Count());
        output.WriteLine($"next poll per second after a degraded answer: {string.Join(' ', Enumerable.Range(0, 5).Select(s => perSecond.GetValueOrDefault(s)))}");
        // Uniform over 0.5-5 s: no second gets more than about a quarter of the pages (the fixed 5 s gave all of them one).
        Assert.All(perSecond.Values, count => Assert.True(count < 330, $"{count} of 1000 pages in one second"));
    }

    [Fact]
    public void Degraded_InARoomWithAShortAbandonAfter_StaysWithinAThirdOfIt()
    {
        var room = new Room("short", new RoomOptions { AbandonAfter = TimeSpan.FromSeconds(3) }, rankByTree: false, TimeSpan.FromMilliseconds(200));
        for (var i = 0; i < 1000; i++)
            Assert.InRange(PollCadence.Degraded(room, TimeSpan.FromSeconds(5)), PollCadence.NearFrontMs, 1_000);
        // And an outage of a second (a quarter of it, but at least five ticks) is not counted toward it (the room clock stops).
        Assert.Equal(TimeSpan.FromSeconds(1), room.OutageGap);
        Assert.Equal(TimeSpan.FromSeconds(15), Room.OutageGap); // 20 ticks of 1 s, capped at a quarter of the default 60 s
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

    /// <summary>
    /// 300,000 people who joined at once, let in at 500/s (one tick every 200 ms promotes 100), each page polling
    /// when <c>poll_after_ms</c> says (the join's answer spread as the gateway spreads it; times the page's 0.95-1.05), the ETA being the position over the rate: the
    /// total poll rate over the sale, against pages polling every 2 s, and how long after a person's turn
    /// (the tick that made them ready) their page polls and sees it. Each page's polls depend only on its own
    /// position, so the pages are followed one at a time.
    /// </summary>
    [Fact]
    public void Waiting_300000PeopleLetInAt500PerSecond_PollFarLessThanAFixedCadence_AndNoticeTheirTurnWithinASecond()
    {
        const int people = 300_000;
        const double rate = 500, tick = 0.2;
        var random = new Random(20261202);
        var pollsPerSecond = new long[(int)(people / rate) + 60];
        var noticed = new double[people];
        var polls = 0L;
        for (var p = 0; p < people; p++)
        {
            // Person p (0-based) is made ready by the tick that hands out token p + 1.
            // The join, spread over the first two seconds, promotes at once when the person's token is already there.
            var t = random.NextDouble() * 2;
            var turn = Math.Max(t, Math.Ceiling((p + 1) / (rate * tick)) * tick);
            var first = true;
            while (t < turn)
            {
                var ahead = p - Math.Floor(t / tick) * rate * tick;
                var eta = new Gateway.Admission.Eta.EtaEstimate((long)Math.Ceiling(Math.Max(ahead, 0) / rate), 0.9);
                var after = PollCadence.Waiting(Room, eta);
                if (first)
                    after = PollCadence.FirstAfterJoin(after);
                first = false;
                t += after / 1000.0 * (0.95 + (random.NextDouble() * 0.1));
                polls++;
                pollsPerSecond[(int)t]++;
            }
            noticed[p] = t - turn;
        }

        Array.Sort(noticed);
        var p50 = noticed[people / 2];
        var p95 = noticed[(int)(people * 0.95)];
        var first10 = pollsPerSecond.Skip(2).Take(10).Average();
        var peak = pollsPerSecond.Max();
        var mean = polls / (people / rate);
        const double fixedCadence = people / 2.0;
        output.WriteLine($"status polls/s (joins not counted): seconds 2-12 {first10:F0}, busiest second {peak}, mean over the {people / rate:F0} s sale {mean:F0}; " +
            $"every 2 s: {fixedCadence:F0}/s at the start ({first10 / fixedCadence:P0}); {polls / (double)people:F1} polls per person");
        output.WriteLine($"turn noticed after: median {p50 * 1000:F0} ms, p95 {p95 * 1000:F0} ms, max {noticed[^1] * 1000:F0} ms");

        Assert.True(peak < 0.25 * fixedCadence, $"{peak} polls in the busiest second, a fixed 2 s cadence would be {fixedCadence:F0}/s");
        Assert.True(p95 < 1.0, $"p95 from a turn to the page seeing it: {p95 * 1000:F0} ms");
        Assert.True(noticed[^1] < 1.0, $"someone saw their turn {noticed[^1] * 1000:F0} ms late");
    }
}
