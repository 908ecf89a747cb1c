namespace Gateway.Admission.Admin;

/// <summary>
/// The <c>Admin</c> configuration section: the operators' API under <c>/admin/v1</c>. Off (404) until at least
/// one key is configured. Configuration holds only SHA-256 hashes of the bearer secrets, never a secret.
/// </summary>
public sealed class AdminOptions
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "Admin";

    /// <summary>The bearer keys: an id (logged with every change made with it) and the hex SHA-256 of the secret.</summary>
    public List<AdminKeyOptions> Keys { get; init; } = [];

    /// <summary>
    /// Where the admin API listens instead of the public URLs, e.g. <c>http://127.0.0.1:8081</c> (several separated
    /// by <c>;</c>). When set, Kestrel also listens there and <c>/admin/v1</c> answers 404 on every other port.
    /// Read at start-up only. Unset = the admin API shares the public URLs.
    /// </summary>
    public string? Urls { get; init; }

    /// <summary>
    /// Connections the <c>Admin:Urls</c> listeners keep open at most, apart from the public cap
    /// (<c>Kestrel:Limits:MaxConcurrentConnections</c>), so a full public port never shuts out probes and operators.
    /// Read at start-up only.
    /// </summary>
    public int MaxConcurrentConnections { get; init; } = 1_000;

    /// <summary>Wrong bearer keys one client address may present per minute; past it every admin call from it gets 429, the right key included.</summary>
    public int FailedAttemptsPerClientPerMinute { get; init; } = 10;
}

/// <summary>One admin bearer key, <c>Admin:Keys:&lt;n&gt;</c>.</summary>
public sealed class AdminKeyOptions
{
    /// <summary>The key's name in logs and metrics (e.g. <c>ops-oncall</c>); never secret.</summary>
    public string? Id { get; init; }

    /// <summary>Hex SHA-256 of the bearer secret (64 hex digits), e.g. from <c>printf %s "$SECRET" | sha256sum</c>.</summary>
    public string? Sha256 { get; init; }
}
