using Microsoft.Extensions.Options;

namespace Gateway.Proxy.Forwarding;

/// <summary>Validates <c>Resilience</c> at start-up and on reload, naming the key and giving an example.</summary>
internal sealed class ResilienceOptionsValidator : IValidateOptions<ResilienceOptions>
{
    public ValidateOptionsResult Validate(string? name, ResilienceOptions options)
    {
        var errors = new List<string>();
        foreach (var (id, cluster) in options.Clusters)
        {
            var key = $"Resilience:Clusters:{id}";
            if (string.IsNullOrWhiteSpace(id))
                errors.Add("Resilience:Clusters: a cluster id is empty; use the YARP cluster id (e.g. Resilience:Clusters:inventory).");
            if (cluster.AttemptTimeout < TimeSpan.FromMilliseconds(10) || cluster.AttemptTimeout > TimeSpan.FromHours(1))
                errors.Add($"{key}:AttemptTimeout is {cluster.AttemptTimeout}; it must be between 00:00:00.010 and 01:00:00 (e.g. 00:00:05).");
            if (cluster.MaxRetries is < 0 or > 10)
                errors.Add($"{key}:MaxRetries is {cluster.MaxRetries}; it must be between 0 and 10 (e.g. 1); only safe requests are ever retried.");
            if (!(cluster.FailureRatio > 0) || cluster.FailureRatio > 1)
                errors.Add($"{key}:FailureRatio is {cluster.FailureRatio}; it must be > 0 and <= 1 (e.g. 0.5; 1 with MinimumThroughput N opens after N failures in a row).");
            if (cluster.MinimumThroughput is < 2 or > 1_000_000)
                errors.Add($"{key}:MinimumThroughput is {cluster.MinimumThroughput}; it must be between 2 and 1000000 attempts (e.g. 20).");
            if (cluster.SamplingDuration < TimeSpan.FromSeconds(1) || cluster.SamplingDuration > TimeSpan.FromHours(1))
                errors.Add($"{key}:SamplingDuration is {cluster.SamplingDuration}; it must be between 00:00:01 and 01:00:00 (e.g. 00:00:10).");
            if (cluster.BreakDuration < TimeSpan.FromSeconds(1) || cluster.BreakDuration > TimeSpan.FromHours(1))
                errors.Add($"{key}:BreakDuration is {cluster.BreakDuration}; it must be between 00:00:01 and 01:00:00 (e.g. 00:00:05).");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
