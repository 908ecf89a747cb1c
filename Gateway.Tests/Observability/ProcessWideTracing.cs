namespace Gateway.Tests.Observability;

/// <summary>
/// Tests whose gateways register OpenTelemetry (<see cref="TracedGateway"/>) and tests that assert what a gateway
/// without it propagates: ActivitySource listeners are process-wide, so a traced gateway's sampler would also mark
/// the other gateways' requests as sampled. The collection runs its tests one at a time.
/// </summary>
[CollectionDefinition(Name)]
public sealed class ProcessWideTracing
{
    public const string Name = "process-wide tracing";
}
