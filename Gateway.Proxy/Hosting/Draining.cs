using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Gateway.Proxy.Hosting;

/// <summary>
/// A graceful stop: on SIGTERM (before any service stops) readiness turns false and the gateway keeps
/// serving for <see cref="ShutdownOptions.DrainDelay"/>, so the load balancer takes it out of rotation
/// while nothing fails; then Kestrel stops accepting and lets in-flight requests finish within
/// <see cref="ShutdownOptions.Timeout"/> (the host's shutdown timeout).
/// </summary>
internal sealed partial class Draining(IOptions<ShutdownOptions> options, ILogger<Draining> logger) : IHostedLifecycleService, IHealthCheck
{
    private volatile bool _draining;

    public bool IsDraining => _draining;

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        _draining = true;
        LogDraining(logger, options.Value.DrainDelay);
        try
        {
            await Task.Delay(options.Value.DrainDelay, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // The host's shutdown timeout ran out first: stop now.
        }
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        // Degraded, not Unhealthy: /readyz answers 503 for both, but a planned stop is logged as a warning, not as an
        // error on every probe of every rollout.
        Task.FromResult(_draining ? HealthCheckResult.Degraded("draining: this instance is stopping") : HealthCheckResult.Healthy());

    [LoggerMessage(101, LogLevel.Information, "Stopping: /readyz now answers 503; still serving for {DrainDelay} before closing the listeners.")]
    private static partial void LogDraining(ILogger logger, TimeSpan drainDelay);

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
