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

    /// <summary>
    /// How positions are counted. <see cref="PositionIndex.Auto"/> uses the store's ZRANK on Redis/Valkey and a
    /// Fenwick tree on the embedded store (Garnet's ZRANK is linear in the set size); set
    /// <see cref="PositionIndex.Tree"/> when <c>ConnectionStrings:Redis</c> points at an external Garnet.
    /// </summary>
    public PositionIndex PositionIndex { get; set; } = PositionIndex.Auto;

    /// <summary>
    /// How long the first status poll of a batch waits for others to join it before the batch goes to the store
    /// (one script call for up to 256 polls of a room). Adds at most this much to a poll's answer; 0 sends each
    /// poll at once when fewer than two batches of its room are in flight. Read at start-up.
    /// </summary>
    public TimeSpan StatusBatchWindow { get; set; } = TimeSpan.FromMilliseconds(2);

    /// <summary>Main-log memory of the embedded store (Garnet size syntax, e.g. 512m).</summary>
    public string EmbeddedMemory { get; set; } = "512m";

    /// <summary>True when positions come from the Fenwick tree rather than ZRANK (see <see cref="PositionIndex"/>).</summary>
    public bool RankByTree => PositionIndex == PositionIndex.Tree || (PositionIndex == PositionIndex.Auto && string.IsNullOrWhiteSpace(ConnectionString));
}

/// <summary>How the queue counts the people ahead of a waiting user.</summary>
public enum PositionIndex
{
    /// <summary>ZRANK on Redis and Valkey, the tree on the embedded store.</summary>
    Auto,

    /// <summary>ZRANK of the waiting sorted set: O(log N) on Redis and Valkey.</summary>
    SortedSetRank,

    /// <summary>A Fenwick tree over join sequence numbers in a hash: O(log N) on any store.</summary>
    Tree,
}
