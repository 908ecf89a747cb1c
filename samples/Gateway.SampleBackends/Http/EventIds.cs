namespace Gateway.SampleBackends.Http;

/// <summary>The shape of an event id, shared by inventory and reservations (the gateway's room ids look the same).</summary>
internal static class EventIds
{
    private const int MaxLength = 64;

    public static bool IsValid(string? eventId) =>
        eventId is { Length: > 0 and <= MaxLength } && eventId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');
}
