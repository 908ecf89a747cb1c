using System.Collections.Concurrent;
using System.Globalization;
using Gateway.Admission.Queue;
using Gateway.Admission.Rooms;
using Gateway.Admission.Tokens;
using Gateway.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Gateway.Tests.Queue;

/// <summary>
/// The schedule at the store level (the Lua scripts on a real redis-server, with ZRANK and tree positions, and
/// on the embedded store): the pre-queue, the opening's shuffle, later joiners, the closing time. A room opens
/// the way an operator opens it: a configuration whose OpensAt has passed (a reload), or the control hash's
/// <c>opens_at</c>. Random scores are drawn from fixed seeds, so the orders and statistics here are the same on every run.
/// </summary>
public abstract class OpeningStoreTests<TFixture>(TFixture fixture, ITestOutputHelper output) where TFixture : StoreFixture
{
    private const string Client = "203.0.113.1";

    private IQueueStore Store => fixture.Store;

    [Fact]
    public async Task Join_BeforePrequeueFrom_IsNotOpen_AndTakesNoPlace()
    {
        var room = fixture.NewRoom(with: o => o with { PrequeueFrom = DateTimeOffset.UtcNow.AddHours(1), OpensAt = DateTimeOffset.UtcNow.AddHours(2), ShuffleAtOpen = true });

        var join = await JoinAsync(room, "early", 1);

        Assert.Equal(JoinOutcome.NotOpen, join.Outcome);
        Assert.Equal(0, await fixture.Database.HashLengthAsync(room.Keys[RoomKey.Places]));
        Assert.Equal(0, await fixture.Database.SortedSetLengthAsync(room.Keys[RoomKey.Prequeue]));
    }

    [Fact]
    public async Task Join_InThePrequeue_HasNoPosition_NoDeadline_AndARepeatKeepsTheFirstDraw()
    {
        var room = ScheduledRoom();

        var first = await JoinAsync(room, "fan", 12345);
        var again = await JoinAsync(room, "fan", 1);
        var other = await JoinAsync(room, "other", 777);

        Assert.Equal(JoinOutcome.Joined, first.Outcome);
        Assert.Equal(PlaceState.Prequeued, first.Place.State);
        Assert.Null(first.Place.Position);
        Assert.Equal(JoinOutcome.Existing, again.Outcome);
        Assert.Equal(first.Id, again.Id);
        Assert.Equal(PlaceState.Prequeued, again.Place.State);
        Assert.Null(again.Place.Position);
        Assert.Equal(12345, await fixture.Database.SortedSetScoreAsync(room.Keys[RoomKey.Prequeue], first.Id)); // never a second draw
        Assert.Equal(2, await fixture.Database.SortedSetLengthAsync(room.Keys[RoomKey.Prequeue]));
        // Pre-queued places do not expire before the opening, and a tick does not place anyone early.
        Assert.Null(await fixture.Database.SortedSetScoreAsync(room.Keys[RoomKey.Deadlines], first.Id));
        var tick = await Store.TickAsync(room, Work(shuffleLimit: 500));
        Assert.False(tick.Opened);
        Assert.Equal(2, tick.Prequeued);
        Assert.Equal(0, tick.Shuffled);
        Assert.Equal(PlaceState.Prequeued, (await StatusAsync(room, other.Id)).State);
        Assert.Null((await StatusAsync(room, other.Id)).Position);
        Assert.Equal(EnterOutcome.NotReady, (await Store.EnterAsync(room, first.Id, "aid")).Outcome);
    }

