using Microsoft.Extensions.Options;

namespace Gateway.Admission.Storage;

/// <summary>Validates <c>Store</c> (and <c>ConnectionStrings:Redis</c>) at start-up and on reload, naming the key and giving an example.</summary>
internal sealed class StoreOptionsValidator : IValidateOptions<StoreOptions>
{
    public ValidateOptionsResult Validate(string? name, StoreOptions options)
    {
        var errors = new List<string>();
        if (options.OperationTimeout <= TimeSpan.Zero || options.OperationTimeout > TimeSpan.FromSeconds(30))
            errors.Add($"Store:OperationTimeout is {options.OperationTimeout}; it must be between 00:00:00.001 and 00:00:30 (e.g. 00:00:01).");
        if (options.ConnectTimeout <= TimeSpan.Zero || options.ConnectTimeout > TimeSpan.FromMinutes(1))
            errors.Add($"Store:ConnectTimeout is {options.ConnectTimeout}; it must be between 00:00:00.001 and 00:01:00 (e.g. 00:00:02).");
        if (options.ReadinessTimeout <= TimeSpan.Zero || options.ReadinessTimeout > TimeSpan.FromSeconds(30))
            errors.Add($"Store:ReadinessTimeout is {options.ReadinessTimeout}; it must be between 00:00:00.001 and 00:00:30 (e.g. 00:00:00.5).");
        if (options.StatusBatchWindow < TimeSpan.Zero || options.StatusBatchWindow > TimeSpan.FromMilliseconds(100))
            errors.Add($"Store:StatusBatchWindow is {options.StatusBatchWindow}; it must be between 00:00:00 (no wait) and 00:00:00.1 (e.g. 00:00:00.002).");
        if (!Enum.IsDefined(options.PositionIndex))
            errors.Add($"Store:PositionIndex is {options.PositionIndex}; use Auto, SortedSetRank or Tree.");
        if (!string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            try
            {
                StackExchange.Redis.ConfigurationOptions.Parse(options.ConnectionString);
            }
            catch (ArgumentException ex)
            {
                errors.Add($"ConnectionStrings:Redis is not a StackExchange.Redis configuration string ({ex.Message}); e.g. \"redis.internal:6379,password=...,ssl=true\".");
            }
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
