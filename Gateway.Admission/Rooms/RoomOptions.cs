namespace Gateway.Admission.Rooms;

/// <summary>One waiting room (an event), bound from <c>WaitingRoom:Rooms:&lt;eventId&gt;</c>.</summary>
public sealed record RoomOptions
{
    /// <summary>Token-bucket burst size: how many admissions may happen at once.</summary>
    public int Capacity { get; init; } = 100;

    /// <summary>Token-bucket refill rate in admissions per second; may be fractional.</summary>
    public double RefillPerSecond { get; init; } = 10;

    /// <summary>How long an admission token opens the gated routes.</summary>
    public TimeSpan AdmissionTtl { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>A waiting user who has not polled for this long loses the place.</summary>
    public TimeSpan AbandonAfter { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Joins beyond this many waiting users are refused with 503 and Retry-After.</summary>
    public int MaxQueueLength { get; init; } = 1_000_000;
}
