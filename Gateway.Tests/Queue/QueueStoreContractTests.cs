using Gateway.Admission.Queue;
using Gateway.Admission.Rooms;
using Gateway.Admission.Tokens;
using Gateway.Tests.Infrastructure;
using StackExchange.Redis;

namespace Gateway.Tests.Queue;

/// <summary>
/// The queue's properties at the store level, run unchanged against a real redis-server (ZRANK and tree
/// positions) and against the embedded store. Races are hammered with real concurrency; time is the
/// store's own clock. Promotion happens in joins and ticks (never in a status poll), as in the gateway.
/// </summary>
public abstract class QueueStoreContractTests<TFixture>(TFixture fixture) where TFixture : StoreFixture
{
    private static readonly TickWork FullTick = new(500, 500, 500, History: true, RevokedSinceMs: 0, RevokedLimit: 1000);

    private protected IQueueStore Store => fixture.Store;

    private protected Task<StoredJoin> JoinAsync(Room room, string caller, string? userId = null, string client = "203.0.113.1") =>
        Store.JoinAsync(room, new JoinRequest(WaitingTokens.NewPlaceId(), "c:" + caller, userId, client, 0, 0, 0));

    private protected async Task<Place> StatusAsync(Room room, string id) => (await Store.StatusAsync(room, [id])).Places[0];

    private protected Task<RoomSnapshot> TickAsync(Room room) => Store.TickAsync(room, FullTick);

    [Fact]
    public async Task Join_ManyUsers_PositionsFollowJoinOrder()
    {
        var room = fixture.NewRoom(capacity: 1);
        var first = await JoinAsync(room, "u0");
        Assert.Equal(PlaceState.Ready, first.Place.State); // the one bucket token goes to the head at once

        for (var i = 1; i <= 20; i++)
        {
            var entry = await JoinAsync(room, $"u{i}");
            Assert.Equal(PlaceState.Waiting, entry.Place.State);
            Assert.Equal(i, entry.Place.Position);
            Assert.Equal(JoinOutcome.Joined, entry.Outcome);
        }
    }

