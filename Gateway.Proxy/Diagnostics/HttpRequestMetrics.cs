using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Prometheus;
using Yarp.ReverseProxy.Model;

namespace Gateway.Proxy.Diagnostics;

/// <summary>
/// Every request by route, method and status, as <c>http_requests_received_total</c> and
/// <c>http_request_duration_seconds</c>. Every label comes from a closed set, so no client can grow the
/// series: the route is the YARP route id or the gateway endpoint's pattern (both from configuration, or
/// <c>unmatched</c>), the method one of the nine standard methods or <c>OTHER</c>, the code the answer's status.
/// The label children are cached per combination, so a request costs two dictionary hits, not a label lookup.
/// </summary>
internal sealed class HttpRequestMetrics(RequestDelegate next)
{
    private static readonly string[] KnownMethods = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT"];

    private static readonly Counter Requests = Metrics.CreateCounter(
        "http_requests_received_total", "HTTP requests received, by status code, method and route.", "code", "method", "route");

    private static readonly Histogram Duration = Metrics.CreateHistogram(
        "http_request_duration_seconds", "Time to answer an HTTP request (proxied ones: to the backend's response headers), by status code, method and route.",
        new HistogramConfiguration { LabelNames = ["code", "method", "route"], Buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });

    private static readonly ConcurrentDictionary<(int Code, string Method, string Route), (Counter.Child Count, Histogram.Child Time)> Children = new();

    public async Task InvokeAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            await next(context);
        }
        finally
        {
            var key = (context.Response.StatusCode, Method(context.Request.Method), RouteLabel(context));
            if (!Children.TryGetValue(key, out var children))
            {
                var labels = new[] { key.StatusCode.ToString(CultureInfo.InvariantCulture), key.Item2, key.Item3 };
                children = Children.GetOrAdd(key, (Requests.WithLabels(labels), Duration.WithLabels(labels)));
            }
            children.Count.Inc();
            children.Time.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
    }

    /// <summary>A standard method as it is, anything else <c>OTHER</c>: a client must not choose label values.</summary>
    public static string Method(string method)
    {
        foreach (var known in KnownMethods)
        {
            if (string.Equals(method, known, StringComparison.OrdinalIgnoreCase))
                return known;
        }
        return "OTHER";
    }

    /// <summary>
    /// The <c>route</c> label: the YARP route id for proxied requests (the same id as in configuration), the
    /// route pattern for the gateway's own endpoints, <c>unmatched</c> for anything else.
    /// </summary>
    public static string RouteLabel(HttpContext context)
    {
        var endpoint = context.GetEndpoint();
        return endpoint?.Metadata.GetMetadata<RouteModel>()?.Config.RouteId
            ?? (endpoint as RouteEndpoint)?.RoutePattern.RawText
            ?? "unmatched";
    }
}
