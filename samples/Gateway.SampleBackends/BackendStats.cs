namespace Gateway.SampleBackends;

/// <summary>A snapshot of one sample service's counters since start or the last reset.</summary>
/// <param name="Served">Requests answered with a 2xx status.</param>
/// <param name="Rejected">Requests refused with 503 because the service was over capacity.</param>
/// <param name="MaxPerSecond">
/// The most requests admitted past the capacity gate in any one-second window (fixed windows counted from
/// start-up), i.e. the peak load the service actually had to work on.
/// </param>
/// <param name="Requests">All requests to the service's APIs, admitted or not (the <c>/_backend</c> endpoints and <c>GET /</c> are not counted).</param>
public sealed record BackendStats(long Served, long Rejected, long MaxPerSecond, long Requests);
