namespace Gateway.Admission.Queue;

/// <summary>
/// The queue's Lua scripts: each is the header generated from <see cref="ScriptLayout"/>, then
/// <c>common.lua</c>, then its own file (embedded resources next to this file). The store runs them by
/// <c>EVALSHA</c> and sends the text once when the server does not know it (see <see cref="RedisQueueStore"/>).
/// </summary>
internal sealed class QueueScripts
{
    private QueueScripts(ScriptClock clock)
    {
        Clock = clock;
        var common = Read("common.lua");
        StoreScript Build(ScriptSpec spec) => new(ScriptLayout.Header(spec, clock) + common + "\n" + Read(spec.Name + ".lua"));
        Join = Build(ScriptLayout.Join);
        Status = Build(ScriptLayout.Status);
        Enter = Build(ScriptLayout.Enter);
        Leave = Build(ScriptLayout.Leave);
        Revoke = Build(ScriptLayout.Revoke);
        Tick = Build(ScriptLayout.Tick);
        Adapt = Build(ScriptLayout.Adapt);
    }

    /// <summary>The production scripts: time from Redis TIME.</summary>
    public static QueueScripts StoreClock { get; } = new(ScriptClock.Store);

    /// <summary>
    /// The same scripts reading the time from the <c>NOW_ARG</c> argument: only the ETA simulation uses them,
    /// to replay hours of a queue against the real store in seconds under a fake clock.
    /// </summary>
    public static QueueScripts ArgumentClock { get; } = new(ScriptClock.Argument);

    public ScriptClock Clock { get; }

    public StoreScript Join { get; }

    public StoreScript Status { get; }

    public StoreScript Enter { get; }

    public StoreScript Leave { get; }

    public StoreScript Revoke { get; }

    public StoreScript Tick { get; }

    public StoreScript Adapt { get; }

    /// <summary>The hand-written source of one script file (no header), for the layout test.</summary>
    internal static string Read(string name)
    {
        var assembly = typeof(QueueScripts).Assembly;
        var resource = assembly.GetManifestResourceNames().Single(n => n.EndsWith(".Queue.Scripts." + name, StringComparison.Ordinal));
        using var stream = assembly.GetManifestResourceStream(resource)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd().ReplaceLineEndings("\n");
    }
}
