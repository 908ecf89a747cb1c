using Gateway.Admission.Tokens;

namespace Gateway.Admission.Rooms;

/// <summary>The <c>WaitingRoom</c> configuration section.</summary>
public sealed class WaitingRoomOptions
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "WaitingRoom";

    /// <summary>Rooms by event id. A route's <c>WaitingRoom</c> metadata names one of these.</summary>
    public Dictionary<string, RoomOptions> Rooms { get; init; } = new(StringComparer.Ordinal);

    /// <summary>Admission-token keys: the first signs, all verify (rotation). Waiting tokens and identity cookies are MACed with keys derived from them.</summary>
    public List<SigningKeyOptions> SigningKeys { get; init; } = [];

    /// <summary>Verified identities: the operator's origin signs <c>user_token</c> JWTs with these keys.</summary>
    public IdentityOptions Identity { get; init; } = new();

    /// <summary>The cookies the gateway sets (identity and admission).</summary>
    public CookieSettings Cookie { get; init; } = new();

    /// <summary>New places one client address may take per minute in one room, across all instances; 0 turns the limit off.</summary>
    public int JoinsPerClientPerMinute { get; init; } = 120;

    /// <summary>Places one client address (IPv4 address, IPv6 /64) may hold at once in one room; 0 turns the cap off.</summary>
    public int MaxPlacesPerClient { get; init; } = 25;

    /// <summary>Status and enter calls one client address may make per minute on one instance; 0 turns the limit off.</summary>
    public int PollsPerClientPerMinute { get; init; } = 1200;

    /// <summary>How often each instance runs every room's tick: cleanup, the opening's shuffle, promotion.</summary>
    public TimeSpan MaintenanceInterval { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The Retry-After given when the store is unavailable or a queue is full.</summary>
    public TimeSpan RetryAfter { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary><c>WaitingRoom:Identity</c>: verified user identities (<c>user_token</c> in the join body).</summary>
public sealed class IdentityOptions
{
    /// <summary>HS256 keys the operator's origin signs user tokens with; the token's <c>kid</c> picks one.</summary>
    public List<SigningKeyOptions> Keys { get; init; } = [];

    /// <summary>When true, a join without a valid <c>user_token</c> is refused with 401.</summary>
    public bool Required { get; init; }
}

/// <summary><c>WaitingRoom:Cookie</c>.</summary>
public sealed class CookieSettings
{
    /// <summary><c>Auto</c>: Secure when the request was HTTPS (directly or via a trusted proxy); <c>Always</c>: always Secure.</summary>
    public CookieSecurity Secure { get; init; } = CookieSecurity.Auto;
}

/// <summary>When the gateway's cookies carry the Secure attribute.</summary>
public enum CookieSecurity
{
    /// <summary>When the original request was HTTPS.</summary>
    Auto,

    /// <summary>Always (the site is only served over HTTPS, whatever the hop to the gateway).</summary>
    Always,
}
