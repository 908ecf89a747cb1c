namespace Gateway.Admission.Storage;

/// <summary>The store could not answer in time. Callers turn this into 503 + Retry-After, never into a domain answer.</summary>
public sealed class StoreUnavailableException : Exception
{
    /// <summary>Creates the exception for a failed store operation.</summary>
    public StoreUnavailableException(string operation, Exception inner)
        : base($"The store did not complete '{operation}': {inner.Message}", inner) => Operation = operation;

    /// <summary>Creates the exception without an operation.</summary>
    public StoreUnavailableException() : base("The store is unavailable.") => Operation = "";

    /// <summary>Creates the exception with a message.</summary>
    public StoreUnavailableException(string message) : base(message) => Operation = "";

    /// <summary>The store operation that failed.</summary>
    public string Operation { get; }
}