    [Fact]
    public async Task Opening_PlacesThePrequeueStepByStep_AndNeverPromotesALaterJoinerBeforeItIsDone()
    {
        // 10 pre-queued, 3 later joiners, 20 tokens in the bucket, 4 placed per tick.
        var room = ScheduledRoom(capacity: 20);
        var scores = Scores(10, seed: 1);
        var prequeued = new List<string>();
        for (var i = 0; i < scores.Length; i++)
            prequeued.Add((await JoinAsync(room, $"p{i}", scores[i])).Id);
        var open = Opened(room);
        var later = new List<string>();
        for (var j = 0; j < 3; j++)
        {
            var join = await JoinAsync(open, $"late{j}", 0);
            Assert.Equal(PlaceState.Waiting, join.Place.State);
            Assert.Equal(10 + j + 1, join.Place.Position); // behind all ten, though nobody is placed yet
            later.Add(join.Id);
        }

        var byScore = prequeued.Zip(scores).OrderBy(p => p.Second).Select(p => p.First).ToList();
        for (var step = 1; step <= 3; step++)
        {
            var tick = await Store.TickAsync(open, Work(shuffleLimit: 4));
            var placed = Math.Min(10, 4 * step);
            Assert.Equal(10 - placed, tick.Prequeued);
            var latePlaces = (await Store.StatusAsync(open, later)).Places;
            // The placed are promoted at once (the bucket has room); later joiners wait, behind those still to place.
            var states = (await Store.StatusAsync(open, byScore)).Places.Select(p => p.State).ToArray();
            Assert.Equal(Enumerable.Repeat(PlaceState.Ready, placed).Concat(Enumerable.Repeat(PlaceState.Prequeued, 10 - placed)), states);
            if (placed < 10)
                Assert.Equal(new long[] { 10 - placed + 1, 10 - placed + 2, 10 - placed + 3 }, latePlaces.Select(p => p.Position ?? -1));
            else
                Assert.All(latePlaces, p => Assert.Equal(PlaceState.Ready, p.State));
        }
        // Placed in score order: sequence numbers 1..10 follow the draws.
        Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), await SequencesAsync(open, byScore));
        Assert.Equal(new long[] { 11, 12, 13 }, await SequencesAsync(open, later));
    }

    [Fact]
    public async Task Opening_3000Prequeued_TwoInstancesRacing_PlacesEachOnceInScoreOrder_AheadOfLaterJoiners_InAUniformOrder()
    {
        const int people = 3000;
        const int latecomers = 300;
        var room = ScheduledRoom(capacity: 1);
        var scores = Scores(people, seed: 20261224);
        var ids = new string[people];
        for (var i = 0; i < people; i++) // one at a time: join order is i
            ids[i] = (await JoinAsync(room, $"p{i}", scores[i])).Id;

        // Two instances tick concurrently, 37 places per call, while later joiners arrive.
        var open = Opened(room);
        var shuffled = new ConcurrentBag<long>();
        async Task Instance()
        {
            long mine = 0;
            while (true)
            {
                var tick = await Store.TickAsync(open, Work(shuffleLimit: 37));
                mine += tick.Shuffled;
                if (tick.Opened && tick.Prequeued == 0)
                    break;
            }
            shuffled.Add(mine);
        }
        var lateIds = new string[latecomers];
        var latePositions = new long[latecomers];
        async Task Latecomers()
        {
            for (var j = 0; j < latecomers; j++)
            {
                var join = await JoinAsync(open, $"late{j}", 0);
                Assert.Equal(PlaceState.Waiting, join.Place.State);
                (lateIds[j], latePositions[j]) = (join.Id, join.Place.Position!.Value);
            }
        }
        await Task.WhenAll(Instance(), Instance(), Latecomers());

        // Exactly once: every pre-queued person placed, none twice, none lost; sequence numbers 1..N each once.
        Assert.Equal(people, shuffled.Sum());
        Assert.Equal(0, await fixture.Database.SortedSetLengthAsync(room.Keys[RoomKey.Prequeue]));
        var seqs = await SequencesAsync(open, ids);
        Assert.Equal(Enumerable.Range(1, people).Select(i => (long)i), seqs.Order());
        var lateSeqs = await SequencesAsync(open, lateIds);
        Assert.All(lateSeqs, s => Assert.True(s > people, $"a later joiner has sequence {s}"));
        Assert.Equal(latecomers, lateSeqs.Distinct().Count());
        // The order is the draws' order.
        var byScore = Enumerable.Range(0, people).OrderBy(i => scores[i]).ToArray();
        Assert.Equal(byScore, Enumerable.Range(0, people).OrderBy(i => seqs[i]).ToArray());

        // Behind every pre-queued person: at their join (while the shuffle ran) and now. The bucket's one token
        // went to the first person placed; everyone else is waiting, and positions follow the sequence at once.
        for (var j = 0; j < latecomers; j++)
            Assert.InRange(latePositions[j], people + j, people + j + 1);
        var places = await StatusAllAsync(open, [.. ids, .. lateIds]);
        for (var i = 0; i < people; i++)
            Assert.Equal(seqs[i] == 1 ? null : seqs[i] - 1, (long?)places[i].Position);
        for (var j = 0; j < latecomers; j++)
            Assert.Equal(people + j, places[people + j].Position);

        // Uniform in join order.
        var joinIndexByPosition = byScore;
        var statistics = ShuffleStatistics.Of(joinIndexByPosition);
        output.WriteLine($"{fixture.Name}: {statistics}; placed by the two instances: {string.Join(" + ", shuffled)}");
        Assert.True(statistics.Uniform, statistics.ToString());
    }

    [Fact]
    public async Task Opening_ByTheControlHash_WorksLikeTheConfiguration()
    {
        var room = ScheduledRoom(capacity: 1);
        var a = await JoinAsync(room, "a", 2);
        var b = await JoinAsync(room, "b", 1);

        await Store.SetOverridesAsync(room, new Dictionary<string, string?> { ["opens_at"] = PastMs() });
        var tick = await Store.TickAsync(room, Work(shuffleLimit: 500));

        Assert.True(tick.Opened);
        Assert.Equal(2, tick.Shuffled);
        Assert.Equal(PlaceState.Ready, (await StatusAsync(room, b.Id)).State);
        Assert.Equal(1, (await StatusAsync(room, a.Id)).Position);
    }

    [Fact]
    public async Task Opening_OfARoomWithPeopleAlreadyInLine_KeepsThemAhead_AndNumbersEveryoneOnce()
    {
        // A room that was open (no schedule) gets an opening scheduled by its operator while people wait in it.
        var room = fixture.NewRoom(capacity: 1);
        var before = new List<string>();
        for (var i = 0; i < 3; i++)
            before.Add((await JoinAsync(room, $"b{i}", 0)).Id); // b0 ready, b1 and b2 waiting (sequences 1..3)
        await Store.SetOverridesAsync(room, new Dictionary<string, string?>
        {
            ["prequeue_from"] = PastMs(),
            ["opens_at"] = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture),
            ["shuffle"] = "1",
        });
        var prequeued = new List<string>();
        foreach (var score in new[] { 40.0, 10, 30, 20 })
        {
            var join = await JoinAsync(room, $"p{score}", score);
            Assert.Equal(PlaceState.Prequeued, join.Place.State);
            prequeued.Add(join.Id);
        }

        await Store.SetOverridesAsync(room, new Dictionary<string, string?> { ["opens_at"] = PastMs() });
        var late = await JoinAsync(room, "late", 0);
        await Store.TickAsync(room, Work(shuffleLimit: 500));

        Assert.Equal(new long[] { 1, 2, 3 }, await SequencesAsync(room, before));
        Assert.Equal(new long[] { 7, 4, 6, 5 }, await SequencesAsync(room, prequeued)); // after those in line, by score
        Assert.Equal(new long[] { 8 }, await SequencesAsync(room, [late.Id]));
        var places = await StatusAllAsync(room, [before[1], before[2], prequeued[1], prequeued[3], prequeued[2], prequeued[0], late.Id]);
        Assert.Equal(new long[] { 1, 2, 3, 4, 5, 6, 7 }, places.Select(p => p.Position ?? -1));
    }

    [Fact]
    public async Task ScheduleRemoved_BeforeItsOpening_OpensForThePrequeued_AheadOfLaterJoiners()
    {
        var room = ScheduledRoom(capacity: 1);
        var prequeued = new List<string>();
        foreach (var score in new[] { 3.0, 1, 2 })
            prequeued.Add((await JoinAsync(room, $"p{score}", score)).Id);

        // A reload (or DELETE overrides) that removes PrequeueFrom and OpensAt: the room is open, and the people in
        // the pre-queue must not wait for an opening that will never come.
        var unscheduled = new Room(room.Id, room.Options with { PrequeueFrom = null, OpensAt = null }, fixture.Connection.RankByTree, TimeSpan.FromMilliseconds(200));
        var late = await JoinAsync(unscheduled, "late", 0);
        Assert.Equal(PlaceState.Waiting, late.Place.State);
        Assert.Equal(4, late.Place.Position);

        var tick = await Store.TickAsync(unscheduled, Work(shuffleLimit: 500));
        Assert.Equal(3, tick.Shuffled);
        var places = await StatusAllAsync(unscheduled, [prequeued[1], prequeued[2], prequeued[0], late.Id]);
        Assert.Equal(PlaceState.Ready, places[0].State);
        Assert.Equal(new long?[] { 1, 2, 3 }, places.Skip(1).Select(p => p.Position));
    }

    [Fact]
    public async Task Opening_MovedEarlier_ThePlacedKeepTheirPlaceForAPrequeueIntervalPastAbandonAfter()
    {
        // A pre-queued page told to come back in a minute; the opening is moved to now meanwhile. AbandonAfter 10 s.
        var t0 = DateTimeOffset.UtcNow;
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(t0);
        var store = fixture.StoreWithClock(clock);
        var room = fixture.NewRoom(capacity: 1, abandonAfter: TimeSpan.FromSeconds(10),
            with: o => o with { PrequeueFrom = t0.AddMinutes(-10), OpensAt = t0.AddHours(1), ShuffleAtOpen = false });
        var ids = new List<string>();
        for (var i = 0; i < 2; i++)
            ids.Add((await store.JoinAsync(room, new JoinRequest(WaitingTokens.NewPlaceId(), $"c:{i}", null, Client, 0, 0, 0))).Id);
        var opened = new Room(room.Id, room.Options with { OpensAt = t0.AddSeconds(1) }, fixture.Connection.RankByTree, TimeSpan.FromMilliseconds(200));

        var dropped = 0L;
        for (var second = 1; second <= 65; second++)
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            var tick = await store.TickAsync(opened, Tick);
            dropped += tick.Dropped + tick.Expired;
        }

        // 64 s after the opening, past a minute's interval: the first (made ready at once) and the second still hold their places.
        Assert.Equal(0, dropped);
        var places = (await store.StatusAsync(opened, ids)).Places;
        Assert.Equal(PlaceState.Ready, places[0].State);
        Assert.Equal(1, places[1].Position);

        // Nobody polled: the grace ends (a minute plus AbandonAfter) and the first goes; its token passes to the second,
        // who, not polling either, goes AbandonAfter later.
        for (var second = 0; second < 25; second++)
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            await store.TickAsync(opened, Tick);
        }
        Assert.All((await store.StatusAsync(opened, ids)).Places, p => Assert.Equal(PlaceState.None, p.State));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ShuffleAtOpen_ChangedHalfWay_TheFirstJoinersRuleOrdersTheWholePrequeue(bool shuffleFirst)
    {
        var room = ScheduledRoom(capacity: 1, shuffle: shuffleFirst);
        var ids = new List<string>();
        foreach (var score in new[] { 30.0, 10, 20 })
            ids.Add((await JoinAsync(room, $"first{score}", score)).Id);
        await Store.SetOverridesAsync(room, new Dictionary<string, string?> { ["shuffle"] = shuffleFirst ? "0" : "1" });
        foreach (var score in new[] { 25.0, 5, 15 })
            ids.Add((await JoinAsync(room, $"then{score}", score)).Id);
        Assert.Equal(shuffleFirst, (await Store.TickAsync(room, Work(shuffleLimit: 0))).PrequeueShuffled);

        var open = Opened(room);
        await Store.TickAsync(open, Work(shuffleLimit: 500));

        // One rule for all six: by the random draws (5, 10, 15, 20, 25, 30), or in join order, never a mix.
        Assert.Equal(shuffleFirst ? new long[] { 6, 2, 4, 5, 1, 3 } : new long[] { 1, 2, 3, 4, 5, 6 }, await SequencesAsync(open, ids));
    }

    [Fact]
    public async Task AnOpenedRoom_GivenALaterOpensAt_IsNotOpenUntilThen_AndOpensAgain_BehindEveryoneInLine()
    {
        var room = ScheduledRoom(capacity: 1, shuffle: false);
        var first = await JoinAsync(room, "first", 0);
        var open = Opened(room);
        await Store.TickAsync(open, Work(shuffleLimit: 500));
        Assert.Equal(PlaceState.Ready, (await StatusAsync(open, first.Id)).State);
        var late = await JoinAsync(open, "late", 0);
        Assert.Equal(1, late.Place.Position);

        // A postponed (or second) sale: an opening an hour from now, with its own pre-queue.
        await Store.SetOverridesAsync(open, new Dictionary<string, string?> { ["opens_at"] = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) });
        var second = await JoinAsync(open, "second-sale", 0);
        Assert.Equal(PlaceState.Prequeued, second.Place.State);
        Assert.Equal(EnterOutcome.NotReady, (await Store.EnterAsync(open, first.Id, "aid-first")).Outcome); // admissions start at the opening
        var waiting = await Store.TickAsync(open, Work(shuffleLimit: 500));
        Assert.False(waiting.Opened);
        Assert.Equal(1, (await StatusAsync(open, late.Id)).Position); // the new pre-queue is not ahead of the line

        await Store.SetOverridesAsync(open, new Dictionary<string, string?> { ["opens_at"] = PastMs() });
        var reopened = await Store.TickAsync(open, Work(shuffleLimit: 500));

        Assert.True(reopened.Opened);
        Assert.Equal(new long[] { 1, 2, 3 }, await SequencesAsync(open, [first.Id, late.Id, second.Id]));
        Assert.Equal(EnterOutcome.Granted, (await Store.EnterAsync(open, first.Id, "aid-first")).Outcome);
    }

    [Fact]
    public async Task AnOpenedRoom_ItsConfiguredOpensAtMovedLater_StaysOpen()
    {
        // Instances read a configuration edit at different moments: only the store's override may close an opened room.
        var room = ScheduledRoom(capacity: 1);
        var open = Opened(room);
        await Store.TickAsync(open, Work(shuffleLimit: 500));
        var later = new Room(room.Id, room.Options with { OpensAt = DateTimeOffset.UtcNow.AddHours(2) }, fixture.Connection.RankByTree, TimeSpan.FromMilliseconds(200));

        var join = await JoinAsync(later, "after-the-edit", 0);

        Assert.NotEqual(PlaceState.Prequeued, join.Place.State);
        Assert.True((await Store.TickAsync(later, Work(shuffleLimit: 500))).Opened);
        Assert.True((await Store.TickAsync(open, Work(shuffleLimit: 500))).Opened);
    }

    [Fact]
    public async Task APostponement_DuringTheOpeningsShuffle_WaitsUntilEveryPrequeuedIsPlaced()
    {
        var room = ScheduledRoom(capacity: 1, shuffle: false);
        var prequeued = new List<string>();
        for (var i = 0; i < 5; i++)
            prequeued.Add((await JoinAsync(room, $"p{i}", 0)).Id);
        var open = Opened(room);
        Assert.Equal(2, (await Store.TickAsync(open, Work(shuffleLimit: 2))).Shuffled);
        var late = await JoinAsync(open, "late", 0);

        await Store.SetOverridesAsync(open, new Dictionary<string, string?> { ["opens_at"] = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) });
        var shuffled = 0L;
        for (var i = 0; i < 3; i++)
            shuffled += (await Store.TickAsync(open, Work(shuffleLimit: 2))).Shuffled;

        // The first opening finished placing its pre-queue, ahead of the later joiner; then the room closed for the new one.
        Assert.Equal(3, shuffled);
        Assert.Equal(new long[] { 1, 2, 3, 4, 5, 6 }, await SequencesAsync(open, [.. prequeued, late.Id]));
        Assert.False((await Store.TickAsync(open, Work(shuffleLimit: 2))).Opened);
    }

    [Fact]
    public async Task ThePrequeueEmptied_ItsNextFirstJoinerFixesTheOrderRuleAnew()
    {
        var room = ScheduledRoom(capacity: 1, shuffle: false);
        var tester = await JoinAsync(room, "tester", 0);
        await Store.LeaveAsync(room, tester.Id);
        await Store.SetOverridesAsync(room, new Dictionary<string, string?> { ["shuffle"] = "1" });
        var b = await JoinAsync(room, "b", 20);
        var c = await JoinAsync(room, "c", 10);
        Assert.True((await Store.TickAsync(room, Work(shuffleLimit: 0))).PrequeueShuffled);

        var open = Opened(room);
        await Store.TickAsync(open, Work(shuffleLimit: 500));

        Assert.Equal(new long[] { 2, 1 }, await SequencesAsync(open, [b.Id, c.Id])); // by the random draws
    }

    [Fact]
    public async Task Prequeue_WithoutShuffle_OpensInJoinOrder()
    {
        var room = ScheduledRoom(capacity: 1, shuffle: false);
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
            ids.Add((await JoinAsync(room, $"p{i}", 1000 - i)).Id); // the random draw is ignored
        var open = Opened(room);
        await Store.TickAsync(open, Work(shuffleLimit: 500));

        Assert.Equal(new long[] { 1, 2, 3, 4, 5 }, await SequencesAsync(open, ids));
    }

    [Fact]
    public async Task Leave_FromThePrequeue_EndsThePlace_AndTheShuffleSkipsIt()
    {
        var room = ScheduledRoom(capacity: 1);
        var a = await JoinAsync(room, "a", 1);
        var b = await JoinAsync(room, "b", 2);
        var c = await JoinAsync(room, "c", 3);

        Assert.Equal(PlaceState.Prequeued, (await Store.LeaveAsync(room, b.Id)).Was);
        var open = Opened(room);
        var tick = await Store.TickAsync(open, Work(shuffleLimit: 500));

        Assert.Equal(2, tick.Shuffled);
        Assert.Equal(PlaceState.None, (await StatusAsync(open, b.Id)).State);
        Assert.Equal(PlaceState.Ready, (await StatusAsync(open, a.Id)).State);
        Assert.Equal(1, (await StatusAsync(open, c.Id)).Position);
        Assert.Equal(2, (await JoinAsync(open, "late", 0)).Place.Position);
    }

    [Fact]
    public async Task Join_AfterJoinsCloseAt_IsClosed_ButPeopleInLineKeepTheirPlacesAndAreStillLetIn()
    {
        var room = fixture.NewRoom(capacity: 1);
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
            ids.Add((await JoinAsync(room, $"u{i}", 0)).Id);
        var before = (await Store.StatusAsync(room, ids)).Places.Select(p => p.Position).ToArray();

        await Store.SetOverridesAsync(room, new Dictionary<string, string?> { ["joins_close_at"] = PastMs() });

        Assert.Equal(JoinOutcome.Closed, (await JoinAsync(room, "newcomer", 0)).Outcome);
        var again = await JoinAsync(room, "u2", 0);
        Assert.Equal(JoinOutcome.Existing, again.Outcome);
        Assert.Equal(ids[2], again.Id);
        Assert.Equal(new long?[] { null, 1, 2 }, before);
        Assert.Equal(before, (await Store.StatusAsync(room, ids)).Places.Select(p => p.Position));

        // Admissions go on for the people in line.
        await Store.SetOverridesAsync(room, new Dictionary<string, string?> { ["capacity"] = "10", ["refill"] = "1000" });
        await Store.TickAsync(room, Work(shuffleLimit: 0));
        Assert.All((await Store.StatusAsync(room, ids)).Places, p => Assert.Equal(PlaceState.Ready, p.State));
    }

    private Room ScheduledRoom(int capacity = 1, bool shuffle = true) =>
        fixture.NewRoom(capacity, with: o => o with { PrequeueFrom = DateTimeOffset.UtcNow.AddMinutes(-10), OpensAt = DateTimeOffset.UtcNow.AddHours(1), ShuffleAtOpen = shuffle });

    /// <summary>The same room after a configuration reload that moved OpensAt into the past.</summary>
    private Room Opened(Room room) =>
        new(room.Id, room.Options with { PrequeueFrom = DateTimeOffset.UtcNow.AddMinutes(-20), OpensAt = DateTimeOffset.UtcNow.AddSeconds(-1) }, fixture.Connection.RankByTree, TimeSpan.FromMilliseconds(200));

    private static string PastMs() => DateTimeOffset.UtcNow.AddSeconds(-1).ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);

    private static readonly TickWork Tick = Work(shuffleLimit: 500);

    private static TickWork Work(int shuffleLimit) => new(500, 500, shuffleLimit, History: false, RevokedSinceMs: long.MaxValue, RevokedLimit: 0);

    /// <summary>Uniform 53-bit scores from a fixed seed: the store orders by them exactly as by the gateway's CSPRNG draws.</summary>
    private static double[] Scores(int count, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ => (double)random.NextInt64(1L << 53))];
    }

    private Task<StoredJoin> JoinAsync(Room room, string caller, double score) =>
        Store.JoinAsync(room, new JoinRequest(WaitingTokens.NewPlaceId(), "c:" + caller, null, Client, 0, 0, score));

    private async Task<Place> StatusAsync(Room room, string id) => (await Store.StatusAsync(room, [id])).Places[0];

    private async Task<Place[]> StatusAllAsync(Room room, IReadOnlyList<string> ids)
    {
        var places = new List<Place>(ids.Count);
        foreach (var chunk in ids.Chunk(StatusBatcher.MaxBatch))
            places.AddRange((await Store.StatusAsync(room, chunk)).Places);
        return [.. places];
    }

    /// <summary>The join sequence numbers the store gave these places (field 2 of the place record).</summary>
    private async Task<long[]> SequencesAsync(Room room, IReadOnlyList<string> ids)
    {
        var values = await fixture.Database.HashGetAsync(room.Keys[RoomKey.Places], [.. ids.Select(id => (StackExchange.Redis.RedisValue)id)]);
        return [.. values.Select(v => long.Parse(((string)v!).Split('|')[1], CultureInfo.InvariantCulture))];
    }
}

public sealed class RedisOpeningStoreTests(RedisStoreFixture fixture, ITestOutputHelper output)
    : OpeningStoreTests<RedisStoreFixture>(fixture, output), IClassFixture<RedisStoreFixture>;

public sealed class RedisTreeOpeningStoreTests(RedisTreeStoreFixture fixture, ITestOutputHelper output)
    : OpeningStoreTests<RedisTreeStoreFixture>(fixture, output), IClassFixture<RedisTreeStoreFixture>;

public sealed class EmbeddedOpeningStoreTests(EmbeddedStoreFixture fixture, ITestOutputHelper output)
    : OpeningStoreTests<EmbeddedStoreFixture>(fixture, output), IClassFixture<EmbeddedStoreFixture>;
