using System.Diagnostics.Metrics;
using System.Globalization;
using Gateway.Admission.Adaptive;
using Gateway.Admission.Diagnostics;
using Gateway.Admission.Queue;
using Gateway.Admission.Rooms;
using Gateway.Admission.Tokens;
using Gateway.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Adaptive;

/// <summary>
/// adapt.lua, the one place the adaptive rate is decided, on a real redis-server under a fake clock (the
/// scripts' argument clock): each call is one instance's report, and whatever the instances say, the store
/// holds one rate, changed at most once per period each way, between the floor and the configured rate.
/// </summary>
public sealed class AdaptScriptTests(RedisStoreFixture fixture) : IClassFixture<RedisStoreFixture>, IDisposable
{
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(2);
    private static readonly TickWork Tick = new(500, 500, 0, History: false, RevokedSinceMs: long.MaxValue, RevokedLimit: 0);

    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private readonly ServiceProvider _meters = new ServiceCollection().AddMetrics().BuildServiceProvider();

    private IQueueStore? _store;

    private IQueueStore Store => _store ??= RedisQueueStore.WithArgumentClock(
        fixture.Connection, new WaitingRoomMetrics(_meters.GetRequiredService<IMeterFactory>()), NullLogger<RedisQueueStore>.Instance, _clock);

    public void Dispose() => _meters.Dispose();

    [Fact]
    public async Task ADecrease_AppliesOncePerPeriod_WhicheverInstanceAsks()
    {
        var room = NewRoom(refill: 100, capacity: 10);
        await Seed(room, 100);
        await Crowd(room, 400);

        Assert.Equal(50, (await Decrease(room, 0.5)).RatePerSecond);
        // A second instance's overload report in the same period changes nothing.
        var second = await Decrease(room, 0.5);
        Assert.Equal(AdaptAction.None, second.Action);
        Assert.Equal(50, second.RatePerSecond);

        await Promote(room, Period);
        var third = await Decrease(room, 0.5);
        Assert.Equal(AdaptAction.Decrease, third.Action);
        Assert.Equal(25, third.RatePerSecond!.Value, precision: 0);

        // One value in the store, and every script applies it.
        Assert.Equal(third.RatePerSecond.Value.ToString("F6", CultureInfo.InvariantCulture), (string?)await fixture.Database.HashGetAsync(room.Keys[RoomKey.Control], "adaptive"));
        var snapshot = await Store.TickAsync(room, Tick);
        Assert.Equal(third.RatePerSecond.Value, snapshot.EffectiveRefillPerSecond, precision: 6);
        Assert.Equal(third.RatePerSecond.Value, snapshot.AdaptiveRefillPerSecond!.Value, precision: 6);
        Assert.Empty(snapshot.Overrides); // the adaptive rate is not an operator's override
    }

    [Fact]
    public async Task TheRate_StaysBetweenTheFloorAndTheConfiguredRate()
    {
        var room = NewRoom(refill: 100, floor: 2, step: 30, capacity: 10);
        await Crowd(room, 700);

        Assert.Equal(2, (await Decrease(room, 0)).RatePerSecond); // it starts at the floor
        await Promote(room, Period); // no increase within two periods of an overload report
        var rates = new List<double?>();
        for (var i = 0; i < 5; i++)
        {
            await Promote(room, Period);
            rates.Add((await Report(room, AdaptVerdict.Increase)).RatePerSecond);
        }

        Assert.Equal([32, 62, 92, 100, 100], rates);
    }

    [Fact]
    public async Task AnIncrease_WaitsTwoPeriodsAfterAnyInstancesOverloadReport()
    {
        var room = NewRoom(refill: 100, floor: 10, step: 10, capacity: 10);
        await Crowd(room, 500);
        Assert.Equal(10, (await Decrease(room, 0)).RatePerSecond);

        // Another instance still sees overload: its decrease is refused (one per period) but it holds the rate down.
        await Promote(room, Period * 0.9);
        Assert.Equal(AdaptAction.None, (await Decrease(room, 0.5)).Action);
        await Promote(room, Period * 0.6);
        Assert.Equal(AdaptAction.None, (await Report(room, AdaptVerdict.Increase)).Action);

        await Promote(room, Period * 1.4);
        var increase = await Report(room, AdaptVerdict.Increase);
        Assert.Equal(AdaptAction.Increase, increase.Action);
        Assert.Equal(20, increase.RatePerSecond);
    }

    [Fact]
    public async Task APause_StopsPromotions_UntilNobodyAskedForOneForAPeriod_ThenSlowStartsFromTheFloor()
    {
        var room = NewRoom(refill: 50, floor: 4, step: 5, capacity: 10);
        await Seed(room, 50);
        await Crowd(room, 500);
        await Promote(room, TimeSpan.FromSeconds(1));

        var pause = await Report(room, AdaptVerdict.Pause);
        Assert.Equal(AdaptAction.Pause, pause.Action);
        Assert.Equal(0, pause.RatePerSecond);
        var before = (await Store.TickAsync(room, Tick)).PromotedTotal;
        await Promote(room, TimeSpan.FromSeconds(1));
        var paused = await Store.TickAsync(room, Tick);
        Assert.Equal(0, paused.EffectiveRefillPerSecond);
        Assert.InRange(paused.PromotedTotal - before, 0, 1); // at most the fraction of a token left in the bucket

        // Another instance's breaker is still open: the pause is renewed, holds do not resume it.
        Assert.Equal(AdaptAction.None, (await Report(room, AdaptVerdict.Pause)).Action);
        await Promote(room, Period * 0.75);
        Assert.Equal(AdaptAction.None, (await Report(room, AdaptVerdict.Hold)).Action);

        await Promote(room, Period * 0.25);
        var resume = await Report(room, AdaptVerdict.Hold);
        Assert.Equal(AdaptAction.Resume, resume.Action);
        Assert.Equal(4, resume.RatePerSecond);

        // Doubling (or one 5/s step, when that is more) while the backends cope, until one decrease (0.8, the room's
        // factor) below the 50/s the pause interrupted, then one step at a time.
        var rates = new List<double?>();
        for (var i = 0; i < 5; i++)
        {
            await Promote(room, Period * 1.5);
            rates.Add((await Report(room, AdaptVerdict.Increase)).RatePerSecond);
        }
        Assert.Equal([9, 18, 36, 41, 46], rates);
    }

