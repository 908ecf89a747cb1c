namespace Gateway.Admission.Storage;

/// <summary>The store could not answer in time. Callers turn this into 503 + Retry-After, never into a domain answer.</summary>
public sealed class StoreUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public StoreUnavailableException()
        : base("The store is unavailable.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public StoreUnavailableException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception for a failed store operation.</summary>
    public StoreUnavailableException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
