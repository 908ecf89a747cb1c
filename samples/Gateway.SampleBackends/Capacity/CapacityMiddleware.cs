using Gateway.SampleBackends.Diagnostics;
using Gateway.SampleBackends.Http;

namespace Gateway.SampleBackends.Capacity;

/// <summary>
/// Counts each API request, turns it away with 503 when the service is over capacity, and otherwise
/// applies the artificial latency before the endpoint runs.
/// </summary>
internal sealed class CapacityMiddleware(CapacityGate gate, BackendCounters counters, TimeSpan latency, TimeProvider time)
{
    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var endpoint = context.GetEndpoint();
        if (endpoint?.Metadata.GetMetadata<Ungated>() is not null)
        {
            await next(context);
            return;
        }

        counters.RequestArrived(endpoint);
        if (!gate.TryAdmit())
        {
            counters.Rejected();
            await ApiErrors.Overloaded(context).ExecuteAsync(context);
            return;
        }

        if (latency > TimeSpan.Zero)
        {
            await Task.Delay(latency, time, context.RequestAborted);
        }

        await next(context);
        if (context.Response.StatusCode is >= 200 and < 300)
        {
            counters.Served();
        }
    }
}
