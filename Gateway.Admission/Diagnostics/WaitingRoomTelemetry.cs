using System.Diagnostics;

namespace Gateway.Admission.Diagnostics;

/// <summary>The waiting room's trace source (spans for gate decisions and store calls) and meter name.</summary>
public static class WaitingRoomTelemetry
{
    /// <summary>The ActivitySource name to register with OpenTelemetry.</summary>
    public const string SourceName = "Gateway.WaitingRoom";

    /// <summary>The Meter name of the waiting room's instruments (see docs/OBSERVABILITY.md).</summary>
    public const string MeterName = "Gateway.WaitingRoom";

    internal static readonly ActivitySource Source = new(SourceName);
}
