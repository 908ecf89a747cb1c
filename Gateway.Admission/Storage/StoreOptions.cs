namespace Gateway.Admission.Storage;

/// <summary>The <c>Store</c> section: how the gateway talks to Redis (or the embedded store).</summary>
public sealed class StoreOptions
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "Store";

    /// <summary>StackExchange.Redis configuration; bound from <c>ConnectionStrings:Redis</c>. Empty = embedded store.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>The longest a single store call may take before the request fails with 503; bounds every hang.</summary>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long to wait for a connection to be established.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The longest <c>/readyz</c> waits for a PING.</summary>
    public TimeSpan ReadinessTimeout { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Main-log memory of the embedded store (Garnet size syntax, e.g. 512m).</summary>
    public string EmbeddedMemory { get; set; } = "512m";
}
