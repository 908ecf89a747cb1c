namespace LoadTest.Engine;

/// <summary>What one measured step (one HTTP exchange) produced.</summary>
/// <param name="StatusCode">HTTP status, or null when no response arrived.</param>
/// <param name="Error">Why the step failed, or null when it succeeded.</param>
/// <param name="Body">The response body when the step asked for it, otherwise empty.</param>
/// <param name="Latency">
/// From the iteration's scheduled start (first step of an open-model iteration) or from the send
/// (later steps, closed model) to the last byte of the body.
/// </param>
public sealed record StepResult(int? StatusCode, ErrorKind? Error, byte[] Body, TimeSpan Latency)
{
    /// <summary>True when the step did not fail.</summary>
    public bool IsSuccess => Error is null;
}
