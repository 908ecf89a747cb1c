using Gateway.Admission.Rooms;

namespace Gateway.EtaSimulation.Scenarios;

/// <summary>
/// The scenarios the ETA is measured on, in two sizes: <see cref="Full"/> (the numbers in docs/ETA.md) and
/// <see cref="Quick"/> (the same shapes, smaller, for the test suite). The room is the production default:
/// burst 100, refill 10/s, abandon after 60 s without a poll.
/// </summary>
internal static class ScenarioCatalog
{
    private static readonly RoomOptions DefaultRoom = new() { Capacity = 100, RefillPerSecond = 10, AbandonAfter = TimeSpan.FromMinutes(1) };

    public static IReadOnlyList<Scenario> Full { get; } = Build(flash: 10_000, stream: TimeSpan.FromMinutes(10));

    public static IReadOnlyList<Scenario> Quick { get; } = Build(flash: 2_500, stream: TimeSpan.FromMinutes(4));

    public static IReadOnlyList<Scenario> For(string size) => size switch
    {
        "full" => Full,
        "quick" => Quick,
        _ => throw new ArgumentException($"Unknown size '{size}'; use 'full' or 'quick'.", nameof(size)),
    };

    private static List<Scenario> Build(int flash, TimeSpan stream)
    {
        var crowd = new FlashCrowd(flash, TimeSpan.FromSeconds(10));
        // 15 joins/s against 10 admissions/s: the line grows by about 5 people a second while the sale lasts.
        var steady = new SteadyStream(15, stream);
        var normal = new Behaviour();
        return
        [
            new("flash-crowd", "Everyone arrives at once and waits patiently.", DefaultRoom, crowd, normal, Steady: true),
            new("steady-stream", "Arrivals slightly faster than admissions for the whole sale.", DefaultRoom, steady, normal, Steady: true),
            new("late-pollers", "Steady stream; half the users poll only every 40-58 s and enter up to 30 s after their turn.",
                DefaultRoom, steady, normal with { LateShare = 0.5 }, Steady: true),
            new("rate-change", "Steady stream; halfway through, the operator cuts the refill rate from 10/s to 6/s.", DefaultRoom, steady, normal, Steady: false)
            {
                RateChanges = [new RateChange(stream / 2, 6)],
            },
            new("abandon-20", "Steady stream; 20% give up part-way (half close the page, half just stop polling).",
                DefaultRoom, steady, normal with { AbandonShare = 0.2 }, Steady: false),
            new("flash-abandon-20", "Flash crowd; 20% give up part-way (half close the page, half just stop polling).",
                DefaultRoom, crowd, normal with { AbandonShare = 0.2 }, Steady: false),
        ];
    }
}
