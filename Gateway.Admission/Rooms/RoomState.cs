namespace Gateway.Admission.Rooms;

/// <summary>A room's operating state, set live by operators through the admin API.</summary>
public enum RoomState
{
    /// <summary>Joins queue and people are admitted at the room's rate.</summary>
    Open,

    /// <summary>Joins still queue and places are held, but nobody is promoted or admitted.</summary>
    Paused,

    /// <summary>Joins are refused (403 ROOM_CLOSED); people in line are told; nobody more is admitted.</summary>
    Closed,
}
