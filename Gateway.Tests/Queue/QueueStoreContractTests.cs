using Gateway.Admission.Queue;
using Gateway.Admission.Rooms;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Queue;

/// <summary>
/// The queue's properties at the store level, run unchanged against a real redis-server and against the
/// embedded store. Races are hammered with real concurrency; time is the store's own clock.
/// </summary>
public abstract class QueueStoreContractTests<TFixture>(TFixture fixture) where TFixture : StoreFixture
{
    private protected IQueueStore Store => fixture.Store;

    private static string Token(Room room) => Admission.Tokens.WaitingTokens.New(room.Id);

    [Fact]
    public async Task Join_ManyUsers_PositionsFollowJoinOrder()
    {
        var room = fixture.NewRoom(capacity: 1);
        var first = await Store.JoinAsync(room, Token(room), "u0", null);
        Assert.Equal(EntryState.Ready, first.State); // the one bucket token goes to the head at once

        for (var i = 1; i <= 20; i++)
        {
            var entry = await Store.JoinAsync(room, Token(room), $"u{i}", null);
            Assert.Equal(EntryState.Waiting, entry.State);
            Assert.Equal(i, entry.Position);
            Assert.True(entry.Created);
        }
    }

    [Fact]
    public async Task Positions_AfterRandomJoinsAndLeaves_EqualTheNumberOfActivePeopleAheadPlusOne()
    {
        var room = fixture.NewRoom(capacity: 1);
        await Store.JoinAsync(room, Token(room), "head", null); // takes the only token
        var random = new Random(7);
        var line = new List<string>(); // the model: waiting tokens in join order
        for (var step = 0; step < 300; step++)
        {
            if (line.Count > 0 && random.Next(3) == 0)
            {
                var leaving = line[random.Next(line.Count)];
                await Store.LeaveAsync(room, leaving);
                line.Remove(leaving);
            }
            else
            {
                var joined = await Store.JoinAsync(room, Token(room), $"u{step}", null);
                line.Add(joined.Token);
                Assert.Equal(line.Count, joined.Position);
            }
        }

        var positions = await Task.WhenAll(line.Select(t => Store.StatusAsync(room, t)));
        Assert.Equal(Enumerable.Range(1, line.Count).Select(i => (long)i), positions.Select(p => p.Position));
    }