    [Fact]
    public async Task Positions_AfterRandomJoinsAndLeaves_EqualTheNumberOfActivePeopleAheadPlusOne()
    {
        var room = fixture.NewRoom(capacity: 1);
        await JoinAsync(room, "head"); // takes the only token
        var random = new Random(7);
        var line = new List<string>(); // the model: waiting places in join order
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
                var joined = await JoinAsync(room, $"u{step}");
                line.Add(joined.Id);
                Assert.Equal(line.Count, joined.Place.Position);
            }
        }

        var places = (await Store.StatusAsync(room, line)).Places;
        Assert.Equal(Enumerable.Range(1, line.Count).Select(i => (long?)i), places.Select(p => p.Position));
    }

    [Fact]
    public async Task Join_SameCallerConcurrently_GetsOnePlace()
    {
        var room = fixture.NewRoom(capacity: 1);
        await JoinAsync(room, "someone-ahead");

        var entries = await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => Task.Run(() => JoinAsync(room, "alice"))));

        Assert.Single(entries.Select(e => e.Id).Distinct());
        Assert.Single(entries, e => e.Outcome == JoinOutcome.Joined);
        Assert.All(entries, e => Assert.Equal(1, e.Place.Position));
        var snapshot = await TickAsync(room);
        Assert.Equal(1, snapshot.Waiting);
    }

    [Fact]
    public async Task Join_KnownUnverifiedUserIdFromAnotherCaller_IsRefused_AndNeverReturnsThePlace()
    {
        var room = fixture.NewRoom(capacity: 1);
        await JoinAsync(room, "head");
        var victim = await JoinAsync(room, "victim-browser", userId: "victim@example.com");

        var attacks = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Task.Run(() => JoinAsync(room, $"attacker-{i}", userId: "victim@example.com"))));

        Assert.All(attacks, a => Assert.Equal(JoinOutcome.AlreadyQueued, a.Outcome));
        Assert.All(attacks, a => Assert.NotEqual(victim.Id, a.Id));
        Assert.Equal(victim.Id, (await JoinAsync(room, "victim-browser", userId: "victim@example.com")).Id); // the same browser gets it back
        Assert.Equal(1, (await StatusAsync(room, victim.Id)).Position);
    }

    [Fact]
    public async Task Enter_200ConcurrentCallsOnOneToken_YieldOneAdmissionAndUseOneToken()
    {
        var room = fixture.NewRoom(capacity: 3);
        var joined = await JoinAsync(room, "u");
        Assert.Equal(PlaceState.Ready, joined.Place.State);
        Assert.Equal(2, Math.Floor(joined.TokensAvailable)); // promotion used exactly one of three tokens

        var entries = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => Task.Run(() => Store.EnterAsync(room, joined.Id, "aid" + i))));

        Assert.All(entries, e => Assert.Equal(EnterOutcome.Granted, e.Outcome));
        Assert.Single(entries, e => e.First);
        Assert.Single(entries.Select(e => e.AdmissionExpires).Distinct());
        Assert.Single(entries.Select(e => e.AdmissionId).Distinct());
        var snapshot = await TickAsync(room);
        Assert.Equal(1, snapshot.AdmittedTotal);
        Assert.Equal(1, snapshot.PromotedTotal);
        Assert.Equal(1, snapshot.Active);
        Assert.Equal(PlaceState.Admitted, (await StatusAsync(room, joined.Id)).State);
        Assert.True(snapshot.TokensAvailable >= 2);
    }

    [Fact]
    public async Task Enter_BeforeTurn_IsNotReadyAndCostsNothing()
    {
        var room = fixture.NewRoom(capacity: 1);
        await JoinAsync(room, "head");
        var second = await JoinAsync(room, "second");

        var entry = await Store.EnterAsync(room, second.Id, "aid");

        Assert.Equal(EnterOutcome.NotReady, entry.Outcome);
        Assert.Equal(1, entry.Place.Position);
        Assert.Equal(PlaceState.Waiting, (await StatusAsync(room, second.Id)).State);
    }

    [Fact]
    public async Task Leave_FreesThePlace_AndPeopleBehindMoveUp()
    {
        var room = fixture.NewRoom(capacity: 1);
        await JoinAsync(room, "head");
        var a = await JoinAsync(room, "a", userId: "user-a");
        var b = await JoinAsync(room, "b");
        var c = await JoinAsync(room, "c");
        Assert.Equal(3, c.Place.Position);

        Assert.Equal(PlaceState.Waiting, (await Store.LeaveAsync(room, a.Id)).Was);
        Assert.Equal(PlaceState.None, (await Store.LeaveAsync(room, a.Id)).Was); // idempotent

        Assert.Equal(PlaceState.None, (await StatusAsync(room, a.Id)).State);
        Assert.Equal(1, (await StatusAsync(room, b.Id)).Position);
        Assert.Equal(2, (await StatusAsync(room, c.Id)).Position);
        // the caller and the user id are free again: joining makes a new place at the back
        var again = await JoinAsync(room, "a", userId: "user-a");
        Assert.NotEqual(a.Id, again.Id);
        Assert.Equal(3, again.Place.Position);
    }

    [Fact]
    public async Task Abandoned_UserWhoStopsPolling_IsDroppedByMaintenanceAlone_AndStopsBlockingTheHead()
    {
        var room = fixture.NewRoom(capacity: 1, refill: 0.0001, abandonAfter: TimeSpan.FromSeconds(1));
        var head = await JoinAsync(room, "head"); // ready, never enters
        var quitter = await JoinAsync(room, "quitter");
        Assert.Equal(PlaceState.Ready, head.Place.State);
        Assert.Equal(1, quitter.Place.Position);

        await Task.Delay(TimeSpan.FromSeconds(1.3));
        // Nobody from this room polls: only the maintenance tick runs.
        var snapshot = await TickAsync(room);

        Assert.Equal(2, snapshot.Dropped);
        Assert.Equal(0, snapshot.Waiting);
        Assert.Equal(PlaceState.None, (await StatusAsync(room, quitter.Id)).State);
        Assert.Equal(0, await fixture.Database.HashLengthAsync(room.Keys[RoomKey.Places]));
        Assert.Equal(0, await fixture.Database.HashLengthAsync(room.Keys[RoomKey.Callers]));
        Assert.Equal(0, await fixture.Database.HashLengthAsync(room.Keys[RoomKey.ClientPlaces]));
    }

    [Fact]
    public async Task Polling_KeepsThePlace_WhilePeopleAheadAreDropped()
    {
        var room = fixture.NewRoom(capacity: 1, refill: 0.0001, abandonAfter: TimeSpan.FromSeconds(2));
        var head = await JoinAsync(room, "head");
        Assert.Equal(EnterOutcome.Granted, (await Store.EnterAsync(room, head.Id, "aid")).Outcome); // holds the only token
        var quitter = await JoinAsync(room, "quitter");
        var stayer = await JoinAsync(room, "stayer");
        Assert.Equal(2, stayer.Place.Position);

        for (var i = 0; i < 6; i++)
        {
            await Task.Delay(500);
            Assert.Equal(PlaceState.Waiting, (await StatusAsync(room, stayer.Id)).State);
            await TickAsync(room);
        }
        Assert.Equal(1, (await StatusAsync(room, stayer.Id)).Position); // quitter dropped, stayer moved up
        Assert.Equal(PlaceState.None, (await StatusAsync(room, quitter.Id)).State);
    }

    [Fact]
    public async Task Status_PastItsDeadline_EndsThePlace_NeverRevivesIt()
    {
        var room = fixture.NewRoom(capacity: 1, refill: 0.0001, abandonAfter: TimeSpan.FromSeconds(1));
        await JoinAsync(room, "head");
        var late = await JoinAsync(room, "late");

        await Task.Delay(1300); // no tick ran: the place is past its deadline but not swept

        Assert.Equal(PlaceState.None, (await StatusAsync(room, late.Id)).State);
        Assert.Equal(PlaceState.None, (await StatusAsync(room, late.Id)).State);
    }

    [Fact]
    public async Task Promotion_IsStrictlyFifo_AndOnlyTheFirstKBecomeReady()
    {
        var room = fixture.NewRoom(capacity: 3);
        var entries = new List<StoredJoin>();
        for (var i = 0; i < 10; i++)
            entries.Add(await JoinAsync(room, $"u{i}"));

        Assert.Equal([PlaceState.Ready, PlaceState.Ready, PlaceState.Ready], entries.Take(3).Select(e => e.Place.State));
        Assert.All(entries.Skip(3), e => Assert.Equal(PlaceState.Waiting, e.Place.State));
        // The users behind cannot enter, however hard they try.
        var attempts = await Task.WhenAll(entries.Skip(3).Select(e => Store.EnterAsync(room, e.Id, "aid")));
        Assert.All(attempts, a => Assert.Equal(EnterOutcome.NotReady, a.Outcome));
    }

    [Fact]
    public async Task Bucket_UnderConcurrentTicksPollsAndEnters_HandsOutExactlyWhatRefills_AndNeverMoreThanTheBound()
    {
        const int capacity = 20;
        const double refill = 40;
        var room = fixture.NewRoom(capacity: capacity, refill: refill);
        var ids = new List<string>();
        var first = await JoinAsync(room, "u0");
        ids.Add(first.Id);
        for (var i = 1; i < 300; i++)
            ids.Add((await JoinAsync(room, $"u{i}")).Id);

        // From here on the line is never empty, so every token that refills must go to its head. Sixteen
        // workers play instances ticking and pages polling and entering, all at once.
        var baseline = await TickAsync(room);
        var times = new System.Collections.Concurrent.ConcurrentBag<DateTimeOffset> { baseline.TakenAt };
        var stop = DateTime.UtcNow.AddSeconds(3);
        await Task.WhenAll(Enumerable.Range(0, 16).Select(worker => Task.Run(async () =>
        {
            var random = new Random(worker);
            while (DateTime.UtcNow < stop)
            {
                var id = ids[random.Next(ids.Count)];
                switch (random.Next(3))
                {
                    case 0:
                        times.Add((await TickAsync(room)).TakenAt);
                        break;
                    case 1:
                        times.Add((await Store.StatusAsync(room, [id])).Now);
                        break;
                    default:
                        times.Add((await Store.EnterAsync(room, id, "aid-" + id)).Now);
                        break;
                }
            }
        })));
        var final = await TickAsync(room);
        times.Add(final.TakenAt);

        // Upper bound over the whole run, from the very first call (a full bucket).
        var bound = capacity + (refill * (final.TakenAt - first.Now).TotalSeconds);
        Assert.True(final.PromotedTotal <= bound, $"promoted {final.PromotedTotal} > bound {bound:F1}");

        // Conservation while people wait: promotions = tokens at the start + refill - tokens left, less only
        // what a pause longer than Capacity / refill without a promoting call forfeits.
        var sorted = times.Order().ToList();
        var forfeited = sorted.Zip(sorted.Skip(1), (a, b) => Math.Max(0, (refill * (b - a).TotalSeconds) - capacity + 1)).Sum();
        var expected = baseline.TokensAvailable + (refill * (final.TakenAt - baseline.TakenAt).TotalSeconds) - final.TokensAvailable;
        var handedOut = final.PromotedTotal - baseline.PromotedTotal;
        Assert.True(final.Waiting > 0, "the line must not run dry, or the bucket is not the limit");
        Assert.True(handedOut <= expected + 0.01, $"handed out {handedOut} > refilled {expected:F2}");
        Assert.True(handedOut >= expected - forfeited - 1.01, $"handed out {handedOut} < refilled {expected:F2} - forfeited {forfeited:F2}: the refill stalled");
    }

    [Fact]
    public async Task QueueFull_RefusesNewJoins_ButKnownCallersKeepTheirPlace()
    {
        var room = fixture.NewRoom(capacity: 1, maxQueue: 2);
        await JoinAsync(room, "head"); // ready, not counted as waiting
        var a = await JoinAsync(room, "a");
        await JoinAsync(room, "b");

        var refused = await JoinAsync(room, "c");
        var again = await JoinAsync(room, "a");

        Assert.Equal(JoinOutcome.Full, refused.Outcome);
        Assert.Equal(JoinOutcome.Existing, again.Outcome);
        Assert.Equal(a.Id, again.Id);
    }

    [Fact]
    public async Task Revocation_OfAnAdmissionGrantedUnderALongerTtl_IsKeptUntilThatAdmissionWouldHaveEnded()
    {
        var room = fixture.NewRoom(capacity: 2, admissionTtl: TimeSpan.FromSeconds(3));
        var joined = await JoinAsync(room, "u");
        var granted = await Store.EnterAsync(room, joined.Id, "aid-long");
        Assert.Equal(EnterOutcome.Granted, granted.Outcome);
        await Store.RevokeAsync(room, granted.AdmissionId);
        // The operator lowers AdmissionTtl: the token above still carries the 3-second expiry it was signed with.
        var lowered = new Room(room.Id, room.Options with { AdmissionTtl = TimeSpan.FromSeconds(1) }, fixture.Connection.RankByTree, TimeSpan.FromMilliseconds(200));
        var other = await JoinAsync(lowered, "v");
        Assert.Equal(EnterOutcome.Granted, (await Store.EnterAsync(lowered, other.Id, "aid-short")).Outcome);
        await JoinAsync(lowered, "w"); // someone waiting keeps the room in use: an idle room's ticks only read

        await Task.Delay(1600);
        var kept = await Store.TickAsync(lowered, FullTick);
        Assert.Contains(kept.Revoked, r => r.AdmissionId == "aid-long");
        Assert.Equal(TimeSpan.FromSeconds(3), kept.RevocationsKept);

        await Task.Delay(1800);
        var later = await Store.TickAsync(lowered, FullTick);
        Assert.DoesNotContain(later.Revoked, r => r.AdmissionId == "aid-long");
        Assert.Equal(TimeSpan.FromSeconds(1), later.RevocationsKept);
    }

    /// <summary>
    /// An idle room's keys are not refreshed by its ticks and would expire after the key lifetime of the AdmissionTtl
    /// configured now: the revocations, and the lifetimes they are kept by, must outlast the admissions granted before.
    /// </summary>
    [Fact]
    public async Task Revocations_OfAdmissionsGrantedUnderALongerTtl_OutliveTheRoomsKeyLifetime()
    {
        var room = fixture.NewRoom(capacity: 1, admissionTtl: TimeSpan.FromHours(2));
        var joined = await JoinAsync(room, "u");
        var granted = await Store.EnterAsync(room, joined.Id, "aid-2h");
        var lowered = new Room(room.Id, room.Options with { AdmissionTtl = TimeSpan.FromSeconds(1) }, fixture.Connection.RankByTree, TimeSpan.FromMilliseconds(200));
        Assert.True(lowered.KeyTtl < TimeSpan.FromHours(1));

        await Store.RevokeAsync(lowered, granted.AdmissionId);
        await Store.TickAsync(lowered, FullTick);

        foreach (var key in new[] { RoomKey.Revoked, RoomKey.Meta })
        {
            var ttl = await fixture.Database.KeyTimeToLiveAsync(lowered.Keys[key]);
            Assert.True(ttl > TimeSpan.FromHours(1.9), $"{key} lives {ttl}");
        }
        Assert.Equal(TimeSpan.FromHours(2), (await Store.TickAsync(lowered, FullTick)).RevocationsKept);
    }

    [Fact]
    public async Task AdmissionTtl_Elapsed_AdmissionExpiresAndIsCleanedUp()
    {
        var room = fixture.NewRoom(capacity: 1, admissionTtl: TimeSpan.FromSeconds(1));
        var joined = await JoinAsync(room, "u");
        var granted = await Store.EnterAsync(room, joined.Id, "aid");
        Assert.Equal(EnterOutcome.Granted, granted.Outcome);
        Assert.InRange((granted.AdmissionExpires - granted.Now).TotalMilliseconds, 999, 1001);

        await Task.Delay(1300);
        var snapshot = await TickAsync(room);

        Assert.Equal(1, snapshot.Expired);
        Assert.Equal(0, snapshot.Active);
        Assert.Equal(EnterOutcome.NotFound, (await Store.EnterAsync(room, joined.Id, "aid")).Outcome);
        Assert.Equal(0, await fixture.Database.HashLengthAsync(room.Keys[RoomKey.Places]));
    }

    [Fact]
    public async Task EveryKeyOfARoom_HasATtl_InUseAndOnceIdle()
    {
        var room = fixture.NewRoom(capacity: 1, with: o => o with { PrequeueFrom = DateTimeOffset.UtcNow.AddMinutes(-1), OpensAt = DateTimeOffset.UtcNow.AddMinutes(5) });
        var other = fixture.NewRoom(capacity: 2, maxQueue: 100);
        // Touch every kind of state: pre-queue, places, callers, user ids, clients, join limits, admissions,
        // revocations, challenges, overrides, the adaptive controller's state, history.
        await Store.JoinAsync(room, new JoinRequest(WaitingTokens.NewPlaceId(), "c:p", "pre", "198.51.100.1", 5, 10, 42, "challenge-1", DateTimeOffset.UtcNow.AddMinutes(1)));
        var head = await Store.JoinAsync(other, new JoinRequest(WaitingTokens.NewPlaceId(), "c:h", "head", "198.51.100.2", 5, 10, 0, "challenge-2", DateTimeOffset.UtcNow.AddMinutes(1)));
        var second = await JoinAsync(other, "second");
        await JoinAsync(other, "third");
        var entered = await Store.EnterAsync(other, head.Id, "aid-h");
        await Store.EnterAsync(other, second.Id, "aid-s");
        await Store.RecordFirstEtaAsync(other, second.Id, 10);
        await Store.RevokeAsync(other, entered.AdmissionId);
        await Store.AdaptAsync(room, AdaptReport.Hold);
        // An override slow enough that the tick below cannot promote the third person (their place keeps the queue key).
        await Store.SetOverridesAsync(other, new Dictionary<string, string?> { ["refill"] = "0.001" });
        await TickAsync(room);
        await TickAsync(other);

        var seen = new HashSet<RoomKey>();
        foreach (var r in new[] { room, other })
        {
            foreach (var (key, _, _) in ScriptLayout.Keys)
            {
                if (!await fixture.Database.KeyExistsAsync(r.Keys[key]))
                    continue;
                seen.Add(key);
                var ttl = await fixture.Database.KeyTimeToLiveAsync(r.Keys[key]);
                Assert.True(ttl is { } t && t > TimeSpan.Zero, $"{r.Keys[key]} has TTL {ttl}");
            }
        }
        // Every kind of key was created at least once (Rank only on stores counting positions with the tree).
        var expected = ScriptLayout.Keys.Select(k => k.Key).Where(k => k != RoomKey.Rank || fixture.Connection.RankByTree);
        Assert.Equal(expected.Order(), seen.Order());

        // Once everyone has gone, ticks of the idle room write nothing that would outlive the TTL.
        var idle = fixture.NewRoom(capacity: 1);
        var gone = await JoinAsync(idle, "gone");
        await Store.LeaveAsync(idle, gone.Id);
        await TickAsync(idle);
        foreach (var key in idle.Keys.All)
        {
            if (await fixture.Database.KeyExistsAsync(key))
                Assert.True(await fixture.Database.KeyTimeToLiveAsync(key) is { } t && t > TimeSpan.Zero, $"{key} of an idle room has no TTL");
        }
    }

    [Fact]
    public async Task Maintenance_PromotesWhileNobodyPolls()
    {
        // One token every 0.5 s: the second join (milliseconds after the first) finds none.
        var room = fixture.NewRoom(capacity: 1, refill: 2);
        await JoinAsync(room, "head");
        var second = await JoinAsync(room, "second");
        Assert.Equal(PlaceState.Waiting, second.Place.State);
        Assert.Equal(PlaceState.Waiting, (await StatusAsync(room, second.Id)).State); // a poll never promotes

        await Task.Delay(800);
        Assert.Equal(PlaceState.Waiting, (await StatusAsync(room, second.Id)).State);
        var snapshot = await TickAsync(room);

        Assert.Equal(1, snapshot.Promoted);
        Assert.Equal(PlaceState.Ready, (await StatusAsync(room, second.Id)).State);
        Assert.NotEmpty(snapshot.History);
    }

    [Fact]
    public async Task Status_WithAFreshDeadline_WritesNothing()
    {
        var room = fixture.NewRoom(capacity: 1, refill: 0.0001);
        await JoinAsync(room, "head");
        var waiting = await JoinAsync(room, "waiting");
        var deadline = await fixture.Database.SortedSetScoreAsync(room.Keys[RoomKey.Deadlines], waiting.Id);
        var meta = await fixture.Database.HashGetAllAsync(room.Keys[RoomKey.Meta]);

        for (var i = 0; i < 5; i++)
            Assert.Equal(1, (await StatusAsync(room, waiting.Id)).Position);

        // Within the first quarter of AbandonAfter, a poll renews nothing: the deadline and the room's state are as they were.
        Assert.Equal(deadline, await fixture.Database.SortedSetScoreAsync(room.Keys[RoomKey.Deadlines], waiting.Id));
        Assert.Equal(meta.OrderBy(e => (string?)e.Name).Select(e => e.ToString()), (await fixture.Database.HashGetAllAsync(room.Keys[RoomKey.Meta])).OrderBy(e => (string?)e.Name).Select(e => e.ToString()));
    }

    [Fact]
    public async Task ReadyPersonWhoLeaves_GivesTheTokenBack_SoTheNextIsLetInAtOnce()
    {
        // One token per 1,000 s: without the give-back the next person would wait that long.
        var room = fixture.NewRoom(capacity: 1, refill: 0.001);
        var head = await JoinAsync(room, "head");
        var next = await JoinAsync(room, "next");
        Assert.Equal(PlaceState.Ready, head.Place.State);

        await Store.LeaveAsync(room, head.Id);
        await TickAsync(room);

        Assert.Equal(PlaceState.Ready, (await StatusAsync(room, next.Id)).State);
        var snapshot = await TickAsync(room);
        Assert.True(snapshot.TokensAvailable < 1, "the bucket never goes above what it had: the token was given back once");
    }

    [Fact]
    public async Task ReadyPersonWhoIsDropped_GivesTheTokenBack_NeverAboveCapacity()
    {
        var room = fixture.NewRoom(capacity: 1, refill: 0.001, abandonAfter: TimeSpan.FromSeconds(2));
        var head = await JoinAsync(room, "head");
        Assert.Equal(PlaceState.Ready, head.Place.State);
        var next = await JoinAsync(room, "next");

        // head never enters; next keeps polling, every 200 ms until head's deadline has passed: a gap between two of
        // next's polls would have to exceed 2 s to drop it too (a CI run stalled 300 ms polls past a 1 s deadline).
        var started = System.Diagnostics.Stopwatch.StartNew();
        while (started.Elapsed < TimeSpan.FromSeconds(2.5))
        {
            await Task.Delay(200);
            await StatusAsync(room, next.Id);
        }
        await TickAsync(room);

        Assert.Equal(PlaceState.None, (await StatusAsync(room, head.Id)).State);
        Assert.Equal(PlaceState.Ready, (await StatusAsync(room, next.Id)).State);
        var empty = fixture.NewRoom(capacity: 2, refill: 0.001);
        var a = await JoinAsync(empty, "a");
        await Store.LeaveAsync(empty, a.Id);
        Assert.InRange((await TickAsync(empty)).TokensAvailable, 1.99, 2.0); // given back, capped at capacity
    }

    [Fact]
    public async Task ClientCap_LimitsLivePlacesPerNetwork_AndFreesThemWhenPlacesEnd()
    {
        var room = fixture.NewRoom(capacity: 1);
        Task<StoredJoin> Join(string caller) => Store.JoinAsync(room, new JoinRequest(WaitingTokens.NewPlaceId(), "c:" + caller, null, "2001:db8:1:2::/64", 3, 0, 0));
        var places = new List<StoredJoin>();
        for (var i = 0; i < 3; i++)
            places.Add(await Join($"bot{i}"));

        Assert.Equal(JoinOutcome.TooManyPlaces, (await Join("bot3")).Outcome);
        await Store.LeaveAsync(room, places[1].Id);
        Assert.Equal(JoinOutcome.Joined, (await Join("bot4")).Outcome);
    }

    [Fact]
    public async Task JoinLimit_IsCountedInTheStore_ForEveryInstance()
    {
        var room = fixture.NewRoom(capacity: 1);
        // Two "instances" (no local state here at all): the fourth join of one client within the minute is refused.
        var outcomes = new List<JoinOutcome>();
        for (var i = 0; i < 4; i++)
            outcomes.Add((await Store.JoinAsync(room, new JoinRequest(WaitingTokens.NewPlaceId(), $"c:x{i}", null, "192.0.2.9", 0, 3, 0))).Outcome);

        Assert.Equal([JoinOutcome.Joined, JoinOutcome.Joined, JoinOutcome.Joined, JoinOutcome.RateLimited], outcomes);
        Assert.Equal(JoinOutcome.Joined, (await Store.JoinAsync(room, new JoinRequest(WaitingTokens.NewPlaceId(), "c:y", null, "192.0.2.10", 0, 3, 0))).Outcome);
    }

    [Fact]
    public async Task Challenge_UsedOnce_IsRefusedTheSecondTime()
    {
        var room = fixture.NewRoom(capacity: 1);
        var expires = DateTimeOffset.UtcNow.AddMinutes(1);

        var first = await Store.JoinAsync(room, new JoinRequest(WaitingTokens.NewPlaceId(), "c:a", null, "192.0.2.1", 0, 0, 0, "ch-1", expires));
        var replay = await Store.JoinAsync(room, new JoinRequest(WaitingTokens.NewPlaceId(), "c:b", null, "192.0.2.2", 0, 0, 0, "ch-1", expires));

        Assert.Equal(JoinOutcome.Joined, first.Outcome);
        Assert.Equal(JoinOutcome.ChallengeReplayed, replay.Outcome);
    }

    [Fact]
    public async Task Tick_ReportsEveryNewPlace_ForTheAutomaticDifficultysJoinRate()
    {
        var room = fixture.NewRoom(capacity: 1);
        Assert.Equal(0, (await TickAsync(room)).JoinsTotal);

        await JoinAsync(room, "a");
        await JoinAsync(room, "b");
        await JoinAsync(room, "a"); // the same caller again: the existing place, not a new one
        await Store.JoinAsync(room, new JoinRequest(WaitingTokens.NewPlaceId(), "c:c", null, "192.0.2.3", 0, 0, 0, "ch-1", DateTimeOffset.UtcNow.AddMinutes(1)));
        await Store.JoinAsync(room, new JoinRequest(WaitingTokens.NewPlaceId(), "c:d", null, "192.0.2.4", 0, 0, 0, "ch-1", DateTimeOffset.UtcNow.AddMinutes(1))); // replayed: refused

        Assert.Equal(3, (await TickAsync(room)).JoinsTotal);
    }

    [Fact]
    public async Task Scripts_FlushedFromTheServer_AreLoadedAgainAndRunOnce()
    {
        var room = fixture.NewRoom(capacity: 1);
        // The server holding the room (on a cluster, its slot's master): the scripts run there.
        var server = fixture.Database.Multiplexer.GetServer(room.Keys.All[0]);
        await JoinAsync(room, "head");
        var waiting = await JoinAsync(room, "a");
        Assert.Equal(1, (await StatusAsync(room, waiting.Id)).Position);
        var scripts = QueueScripts.StoreClock;
        Assert.True(await server.ScriptExistsAsync(scripts.Status.Sha1));

        // A restart, a failover or SCRIPT FLUSH: the server no longer knows the scripts the gateway runs by EVALSHA.
        await server.ExecuteAsync("SCRIPT", "FLUSH");
        Assert.False(await server.ScriptExistsAsync(scripts.Status.Sha1));
        Assert.Equal(1, (await StatusAsync(room, waiting.Id)).Position);
        var second = await JoinAsync(room, "b");

        // Created, not found: the refused EVALSHA ran nothing, so the join ran once.
        Assert.Equal(JoinOutcome.Joined, second.Outcome);
        Assert.Equal(2, second.Place.Position);
        Assert.True(await server.ScriptExistsAsync(scripts.Status.Sha1));
        Assert.True(await server.ScriptExistsAsync(scripts.Join.Sha1));
    }
}

public sealed class RedisQueueStoreTests(RedisStoreFixture fixture) : QueueStoreContractTests<RedisStoreFixture>(fixture), IClassFixture<RedisStoreFixture>;

public sealed class RedisTreeQueueStoreTests(RedisTreeStoreFixture fixture) : QueueStoreContractTests<RedisTreeStoreFixture>(fixture), IClassFixture<RedisTreeStoreFixture>;

public sealed class EmbeddedQueueStoreTests(EmbeddedStoreFixture fixture) : QueueStoreContractTests<EmbeddedStoreFixture>(fixture), IClassFixture<EmbeddedStoreFixture>;
