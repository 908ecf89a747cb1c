using System.Diagnostics;

namespace Gateway.Admission.Diagnostics;

/// <summary>The waiting room's trace source: spans for gate decisions and store calls.</summary>
public static class WaitingRoomTelemetry
{
    /// <summary>The ActivitySource name to register with OpenTelemetry.</summary>
    public const string SourceName = "Gateway.WaitingRoom";

    internal static readonly ActivitySource Source = new(SourceName);
}