    [Fact]
    public async Task Join_SameUserConcurrently_GetsOnePlace()
    {
        var room = fixture.NewRoom(capacity: 1);
        await Store.JoinAsync(room, Token(room), "someone-ahead", null);

        var entries = await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => Task.Run(() => Store.JoinAsync(room, Token(room), "alice", null))));

        Assert.Single(entries.Select(e => e.Token).Distinct());
        Assert.Single(entries, e => e.Created);
        Assert.All(entries, e => Assert.Equal(1, e.Position));
        Assert.Equal(1, entries.Max(e => e.QueueLength));
    }

    [Fact]
    public async Task Join_SameIdempotencyKeyConcurrently_ReturnsSameToken()
    {
        var room = fixture.NewRoom(capacity: 1);
        var entries = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => Task.Run(() => Store.JoinAsync(room, Token(room), null, "key-1"))));

        Assert.Single(entries.Select(e => e.Token).Distinct());
        Assert.Single(entries, e => e.Created);
        var other = await Store.JoinAsync(room, Token(room), null, "key-2");
        Assert.NotEqual(entries[0].Token, other.Token);
    }

    [Fact]
    public async Task Enter_200ConcurrentCallsOnOneToken_YieldOneAdmissionAndUseOneToken()
    {
        var room = fixture.NewRoom(capacity: 3);
        var joined = await Store.JoinAsync(room, Token(room), "u", null);
        Assert.Equal(EntryState.Ready, joined.State);
        Assert.Equal(2, Math.Floor(joined.TokensAvailable)); // promotion used exactly one of three tokens

        var entries = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => Task.Run(() => Store.EnterAsync(room, joined.Token))));

        Assert.All(entries, e => Assert.Equal(QueueOutcome.Granted, e.Outcome));
        Assert.Single(entries, e => e.Created);
        Assert.Single(entries.Select(e => e.ExpiresAt).Distinct());
        Assert.Equal("1", (string?)await fixture.Database.HashGetAsync(room.Keys.All[5], "entered"));
        Assert.Equal("1", (string?)await fixture.Database.HashGetAsync(room.Keys.All[5], "admitted"));
        var after = await Store.StatusAsync(room, joined.Token);
        Assert.Equal(EntryState.Admitted, after.State);
        Assert.True(after.TokensAvailable >= 2);
    }

    [Fact]
    public async Task Enter_BeforeTurn_IsNotReadyAndCostsNothing()
    {
        var room = fixture.NewRoom(capacity: 1);
        await Store.JoinAsync(room, Token(room), "head", null);
        var second = await Store.JoinAsync(room, Token(room), "second", null);

        var entry = await Store.EnterAsync(room, second.Token);

        Assert.Equal(QueueOutcome.NotReady, entry.Outcome);
        Assert.Equal(1, entry.Position);
        Assert.Equal(EntryState.Waiting, (await Store.StatusAsync(room, second.Token)).State);
    }

    [Fact]
    public async Task Leave_FreesThePlace_AndPeopleBehindMoveUp()
    {
        var room = fixture.NewRoom(capacity: 1);
        await Store.JoinAsync(room, Token(room), "head", null);
        var a = await Store.JoinAsync(room, Token(room), "a", null);
        var b = await Store.JoinAsync(room, Token(room), "b", null);
        var c = await Store.JoinAsync(room, Token(room), "c", null);
        Assert.Equal(3, c.Position);

        Assert.True(await Store.LeaveAsync(room, a.Token));
        Assert.False(await Store.LeaveAsync(room, a.Token)); // idempotent

        Assert.Equal(QueueOutcome.NotFound, (await Store.StatusAsync(room, a.Token)).Outcome);
        Assert.Equal(1, (await Store.StatusAsync(room, b.Token)).Position);
        Assert.Equal(2, (await Store.StatusAsync(room, c.Token)).Position);
        // the user id is free again: joining makes a new place at the back
        var again = await Store.JoinAsync(room, Token(room), "a", null);
        Assert.NotEqual(a.Token, again.Token);
        Assert.Equal(3, again.Position);
    }

    [Fact]
    public async Task Abandoned_UserWhoStopsPolling_IsDroppedByMaintenanceAlone_AndStopsBlockingTheHead()
    {
        var room = fixture.NewRoom(capacity: 1, refill: 0.0001, abandonAfter: TimeSpan.FromSeconds(1));
        var head = await Store.JoinAsync(room, Token(room), "head", null); // ready, never enters
        var quitter = await Store.JoinAsync(room, Token(room), "quitter", null);
        Assert.Equal(EntryState.Ready, head.State);
        Assert.Equal(1, quitter.Position);

        await Task.Delay(TimeSpan.FromSeconds(1.3));
        // Nobody from this room polls: only the maintenance tick runs.
        var snapshot = await Store.TickAsync(room);

        Assert.Equal(2, snapshot.Dropped);
        Assert.Equal(0, snapshot.QueueLength);
        Assert.Equal(QueueOutcome.NotFound, (await Store.StatusAsync(room, quitter.Token)).Outcome);
        Assert.Equal(0, await fixture.Database.HashLengthAsync(room.Keys.All[1]));
        Assert.Equal(0, await fixture.Database.HashLengthAsync(room.Keys.All[3]));
    }

    [Fact]
    public async Task Polling_KeepsThePlace_WhilePeopleAheadAreDropped()
    {
        var room = fixture.NewRoom(capacity: 1, refill: 0.0001, abandonAfter: TimeSpan.FromSeconds(2));
        await Store.JoinAsync(room, Token(room), "head", null);
        var quitter = await Store.JoinAsync(room, Token(room), "quitter", null);
        var stayer = await Store.JoinAsync(room, Token(room), "stayer", null);
        Assert.Equal(2, stayer.Position);

        for (var i = 0; i < 6; i++)
        {
            await Task.Delay(500);
            var status = await Store.StatusAsync(room, stayer.Token);
            Assert.Equal(QueueOutcome.Ok, status.Outcome);
        }
        var final = await Store.StatusAsync(room, stayer.Token);
        Assert.Equal(1, final.Position); // quitter dropped, stayer moved up
        Assert.Equal(QueueOutcome.NotFound, (await Store.StatusAsync(room, quitter.Token)).Outcome);
    }

    [Fact]
    public async Task Promotion_IsStrictlyFifo_AndOnlyTheFirstKBecomeReady()
    {
        var room = fixture.NewRoom(capacity: 3);
        var entries = new List<QueueEntry>();
        for (var i = 0; i < 10; i++)
            entries.Add(await Store.JoinAsync(room, Token(room), $"u{i}", null));

        Assert.Equal([EntryState.Ready, EntryState.Ready, EntryState.Ready], entries.Take(3).Select(e => e.State));
        Assert.All(entries.Skip(3), e => Assert.Equal(EntryState.Waiting, e.State));
        // The users behind cannot enter, however hard they try.
        var attempts = await Task.WhenAll(entries.Skip(3).Select(e => Store.EnterAsync(room, e.Token)));
        Assert.All(attempts, a => Assert.Equal(QueueOutcome.NotReady, a.Outcome));
    }

    [Fact]
    public async Task Bucket_UnderConcurrentPolling_HandsOutExactlyWhatRefills_AndNeverMoreThanTheBound()
    {
        const int capacity = 20;
        const double refill = 40;
        var room = fixture.NewRoom(capacity: capacity, refill: refill);
        var tokens = new List<string>();
        var first = await Store.JoinAsync(room, Token(room), "u0", null);
        tokens.Add(first.Token);
        for (var i = 1; i < 300; i++)
            tokens.Add((await Store.JoinAsync(room, Token(room), $"u{i}", null)).Token);

        // From here on the queue is never empty, so every token that refills must go to its head.
        var baseline = await Store.StatusAsync(room, tokens[^1]);
        var promotedBefore = await PromotedAsync(room);
        var times = new System.Collections.Concurrent.ConcurrentBag<DateTimeOffset> { baseline.Now };
        var stop = DateTime.UtcNow.AddSeconds(3);
        await Task.WhenAll(Enumerable.Range(0, 16).Select(worker => Task.Run(async () =>
        {
            var random = new Random(worker);
            while (DateTime.UtcNow < stop)
            {
                var token = tokens[random.Next(tokens.Count)];
                var entry = random.Next(2) == 0 ? await Store.StatusAsync(room, token) : await Store.EnterAsync(room, token);
                times.Add(entry.Now);
            }
        })));
        var final = await Store.StatusAsync(room, tokens[^1]);
        times.Add(final.Now);
        var promoted = await PromotedAsync(room);

        // Upper bound over the whole run, from the very first call (a full bucket).
        var bound = capacity + refill * (final.Now - first.Now).TotalSeconds;
        Assert.True(promoted <= bound, $"promoted {promoted} > bound {bound:F1}");

        // Conservation while people wait: promotions = tokens at the start + refill - tokens left, less only
        // what a pause longer than Capacity / refill with no call at all forfeits (the bucket holds at most Capacity).
        var sorted = times.Order().ToList();
        var forfeited = sorted.Zip(sorted.Skip(1), (a, b) => Math.Max(0, refill * (b - a).TotalSeconds - capacity + 1)).Sum();
        var expected = baseline.TokensAvailable + refill * (final.Now - baseline.Now).TotalSeconds - final.TokensAvailable;
        var handedOut = promoted - promotedBefore;
        Assert.True(final.QueueLength > 0, "the queue must not run dry, or the bucket is not the limit");
        Assert.True(handedOut <= expected + 0.01, $"handed out {handedOut} > refilled {expected:F2}");
        Assert.True(handedOut >= expected - forfeited - 0.01, $"handed out {handedOut} < refilled {expected:F2} - forfeited {forfeited:F2}: the refill stalled");
        Assert.True(final.TokensAvailable < 1);
    }

    private async Task<long> PromotedAsync(Room room) =>
        long.Parse((string)(await fixture.Database.HashGetAsync(room.Keys.All[5], "admitted"))!, System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task QueueFull_RefusesNewJoins_ButKnownUsersKeepTheirPlace()
    {
        var room = fixture.NewRoom(capacity: 1, maxQueue: 2);
        await Store.JoinAsync(room, Token(room), "head", null); // ready, not counted as waiting
        var a = await Store.JoinAsync(room, Token(room), "a", null);
        await Store.JoinAsync(room, Token(room), "b", null);

        var refused = await Store.JoinAsync(room, Token(room), "c", null);
        var again = await Store.JoinAsync(room, Token(room), "a", null);

        Assert.Equal(QueueOutcome.Full, refused.Outcome);
        Assert.Equal(QueueOutcome.Ok, again.Outcome);
        Assert.Equal(a.Token, again.Token);
    }

    [Fact]
    public async Task AdmissionTtl_Elapsed_AdmissionExpiresAndIsCleanedUp()
    {
        var room = fixture.NewRoom(capacity: 1, admissionTtl: TimeSpan.FromSeconds(1));
        var joined = await Store.JoinAsync(room, Token(room), "u", null);
        var granted = await Store.EnterAsync(room, joined.Token);
        Assert.Equal(QueueOutcome.Granted, granted.Outcome);
        Assert.InRange((granted.ExpiresAt - granted.Now).TotalMilliseconds, 999, 1001);

        await Task.Delay(1300);
        var snapshot = await Store.TickAsync(room);

        Assert.Equal(1, snapshot.Expired);
        Assert.Equal(QueueOutcome.NotFound, (await Store.EnterAsync(room, joined.Token)).Outcome);
        Assert.Equal(0, await fixture.Database.HashLengthAsync(room.Keys.All[1]));
    }

    [Fact]
    public async Task EveryKeyOfARoom_HasATtl()
    {
        var room = fixture.NewRoom(capacity: 1);
        var head = await Store.JoinAsync(room, Token(room), "head", "idem-1");
        await Store.JoinAsync(room, Token(room), "second", null);
        await Store.EnterAsync(room, head.Token);
        await Store.RecordFirstEtaAsync(room, head.Token, 10);
        await Store.TickAsync(room);

        foreach (var key in room.Keys.All)
        {
            if (!await fixture.Database.KeyExistsAsync(key))
                continue;
            var ttl = await fixture.Database.KeyTimeToLiveAsync(key);
            Assert.True(ttl is { } t && t > TimeSpan.Zero && t <= room.KeyTtl, $"{key} has TTL {ttl}");
        }
    }

    [Fact]
    public async Task Maintenance_PromotesWhileNobodyPolls()
    {
        // One token every 0.5 s: the second join (milliseconds after the first) finds none.
        var room = fixture.NewRoom(capacity: 1, refill: 2);
        await Store.JoinAsync(room, Token(room), "head", null);
        var second = await Store.JoinAsync(room, Token(room), "second", null);
        Assert.Equal(EntryState.Waiting, second.State);

        await Task.Delay(800);
        var snapshot = await Store.TickAsync(room);

        Assert.Equal(1, snapshot.Promoted);
        Assert.Equal(EntryState.Ready, (await Store.StatusAsync(room, second.Token)).State);
        Assert.NotEmpty(snapshot.History);
    }
}

public sealed class RedisQueueStoreTests(RedisStoreFixture fixture) : QueueStoreContractTests<RedisStoreFixture>(fixture), IClassFixture<RedisStoreFixture>;

public sealed class RedisTreeQueueStoreTests(RedisTreeStoreFixture fixture) : QueueStoreContractTests<RedisTreeStoreFixture>(fixture), IClassFixture<RedisTreeStoreFixture>;

public sealed class EmbeddedQueueStoreTests(EmbeddedStoreFixture fixture) : QueueStoreContractTests<EmbeddedStoreFixture>(fixture), IClassFixture<EmbeddedStoreFixture>;
