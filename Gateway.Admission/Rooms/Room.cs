namespace Gateway.Admission.Rooms;

/// <summary>
/// A configured room as the queue and the gate use it: immutable, rebuilt whole when configuration
/// reloads. The script arguments are precomputed because every queue call sends them.
/// </summary>
internal sealed class Room
{
    public Room(string id, RoomOptions options)
    {
        Id = id;
        Options = options;
        KeyTtl = Max(Max(options.AdmissionTtl, options.AbandonAfter), TimeSpan.FromMinutes(16)) + TimeSpan.FromMinutes(10);
        Keys = RoomKeys.For(id);
        CookieName = "wr_adm_" + id;
    }

    public string Id { get; }

    public RoomOptions Options { get; }

    /// <summary>How long the room's keys outlive its last activity (at least the 15-minute ETA window).</summary>
    public TimeSpan KeyTtl { get; }

    public RoomKeys Keys { get; }

    /// <summary>The admission cookie for this room; one per room so admissions to several rooms coexist.</summary>
    public string CookieName { get; }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