    [Fact]
    public async Task ADecrease_StartsFromWhatTheRoomUsed_NotFromARateNobodyUsed()
    {
        // 100/s configured, but only 30 people come: over a 2 s period the room used 15/s.
        var room = NewRoom(refill: 100, capacity: 20);
        await Seed(room, 100);
        await Report(room, AdaptVerdict.Hold);
        await Crowd(room, 30);
        await Promote(room, Period);

        var decrease = await Decrease(room, 0.8);

        Assert.Equal(15, decrease.UsedPerSecond!.Value, precision: 6);
        Assert.Equal(12, decrease.RatePerSecond!.Value, precision: 6);
    }

    [Fact]
    public async Task AnIncrease_NeedsTheRoomToUseMostOfItsRate()
    {
        var room = NewRoom(refill: 100, floor: 10, step: 10, capacity: 10);
        await Seed(room, 100);
        await Report(room, AdaptVerdict.Hold);
        Assert.Equal(50, (await Decrease(room, 0.5)).RatePerSecond);
        // 20 people in 4 s: 5/s used of 50/s.
        await Crowd(room, 20);
        await Promote(room, Period * 2);

        var idle = await Report(room, AdaptVerdict.Increase);
        Assert.Equal(AdaptAction.None, idle.Action);
        Assert.Equal(50, idle.RatePerSecond);

        // A line that takes the whole rate lets it grow.
        await Crowd(room, 300);
        await Promote(room, Period);
        Assert.Equal(60, (await Report(room, AdaptVerdict.Increase)).RatePerSecond);
    }

    [Fact]
    public async Task AdaptationStarts_AtTheFloor()
    {
        var room = NewRoom(refill: 100, floor: 7);

        var first = await Report(room, AdaptVerdict.Hold);

        Assert.Equal(7, first.RatePerSecond);
        Assert.Equal(7, (await Store.TickAsync(room, Tick)).EffectiveRefillPerSecond);
    }

    [Fact]
    public async Task SwitchingAdaptationOff_ClearsTheRate_AndTheConfiguredRateAppliesAgain()
    {
        var room = NewRoom(refill: 100);
        await Seed(room, 100);
        await Decrease(room, 0.5);

        var off = await Report(room, AdaptVerdict.Off);

        Assert.Equal(AdaptAction.Off, off.Action);
        Assert.Null(off.RatePerSecond);
        Assert.False(await fixture.Database.HashExistsAsync(room.Keys[RoomKey.Control], "adaptive"));
        Assert.False(await fixture.Database.KeyExistsAsync(room.Keys[RoomKey.Adaptive]));
        var snapshot = await Store.TickAsync(room, Tick);
        Assert.Equal(100, snapshot.EffectiveRefillPerSecond);
        Assert.Null(snapshot.AdaptiveRefillPerSecond);
    }

    [Fact]
    public async Task AnOperatorsLowerRate_CapsTheAdaptiveRate()
    {
        var room = NewRoom(refill: 100, step: 50);
        await Store.SetOverridesAsync(room, new Dictionary<string, string?> { ["refill"] = "30" });

        var increase = await Report(room, AdaptVerdict.Increase);

        Assert.Equal(30, increase.RatePerSecond);
        Assert.Equal(30, (await Store.TickAsync(room, Tick)).EffectiveRefillPerSecond);
    }

    private Room NewRoom(double refill, double floor = 1, double step = 5, int capacity = 100) =>
        fixture.NewRoom(capacity: capacity, refill: refill, with: o => o with
        {
            AbandonAfter = TimeSpan.FromMinutes(10),
            Adaptive = new AdaptiveOptions { Enabled = true, Floor = floor, IncreaseStep = step, ControlPeriod = Period },
        });

    /// <summary>Puts the controller where a test starts: at <paramref name="rate"/>, past its slow start.</summary>
    private Task Seed(Room room, double rate) =>
        fixture.Database.HashSetAsync(room.Keys[RoomKey.Adaptive], [new("rate", rate), new("ssthresh", rate)]);

    private Task<AdaptResult> Decrease(Room room, double factor) => Store.AdaptAsync(room, new AdaptReport(AdaptVerdict.Decrease, factor));

    private Task<AdaptResult> Report(Room room, AdaptVerdict verdict) => Store.AdaptAsync(room, new AdaptReport(verdict));

    /// <summary>People joining the line at one instant (the bucket's tokens go to the first of them).</summary>
    private async Task Crowd(Room room, int people)
    {
        for (var i = 0; i < people; i++)
            await Store.JoinAsync(room, new JoinRequest(WaitingTokens.NewPlaceId(), "c:" + Guid.NewGuid().ToString("N"), null, "203.0.113.1", 0, 0, 0));
    }

    /// <summary>Runs the maintenance tick every 100 ms of fake time for <paramref name="duration"/>.</summary>
    private async Task Promote(Room room, TimeSpan duration)
    {
        for (var elapsed = TimeSpan.Zero; elapsed < duration; elapsed += TimeSpan.FromMilliseconds(100))
        {
            _clock.Advance(TimeSpan.FromMilliseconds(100));
            await Store.TickAsync(room, Tick);
        }
    }
}
