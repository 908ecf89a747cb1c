using System.Diagnostics;

namespace Gateway.Proxy.Diagnostics;

/// <summary>
/// The trace context of every request when OpenTelemetry is not registered (nothing exports): a listener on
/// ASP.NET Core's hosting source alone, so hosting starts its per-request <see cref="Activity"/> whatever the log
/// levels say. That Activity continues a caller's <c>traceparent</c> (or starts a trace), reaches the backends
/// through the forwarder's propagator, and is the trace id of our logs and error bodies. Nothing is exported: a
/// caller's sampled flag is passed on (the Activity is marked recorded so its backends may record), an unsampled or
/// new trace only propagates.
/// Disposed with the host, so a process that runs several gateways (the tests) does not pile up listeners.
/// </summary>
internal sealed class RequestActivities : IDisposable
{
    private const string HostingSource = "Microsoft.AspNetCore";

    private readonly ActivityListener _listener;

    public RequestActivities()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == HostingSource,
            Sample = static (ref ActivityCreationOptions<ActivityContext> options) =>
                (options.Parent.TraceFlags & ActivityTraceFlags.Recorded) != 0
                    ? ActivitySamplingResult.AllDataAndRecorded
                    : ActivitySamplingResult.PropagationData,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public void Dispose() => _listener.Dispose();
}
