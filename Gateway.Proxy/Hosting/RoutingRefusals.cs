using Gateway.Admission.Hosting;
using Yarp.ReverseProxy.Model;

namespace Gateway.Proxy.Hosting;

/// <summary>
/// Routing's own refusals carry no body: a path nothing serves (404) and a method no endpoint of the path takes
/// (405, e.g. <c>GET /api/v1/queue/join</c>). This step answers them in the contract's error shape
/// (<c>NOT_FOUND</c>, <c>METHOD_NOT_ALLOWED</c>), like every other error of the gateway. Answers of proxied
/// routes are the backends' and pass untouched, even empty ones.
/// </summary>
internal sealed class RoutingRefusals(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context)
    {
        await next(context);
        var response = context.Response;
        if (response.HasStarted || response.StatusCode is not (StatusCodes.Status404NotFound or StatusCodes.Status405MethodNotAllowed) ||
            response.ContentType is not null || response.ContentLength is not null || context.GetEndpoint()?.Metadata.GetMetadata<RouteModel>() is not null)
            return;
        await (response.StatusCode == StatusCodes.Status404NotFound
            ? GatewayErrors.WriteNotFoundAsync(context)
            : GatewayErrors.WriteMethodNotAllowedAsync(context));
    }
}
