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
    public async Task ADecrease_AppliesOncePerTwoPeriods_WhicheverInstanceAsks()
    {
        var room = NewRoom(refill: 100, capacity: 10);
        await Seed(room, 100);
        await Crowd(room, 400);

        // The backends took half of what 100/s sent: the rate goes the room's margin (0.9) below 50/s.
        Assert.Equal(45, (await Decrease(room, 0.5)).RatePerSecond);
        // A second instance's overload report in the same period changes nothing.
        var second = await Decrease(room, 0.5);
        Assert.Equal(AdaptAction.None, second.Action);
        Assert.Equal(45, second.RatePerSecond);

        // Overload reported in the next period mostly comes from people admitted before the decrease.
        await Promote(room, Period);
        Assert.Equal(AdaptAction.None, (await Decrease(room, 0.5)).Action);
        await Promote(room, Period);
        var third = await Decrease(room, 0.5);
        Assert.Equal(AdaptAction.Decrease, third.Action);
        Assert.Equal(45 * 0.5 * 0.9, third.RatePerSecond!.Value, precision: 0);

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

        Assert.Equal([32, 92, 100, 100, 100], rates); // 30, then 60: each increase in a row doubles the step
    }

    [Fact]
    public async Task IncreasesInARow_DoubleTheStep_ADecreaseStartsAgainFromOneStep()
    {
        var room = NewRoom(refill: 1000, floor: 1, step: 0.5, capacity: 10);
        await Seed(room, 20);
        await Crowd(room, 1000);

        async Task<List<double>> Increases(int count)
        {
            var rates = new List<double>();
            for (var i = 0; i < count; i++)
            {
                await Promote(room, Period);
                rates.Add((await Report(room, AdaptVerdict.Increase)).RatePerSecond!.Value);
            }
            return rates;
        }

        // The first probe past the last known capacity is one step; capacity that came back is found in a few periods:
        // +0.5, 1, 2, then 2 (4 steps) at most.
        Assert.Equal([20.5, 21.5, 23.5, 25.5, 27.5, 29.5, 31.5, 33.5], await Increases(8));

        await Promote(room, Period);
        var decrease = await Decrease(room, 0.5);
        Assert.Equal(AdaptAction.Decrease, decrease.Action);
        var lowered = decrease.RatePerSecond!.Value;
        await Crowd(room, 1000); // the line keeps using the rate: a room that does not use its rate does not grow
        await Promote(room, Period * 2); // no increase within two periods of an overload report
        Assert.Equal([lowered + 0.5, lowered + 1.5], await Increases(2));
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

        // Doubling (or one 5/s step, when that is more) while the backends cope, until one decrease (0.9, the room's
        // factor) below the 50/s the pause interrupted, then one step at a time.
        var rates = new List<double?>();
        for (var i = 0; i < 5; i++)
        {
            await Promote(room, Period * 1.5);
            rates.Add((await Report(room, AdaptVerdict.Increase)).RatePerSecond);
        }
        Assert.Equal([9, 18, 36, 45, 50], rates);
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
        Assert.Equal(15 * 0.8 * 0.9, decrease.RatePerSecond!.Value, precision: 6); // what the backends took of 15/s, less the margin
    }

    [Fact]
    public async Task AnIncrease_NeedsTheRoomToUseMostOfItsRate()
    {
        var room = NewRoom(refill: 100, floor: 10, step: 10, capacity: 10);
        await Seed(room, 100);
        await Report(room, AdaptVerdict.Hold);
        Assert.Equal(45, (await Decrease(room, 0.5)).RatePerSecond); // half of 100/s got through: 50/s less the margin
        // 20 people in 4 s: 5/s used of 45/s.
        await Crowd(room, 20);
        await Promote(room, Period * 2);

        var idle = await Report(room, AdaptVerdict.Increase);
        Assert.Equal(AdaptAction.None, idle.Action);
        Assert.Equal(45, idle.RatePerSecond);

        // A line that takes the whole rate lets it grow: one 10/s step, but not past the 50/s the backends took.
        await Crowd(room, 300);
        await Promote(room, Period);
        Assert.Equal(50, (await Report(room, AdaptVerdict.Increase)).RatePerSecond);
        await Promote(room, Period);
        Assert.Equal(60, (await Report(room, AdaptVerdict.Increase)).RatePerSecond); // past it, from one step again
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

    [Fact]
    public async Task AnOperatorsRateBelowTheFloor_OnceRemoved_LeavesTheRateAtTheFloorAtLeast()
    {
        var room = NewRoom(refill: 20, floor: 1);
        await Store.SetOverridesAsync(room, new Dictionary<string, string?> { ["refill"] = "0.5" });
        Assert.Equal(0.5, (await Report(room, AdaptVerdict.Hold)).RatePerSecond);

        await Store.SetOverridesAsync(room, new Dictionary<string, string?> { ["refill"] = null });
        _clock.Advance(Period);
        var after = await Report(room, AdaptVerdict.Hold); // an idle room: no increase is earned

        Assert.Equal(1, after.RatePerSecond);
        Assert.Equal(1, (await Store.TickAsync(room, Tick)).EffectiveRefillPerSecond);
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
