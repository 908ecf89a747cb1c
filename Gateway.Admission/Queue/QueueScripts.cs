namespace Gateway.Admission.Queue;

/// <summary>
/// The queue's Lua scripts, embedded next to this file and prefixed with <c>common.lua</c>.
/// StackExchange.Redis sends them by EVALSHA once loaded and re-sends on NOSCRIPT (e.g. after a restart).
/// </summary>
internal static class QueueScripts
{
    public static readonly string Join = Load("join.lua");
    public static readonly string Status = Load("status.lua");
    public static readonly string Enter = Load("enter.lua");
    public static readonly string Leave = Load("leave.lua");
    public static readonly string Tick = Load("tick.lua");

    private static string Load(string name) => Read("common.lua") + "\n" + Read(name);

    private static string Read(string name)
    {
        var assembly = typeof(QueueScripts).Assembly;
        var resource = assembly.GetManifestResourceNames().Single(n => n.EndsWith(".Queue.Scripts." + name, StringComparison.Ordinal));
        using var stream = assembly.GetManifestResourceStream(resource)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
