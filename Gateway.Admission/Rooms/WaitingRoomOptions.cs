using Gateway.Admission.Tokens;

namespace Gateway.Admission.Rooms;

/// <summary>The <c>WaitingRoom</c> configuration section.</summary>
public sealed class WaitingRoomOptions
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "WaitingRoom";

    /// <summary>Rooms by event id. A route's <c>WaitingRoom</c> metadata names one of these.</summary>
    public Dictionary<string, RoomOptions> Rooms { get; init; } = new(StringComparer.Ordinal);

    /// <summary>Admission-token keys: the first signs, all verify (rotation).</summary>
    public List<SigningKeyOptions> SigningKeys { get; init; } = [];

    /// <summary>Joins allowed per client address per minute on one gateway instance; 0 turns the limit off.</summary>
    public int JoinsPerClientPerMinute { get; init; } = 120;

    /// <summary>How often each instance runs the maintenance script of each room.</summary>
    public TimeSpan MaintenanceInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The Retry-After given when the store is unavailable or a queue is full.</summary>
    public TimeSpan RetryAfter { get; init; } = TimeSpan.FromSeconds(5);
}
