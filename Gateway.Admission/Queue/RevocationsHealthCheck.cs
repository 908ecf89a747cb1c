using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Gateway.Admission.Queue;

/// <summary>
/// Readiness: this instance has read every room's revocations from the store once. Until then a freshly started
/// instance would let through admissions that every other instance refuses (ended by a leave, the admin API or
/// a backend's revoke header within the last AdmissionTtl).
/// </summary>
internal sealed class RevocationsHealthCheck(RoomMaintenance maintenance) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(maintenance.RevocationsCaughtUp
            ? HealthCheckResult.Healthy("revocations read")
            // Degraded, not Unhealthy: catching up is what every instance does right after it starts (a Warning in the log,
            // not an Error); /readyz answers 503 for both.
            : HealthCheckResult.Degraded("reading the store's revocations"));
}
