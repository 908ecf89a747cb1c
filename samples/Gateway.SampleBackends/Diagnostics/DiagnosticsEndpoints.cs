using Gateway.SampleBackends.Capacity;
using Gateway.SampleBackends.Hosting;
using Gateway.SampleBackends.Http;

namespace Gateway.SampleBackends.Diagnostics;

/// <summary>
/// <c>GET /</c> liveness and the <c>/_backend</c> endpoints tests and the load tool use to look inside a
/// service: <c>stats</c>, <c>reset</c>, <c>echo</c> and <c>capacity</c> (change the capacity at run time,
/// from loopback only).
/// </summary>
internal static class DiagnosticsEndpoints
{
    private const int TopRoutes = 20;

    public static void Map(IEndpointRouteBuilder routes, IBackendService service, CapacityGate gate, BackendCounters counters)
    {
        var group = routes.MapGroup("").WithMetadata(Ungated.Instance);
        group.MapGet("/", () => new ServiceStatus(service.Name, "ok"));
        group.MapGet("/_backend/stats", () =>
        {
            var stats = counters.Snapshot(gate);
            return new StatsResponse(
                service.Name, stats.Served, stats.Rejected, stats.Requests, stats.MaxPerSecond, gate.PerSecond, counters.TopRoutes(TopRoutes));
        });
        group.MapPost("/_backend/reset", () =>
        {
            counters.Reset();
            gate.ResetPeak();
            return Results.NoContent();
        });

        // Not under the API prefix: the gateway never forwards it, and only a caller on this machine may change it.
        group.MapPost("/_backend/capacity", async Task<IResult> (HttpContext context) =>
        {
            if (context.Connection.RemoteIpAddress is not { } remote || !System.Net.IPAddress.IsLoopback(remote))
            {
                return ApiErrors.Forbidden(context, "The capacity can only be changed from loopback.");
            }

            var change = await JsonBody.TryReadAsync<CapacityChange>(context);
            if (change is null || !double.IsFinite(change.CapacityPerSecond) || change.CapacityPerSecond <= 0 || change.CapacityPerSecond > SampleBackendsOptions.MaxCapacityPerSecond)
            {
                return ApiErrors.Invalid(context, $"capacity_per_second must be greater than 0 and at most {SampleBackendsOptions.MaxCapacityPerSecond:N0}, e.g. {{\"capacity_per_second\": 100}}.");
            }

            gate.PerSecond = change.CapacityPerSecond;
            return Results.Ok(new CapacityChange(change.CapacityPerSecond));
        });

        // Also under the API prefix, because the gateway only forwards that prefix to this service.
        group.Map("/_backend/echo", (HttpContext context) => Echo(service, context));
        group.Map(service.PathPrefix + "/_backend/echo", (HttpContext context) => Echo(service, context));
    }

    private static EchoResponse Echo(IBackendService service, HttpContext context)
    {
        var request = context.Request;
        // ?respond-header=Name:Value makes the echo answer with that header, e.g. the waiting room's
        // X-Waiting-Room-Command: revoke, as a real origin would.
        foreach (var header in request.Query["respond-header"])
        {
            var colon = header?.IndexOf(':', StringComparison.Ordinal) ?? -1;
            if (colon > 0)
                context.Response.Headers.Append(header![..colon], header[(colon + 1)..]);
        }
        return new EchoResponse(
            service.Name,
            request.Method,
            request.Scheme,
            request.Host.Value ?? "",
            request.Path.Value ?? "",
            request.QueryString.Value ?? "",
            request.Query.ToDictionary(q => q.Key, q => q.Value.ToString(), StringComparer.Ordinal),
            // Lower-case names as on HTTP/2, so callers can look up "traceparent" or "x-forwarded-for" directly.
            request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString(), StringComparer.Ordinal),
            context.Connection.RemoteIpAddress?.ToString(),
            context.Connection.LocalPort);
    }
}

/// <summary>Answer of <c>GET /</c>.</summary>
internal sealed record ServiceStatus(string Service, string Status);

/// <summary>Answer of <c>GET /_backend/stats</c>.</summary>
internal sealed record StatsResponse(
    string Service,
    long Served,
    long Rejected,
    long Requests,
    long MaxPerSecond,
    double CapacityPerSecond,
    IReadOnlyList<RouteCount> PerPath);

/// <summary>Body and answer of <c>POST /_backend/capacity</c>: requests admitted per second from now on.</summary>
internal sealed record CapacityChange(double CapacityPerSecond);

/// <summary>Answer of <c>/_backend/echo</c>: the request as this service received it.</summary>
internal sealed record EchoResponse(
    string Service,
    string Method,
    string Scheme,
    string Host,
    string Path,
    string Query,
    IReadOnlyDictionary<string, string> QueryParams,
    IReadOnlyDictionary<string, string> Headers,
    string? RemoteIp,
    int LocalPort);
