using System.Collections.Concurrent;
using Gateway.SampleBackends.Capacity;

namespace Gateway.SampleBackends.Diagnostics;

/// <summary>Request, served and rejected counts of one service, overall and per route.</summary>
internal sealed class BackendCounters
{
    // Keyed by endpoint, not by raw path: the set is fixed by the routes, while paths carry ids.
    private readonly ConcurrentDictionary<Endpoint, RouteCounter> _perRoute = new();
    private readonly RouteCounter _unmatched = new("(unmatched)");
    private long _requests;
    private long _served;
    private long _rejected;

    public void RequestArrived(Endpoint? endpoint)
    {
        Interlocked.Increment(ref _requests);
        var route = endpoint is null ? _unmatched : _perRoute.GetOrAdd(endpoint, static e => new RouteCounter(Describe(e)));
        route.Increment();
    }

    public void Served() => Interlocked.Increment(ref _served);

    public void Rejected() => Interlocked.Increment(ref _rejected);

    public BackendStats Snapshot(CapacityGate gate) => new(
        Served: Volatile.Read(ref _served),
        Rejected: Volatile.Read(ref _rejected),
        MaxPerSecond: gate.PeakPerSecond,
        Requests: Volatile.Read(ref _requests));

    public IReadOnlyList<RouteCount> TopRoutes(int count) =>
        _perRoute.Values.Append(_unmatched)
            .Select(r => new RouteCount(r.Label, r.Count))
            .Where(r => r.Count > 0)
            .OrderByDescending(r => r.Count)
            .ThenBy(r => r.Path, StringComparer.Ordinal)
            .Take(count)
            .ToList();

    public void Reset()
    {
        Interlocked.Exchange(ref _requests, 0);
        Interlocked.Exchange(ref _served, 0);
        Interlocked.Exchange(ref _rejected, 0);
        _unmatched.Reset();
        foreach (var route in _perRoute.Values)
        {
            route.Reset();
        }
    }

    private static string Describe(Endpoint endpoint)
    {
        var methods = endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods;
        var verb = methods is { Count: > 0 } ? string.Join(',', methods) : "ANY";
        return endpoint is RouteEndpoint route
            ? $"{verb} /{route.RoutePattern.RawText?.Trim('/')}"
            : endpoint.DisplayName ?? verb;
    }

    private sealed class RouteCounter(string label)
    {
        private long _count;

        public string Label { get; } = label;

        public long Count => Volatile.Read(ref _count);

        public void Increment() => Interlocked.Increment(ref _count);

        public void Reset() => Interlocked.Exchange(ref _count, 0);
    }
}

/// <summary>Requests to one route, e.g. <c>GET /api/reservations/{id}</c>.</summary>
internal sealed record RouteCount(string Path, long Count);
