using Gateway.Admission.Queue;
using Gateway.Admission.Tokens;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Queue;

/// <summary>
/// The room clock (CONTRACT v2): time in which nobody could reach the store does not count toward
/// AbandonAfter, whatever the number of people waiting (one O(1) shift), while time in which the store was
/// reachable does. Driven by the test-only script variant that reads a fake clock, on every store.
/// </summary>
public abstract class RoomClockTests<TFixture>(TFixture fixture) where TFixture : StoreFixture
{
    private static readonly TickWork Tick = new(500, 500, 500, false, 0, 0);

    [Fact]
    public async Task APoll_WrittenOrNot_LeavesThePlaceAtLeastAbandonAfter()
    {
        // AbandonAfter 4 s. A poll soon after the join writes nothing (the deadline is fresh), and must still count:
        // the place lives AbandonAfter from that poll, not from the join.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var store = fixture.StoreWithClock(clock);
        var room = fixture.NewRoom(capacity: 1, refill: 0.0001, abandonAfter: TimeSpan.FromSeconds(4));
        var head = (await store.JoinAsync(room, new JoinRequest(WaitingTokens.NewPlaceId(), "c:head", null, "192.0.2.1", 0, 0, 0))).Id;
        var id = (await store.JoinAsync(room, new JoinRequest(WaitingTokens.NewPlaceId(), "c:w", null, "192.0.2.1", 0, 0, 0))).Id;

        clock.Advance(TimeSpan.FromMilliseconds(300));
        Assert.Equal(1, (await store.StatusAsync(room, [id])).Places[0].Position);
        for (var ms = 0; ms < 3_900; ms += 300)
        {
            clock.Advance(TimeSpan.FromMilliseconds(300));
            await store.TickAsync(room, Tick);
        }

        Assert.Equal(PlaceState.Waiting, (await store.StatusAsync(room, [id])).Places[0].State); // 3.9 s after the poll
        Assert.Equal(PlaceState.Ready, (await store.StatusAsync(room, [head])).Places[0].State);
    }

    [Fact]
    public async Task AnOutageLongerThanAbandonAfter_DropsNobody_AndKeepsTheOrder_ButTimeWithTheStoreUpCounts()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var store = fixture.StoreWithClock(clock);
        var room = fixture.NewRoom(capacity: 1, refill: 0.0001, abandonAfter: TimeSpan.FromSeconds(10));
        var ids = new List<string>();
        for (var i = 0; i < 6; i++)
            ids.Add((await store.JoinAsync(room, new JoinRequest(WaitingTokens.NewPlaceId(), $"c:{i}", null, "192.0.2.1", 0, 0, 0))).Id);
        await store.TickAsync(room, Tick);

        // Nobody reaches the store for 60 s (six times AbandonAfter), then the ticks resume.
        clock.Advance(TimeSpan.FromSeconds(60));
        var after = await store.TickAsync(room, Tick);

        Assert.Equal(0, after.Dropped);
        var places = (await store.StatusAsync(room, ids)).Places;
        Assert.Equal(PlaceState.Ready, places[0].State);
        Assert.Equal(Enumerable.Range(1, 5).Select(i => (long?)i), places.Skip(1).Select(p => p.Position));

        // With the store up and ticking every second, people who stop polling are dropped after AbandonAfter as usual
        // (at most a quarter of it later: the heartbeat's slack).
        long dropped = 0;
        for (var second = 0; second < 14; second++)
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            dropped += (await store.TickAsync(room, Tick)).Dropped;
        }
        Assert.Equal(6, dropped);
    }
}

public sealed class RedisRoomClockTests(RedisStoreFixture fixture) : RoomClockTests<RedisStoreFixture>(fixture), IClassFixture<RedisStoreFixture>;

public sealed class EmbeddedRoomClockTests(EmbeddedStoreFixture fixture) : RoomClockTests<EmbeddedStoreFixture>(fixture), IClassFixture<EmbeddedStoreFixture>;
