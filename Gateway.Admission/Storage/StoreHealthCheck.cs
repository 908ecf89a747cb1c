using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Gateway.Admission.Storage;

/// <summary>Readiness: the store (on a Redis Cluster, any one master) answers a PING within <see cref="StoreOptions.ReadinessTimeout"/>.</summary>
internal sealed class StoreHealthCheck(StoreConnection store, IOptions<StoreOptions> options) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        await store.PingAsync(options.Value.ReadinessTimeout)
            ? HealthCheckResult.Healthy("store reachable")
            : HealthCheckResult.Unhealthy("store unreachable");
}
