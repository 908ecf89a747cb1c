using Gateway.Admission.ProofOfWork;
using Gateway.Admission.Adaptive;

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

    /// <summary>A waiting user who has not polled for this long loses the place (time the store was unreachable does not count).</summary>
    public TimeSpan AbandonAfter { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Joins beyond this many people in line (and pre-queue) are refused with 503 and Retry-After.</summary>
    public int MaxQueueLength { get; init; } = 1_000_000;

    /// <summary>At most this many admissions active at once (admitted, not expired, left or revoked); unset = no cap.</summary>
    public int? MaxActive { get; init; }

    /// <summary>From this instant joins are accepted into the pre-queue (status <c>prequeue</c>); unset = no pre-queue.</summary>
    public DateTimeOffset? PrequeueFrom { get; init; }

    /// <summary>Admissions start at this instant; before it joins get 403 ROOM_NOT_OPEN unless in the pre-queue. Unset = open.</summary>
    public DateTimeOffset? OpensAt { get; init; }

    /// <summary>At <see cref="OpensAt"/>, give everyone who joined in the pre-queue a uniformly random order, ahead of later joiners.</summary>
    public bool ShuffleAtOpen { get; init; }

    /// <summary>After this instant joins get 403 ROOM_CLOSED; people in line keep their places. Unset = never.</summary>
    public DateTimeOffset? JoinsCloseAt { get; init; }

    /// <summary>A solved proof-of-work challenge per join (off by default).</summary>
    public ProofOfWorkOptions ProofOfWork { get; init; } = new();
    /// <summary>Adaptive admission: the backends the room's routes forward to set its pace (off by default).</summary>
    public AdaptiveOptions Adaptive { get; init; } = new();
}
