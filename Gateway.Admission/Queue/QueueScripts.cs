namespace Gateway.Admission.Queue;

/// <summary>
/// The queue's Lua scripts, embedded next to this file and prefixed with <c>common.lua</c>.
/// StackExchange.Redis sends them by EVALSHA once loaded and re-sends on NOSCRIPT (e.g. after a restart).
/// </summary>
internal static class QueueScripts
{
    // The prelude's clock: order and time come from the store. Only ExternalClock() replaces these lines.
    private const string StoreClockLines =
        "local now_parts = redis.call('TIME')\nlocal NOW = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)\n";

    public static readonly string Join = Load("join.lua");
    public static readonly string Status = Load("status.lua");
    public static readonly string Enter = Load("enter.lua");
    public static readonly string Leave = Load("leave.lua");
    public static readonly string Tick = Load("tick.lua");

    /// <summary>The production scripts: time from Redis TIME.</summary>
    public static readonly QueueScriptSet StoreClock = new(Join, Status, Enter, Leave, Tick);

    /// <summary>
    /// The same scripts with the clock taken from the last ARGV (Unix ms) instead of Redis TIME. Only the ETA
    /// simulation uses this, to replay hours of a queue against the real store in seconds under a fake clock;
    /// the gateway never does (its order must not depend on any gateway's clock).
    /// </summary>
    public static QueueScriptSet ExternalClock()
    {
        var prelude = Read("common.lua");
        if (!prelude.Contains(StoreClockLines, StringComparison.Ordinal))
            throw new InvalidOperationException("common.lua no longer contains the expected clock lines; update QueueScripts.StoreClockLines.");
        prelude = prelude.Replace(StoreClockLines, "local NOW = tonumber(ARGV[#ARGV])\n", StringComparison.Ordinal);
        string With(string name) => prelude + "\n" + Read(name);
        return new QueueScriptSet(With("join.lua"), With("status.lua"), With("enter.lua"), With("leave.lua"), With("tick.lua"));
    }

    private static string Load(string name) => Read("common.lua") + "\n" + Read(name);

    private static string Read(string name)
    {
        var assembly = typeof(QueueScripts).Assembly;
        var resource = assembly.GetManifestResourceNames().Single(n => n.EndsWith(".Queue.Scripts." + name, StringComparison.Ordinal));
        using var stream = assembly.GetManifestResourceStream(resource)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd().ReplaceLineEndings("\n");
    }
}

/// <summary>One complete set of the queue scripts, built for one clock.</summary>
internal sealed record QueueScriptSet(string Join, string Status, string Enter, string Leave, string Tick);
