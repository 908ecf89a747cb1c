using Gateway.Admission.Hosting;
using Gateway.Proxy.Diagnostics;
using Polly.CircuitBreaker;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Gateway.Proxy.Forwarding;

/// <summary>
/// The step of the proxy pipeline that stops requests to a cluster whose circuit breaker is open: they get
/// 503 BACKEND_UNAVAILABLE with Retry-After (what is left of the break) at once, in the error shape, before
/// load balancing, and never reach the forwarding client. A request the breaker still refuses inside the
/// client (it opened meanwhile, or it is half-open and another request is the probe) arrives here as YARP's
/// 502 with a <see cref="BrokenCircuitException"/> and is answered the same way.
/// </summary>
internal sealed class BreakerGate(RequestDelegate next, ClusterBreakers breakers, ForwardingMetrics metrics)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var cluster = context.Features.Get<IReverseProxyFeature>()?.Cluster?.Config.ClusterId;
        if (cluster is null)
        {
            await next(context);
            return;
        }
        if (breakers.IsOpen(cluster, out var retryAfter))
        {
            metrics.BreakerRejected(cluster);
            await GatewayErrors.WriteBackendUnavailableAsync(context, retryAfter);
            return;
        }

        await next(context);
        if (!context.Response.HasStarted && context.Features.Get<IForwarderErrorFeature>()?.Exception is BrokenCircuitException)
        {
            metrics.BreakerRejected(cluster);
            context.Response.Clear();
            await GatewayErrors.WriteBackendUnavailableAsync(context, breakers.IsOpen(cluster, out var left) ? left : breakers.BreakDuration(cluster));
        }
    }
}

/// <summary>Adds <see cref="BreakerGate"/> to the proxy pipeline, the YARP way.</summary>
internal static class BreakerGateExtensions
{
    public static IReverseProxyApplicationBuilder UseBreakerGate(this IReverseProxyApplicationBuilder pipeline)
    {
        pipeline.UseMiddleware<BreakerGate>();
        return pipeline;
    }
}
