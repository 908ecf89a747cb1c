namespace Gateway.SampleBackends.Capacity;

/// <summary>
/// Endpoint metadata for the liveness and <c>/_backend</c> endpoints: they bypass the capacity gate and the
/// counters, so observing a backend under load neither fails nor changes what is observed.
/// </summary>
internal sealed class Ungated
{
    public static readonly Ungated Instance = new();

    private Ungated()
    {
    }
}
