using Gateway.Admission.ProofOfWork;
using Gateway.Admission.Queue;
using Gateway.Admission.Rooms;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.ProofOfWork;

/// <summary>
/// The automatic difficulty under a fake clock: snapshots of the store's join counter arrive as the ticks would
/// bring them (every 200 ms of store time), and the difficulty of the next challenge is read in between.
/// </summary>
[Trait("Category", "Fast")]
public sealed class ChallengeDifficultyTests
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 24, 10, 0, 0, TimeSpan.Zero));
    private readonly RoomSnapshots _snapshots = new();
    private long _joins;

    [Fact]
    public void AutoDifficulty_Off_IsTheConfiguredDifficulty_WhateverTheRate()
    {
        var difficulty = new ChallengeDifficulty(_snapshots);
        var room = Room(auto: 0);

        Assert.Equal(15, Run(difficulty, room, joinsPerSecond: 10_000, seconds: 30));
    }

    [Fact]
    public void AutoDifficulty_BelowTheThreshold_StaysAtTheFloor()
    {
        var difficulty = new ChallengeDifficulty(_snapshots);
        var room = Room(auto: 100);

        Assert.Equal(15, Run(difficulty, room, joinsPerSecond: 95, seconds: 30));
    }

    [Fact]
    public void AutoDifficulty_AboveTheThreshold_AddsOneBitPerDoublingOfTheRate()
    {
        var difficulty = new ChallengeDifficulty(_snapshots);
        var room = Room(auto: 100, max: 32);

        Assert.Equal(16, Run(difficulty, room, joinsPerSecond: 150, seconds: 30));  // 1.5x: one bit
        Assert.Equal(17, Run(difficulty, room, joinsPerSecond: 400, seconds: 30));  // 4x: two bits
        Assert.Equal(20, Run(difficulty, room, joinsPerSecond: 3_000, seconds: 30)); // 30x: five bits (2^5 = 32)
    }

    [Fact]
    public void TheLeastASolutionMayHave_IsTheAutomaticLevelLessOneBit_NeverBelowTheFloor()
    {
        var difficulty = new ChallengeDifficulty(_snapshots);
        var room = Room(auto: 100, max: 32);

        Assert.Equal(15, difficulty.Least(room)); // no automatic bits yet: the floor
        Assert.Equal(20, Run(difficulty, room, joinsPerSecond: 3_000, seconds: 30));
        Assert.Equal(19, difficulty.Least(room));
    }

    [Fact]
    public void AutoDifficulty_NeverExceedsMaxDifficulty()
    {
        var difficulty = new ChallengeDifficulty(_snapshots);

        Assert.Equal(18, Run(difficulty, Room(auto: 10, max: 18), joinsPerSecond: 1_000_000, seconds: 30));
        Assert.Equal(19, Run(difficulty, Room(auto: 10, id: "unset"), joinsPerSecond: 1_000_000, seconds: 30)); // unset: Difficulty + 4
    }

    [Fact]
    public void AutoDifficulty_WhenTheRushEnds_StepsDownOneBitPerWindow()
    {
        var difficulty = new ChallengeDifficulty(_snapshots);
        var room = Room(auto: 100, max: 32);
        Assert.Equal(19, Run(difficulty, room, joinsPerSecond: 1_600, seconds: 20)); // 16x: four bits

        // Quiet: the 10 s window empties of the rush, then one bit comes off per further window.
        var seen = new List<int>();
        for (var second = 0; second < 60; second++)
            seen.Add(Run(difficulty, room, joinsPerSecond: 0, seconds: 1));

        Assert.Equal(15, seen[^1]);
        Assert.Equal([19, 18, 17, 16, 15], seen.Distinct());
        Assert.All(seen.Zip(seen.Skip(1)), pair => Assert.InRange(pair.First - pair.Second, 0, 1)); // never more than a bit at a time
    }

    [Fact]
    public void AutoDifficulty_OneBurstRightAfterStart_IsNotARate()
    {
        var difficulty = new ChallengeDifficulty(_snapshots);
        var room = Room(auto: 100);
        _joins = 50_000; // the counter as a new instance first reads it: history, not a rate

        Assert.Equal(15, Run(difficulty, room, joinsPerSecond: 0, seconds: 3));
    }

    [Fact]
    public void AutoDifficulty_CounterStartsAgain_WhenAnIdleRoomsKeysExpired()
    {
        var difficulty = new ChallengeDifficulty(_snapshots);
        var room = Room(auto: 100, max: 32);
        Assert.Equal(16, Run(difficulty, room, joinsPerSecond: 150, seconds: 20));

        _joins = 0; // the keys expired and were made again: a drop, not a negative rate
        Assert.Equal(16, Run(difficulty, room, joinsPerSecond: 150, seconds: 20));
    }

    [Fact]
    public void OverrideInTheControlHash_ReplacesTheConfiguredFloor_AndBadValuesAreIgnored()
    {
        var difficulty = new ChallengeDifficulty(_snapshots);
        var room = Room(auto: 0);

        _snapshots.Set(room.Id, new RoomSnapshot { TakenAt = _clock.GetUtcNow(), Overrides = new Dictionary<string, string> { [ChallengeDifficulty.OverrideField] = "21" } });
        Assert.Equal(21, difficulty.Current(room));
        Assert.Equal(21, difficulty.Least(room)); // the operators' floor is exact

        foreach (var bad in new[] { "0", "33", "-1", "x", "" })
        {
            _snapshots.Set(room.Id, new RoomSnapshot { TakenAt = _clock.GetUtcNow(), Overrides = new Dictionary<string, string> { [ChallengeDifficulty.OverrideField] = bad } });
            Assert.Equal(15, difficulty.Current(room));
        }
    }

    /// <summary>Ticks every 200 ms for <paramref name="seconds"/> at the given rate, asking for a challenge's difficulty after each; returns the last.</summary>
    private int Run(ChallengeDifficulty difficulty, Room room, double joinsPerSecond, double seconds)
    {
        var current = 0;
        var carry = 0.0;
        for (var tick = 0; tick < seconds * 5; tick++)
        {
            _clock.Advance(TimeSpan.FromMilliseconds(200));
            carry += joinsPerSecond / 5;
            _joins += (long)carry;
            carry -= Math.Floor(carry);
            _snapshots.Set(room.Id, new RoomSnapshot { TakenAt = _clock.GetUtcNow(), JoinsTotal = _joins });
            current = difficulty.Current(room);
        }
        return current;
    }

    private static Room Room(double auto, int? max = null, string id = "auto") => new(id, new RoomOptions
    {
        ProofOfWork = new ProofOfWorkOptions
        {
            Enabled = true,
            Difficulty = 15,
            AutoDifficulty = new AutoDifficultyOptions { JoinsPerSecond = auto, MaxDifficulty = max, Window = TimeSpan.FromSeconds(10) },
        },
    }, rankByTree: false, TimeSpan.FromMilliseconds(200));
}
