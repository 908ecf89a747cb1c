using System.Diagnostics.Metrics;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Gateway.Proxy.Diagnostics;

/// <summary>
/// The proxy's own instruments: forwarding failures by cluster and YARP error kind (a backend refusing
/// connections, timing out, resetting mid-response; or no healthy destination left). Exported on
/// <c>/metrics</c> as <c>gateway_forward_errors_total{cluster, error}</c>.
/// </summary>
internal sealed class ForwardingMetrics : IDisposable
{
    public const string MeterName = "Gateway.Proxy";

    private readonly Meter _meter;
    private readonly Counter<long> _errors;

    public ForwardingMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(MeterName);
        _errors = _meter.CreateCounter<long>("gateway.forward.errors", description: "Requests YARP could not forward or complete, by cluster and error (ForwarderError).");
    }

    public void ForwardError(string cluster, ForwarderError error) =>
        _errors.Add(1, new KeyValuePair<string, object?>("cluster", cluster), new KeyValuePair<string, object?>("error", error.ToString()));

    public void Dispose() => _meter.Dispose();
}

/// <summary>Wires <see cref="ForwardingMetrics"/> into the YARP pipeline.</summary>
internal static class ForwardingMetricsExtensions
{
    /// <summary>
    /// Counts every forwarding failure of the request it wraps. Put it first in <c>MapReverseProxy</c> so it
    /// also sees requests that never reach a destination.
    /// </summary>
    public static IReverseProxyApplicationBuilder UseForwardingMetrics(this IReverseProxyApplicationBuilder pipeline)
    {
        var metrics = pipeline.ApplicationServices.GetRequiredService<ForwardingMetrics>();
        pipeline.Use(async (context, next) =>
        {
            await next(context);
            if (context.Features.Get<IForwarderErrorFeature>() is { } failure)
                metrics.ForwardError(context.Features.Get<IReverseProxyFeature>()?.Cluster?.Config.ClusterId ?? "", failure.Error);
        });
        return pipeline;
    }
}
