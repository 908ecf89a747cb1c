using Gateway.Admission.Rooms;

namespace Gateway.EtaSimulation.Scenarios;

/// <summary>
/// One replayable situation: who arrives when, how they behave while waiting, and what the operator
/// changes. <see cref="Steady"/> marks the scenarios without surprises (constant configured rate, nobody
/// leaving early), where the aim is a mean accuracy of at least 97%.
/// </summary>
internal sealed record Scenario(
    string Name,
    string Description,
    RoomOptions Room,
    Arrivals Arrivals,
    Behaviour Behaviour,
    bool Steady)
{
    /// <summary>Operator changes of the refill rate, by time since the start.</summary>
    public IReadOnlyList<RateChange> RateChanges { get; init; } = [];

    /// <summary>Gateway instances sharing the store; each runs room maintenance every <see cref="TickInterval"/>.</summary>
    public int Instances { get; init; } = 2;

    /// <summary>The gateways' <c>WaitingRoom:MaintenanceInterval</c>.</summary>
    public TimeSpan TickInterval { get; init; } = TimeSpan.FromMilliseconds(200);
}

/// <summary>When users arrive.</summary>
internal abstract record Arrivals
{
    public abstract IEnumerable<TimeSpan> Times(Random random);
}

/// <summary><paramref name="Count"/> joins spread uniformly at random over <paramref name="Over"/>.</summary>
internal sealed record FlashCrowd(int Count, TimeSpan Over) : Arrivals
{
    public override IEnumerable<TimeSpan> Times(Random random) =>
        Enumerable.Range(0, Count).Select(_ => random.NextDouble() * Over).Order();

    public override string ToString() => $"{Count:N0} joins in {Over.TotalSeconds:0} s";
}

/// <summary>A Poisson stream of <paramref name="PerSecond"/> joins per second for <paramref name="For"/>.</summary>
internal sealed record SteadyStream(double PerSecond, TimeSpan For) : Arrivals
{
    public override IEnumerable<TimeSpan> Times(Random random)
    {
        var t = 0.0;
        while (true)
        {
            t += -Math.Log(1 - random.NextDouble()) / PerSecond;
            if (t >= For.TotalSeconds)
                yield break;
            yield return TimeSpan.FromSeconds(t);
        }
    }

    public override string ToString() => $"Poisson {PerSecond:0.#}/s for {For.TotalMinutes:0.#} min";
}

/// <summary>
/// How users wait. Everyone polls status every <see cref="PollEvery"/> (uniform in the range), except a
/// <see cref="LateShare"/> who poll every <see cref="LatePollEvery"/> and enter only after <see cref="LateEnterDelay"/>.
/// An <see cref="AbandonShare"/> give up at a uniformly random point of the wait they were promised at join;
/// of those, <see cref="LeaveShare"/> close the page (the beacon calls leave) and the rest just stop polling.
/// </summary>
internal sealed record Behaviour
{
    public (double Min, double Max) PollEvery { get; init; } = (15, 25);

    public double LateShare { get; init; }

    public (double Min, double Max) LatePollEvery { get; init; } = (40, 58);

    public (double Min, double Max) LateEnterDelay { get; init; } = (0, 30);

    public double AbandonShare { get; init; }

    public double LeaveShare { get; init; } = 0.5;
}

/// <summary>At <paramref name="At"/> the operator sets the room's refill rate to <paramref name="RefillPerSecond"/> (a config reload).</summary>
internal sealed record RateChange(TimeSpan At, double RefillPerSecond);
