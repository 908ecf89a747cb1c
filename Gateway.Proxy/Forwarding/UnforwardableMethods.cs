using Gateway.Admission.Hosting;

namespace Gateway.Proxy.Forwarding;

/// <summary>
/// The step of the proxy pipeline that refuses what the forwarder cannot send: <c>CONNECT</c> (a tunnel, not a request
/// to forward). Without it YARP answered 502 with an empty body and a warning, as if the backend had failed, for a
/// method the client chose. It answers 405 <c>METHOD_NOT_ALLOWED</c> in the error shape instead, after the gate, so a
/// gated route still asks for an admission first.
/// </summary>
internal sealed class UnforwardableMethods(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (!HttpMethods.IsConnect(context.Request.Method))
            return next(context);
        context.Response.Headers.Allow = "GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS, TRACE";
        return GatewayErrors.WriteMethodNotAllowedAsync(context);
    }
}

/// <summary>Adds <see cref="UnforwardableMethods"/> to the proxy pipeline, the YARP way.</summary>
internal static class UnforwardableMethodsExtensions
{
    public static IReverseProxyApplicationBuilder UseUnforwardableMethods(this IReverseProxyApplicationBuilder pipeline)
    {
        pipeline.UseMiddleware<UnforwardableMethods>();
        return pipeline;
    }
}
