namespace LoadTest.Engine;

/// <summary>Why a step counted as failed.</summary>
public enum ErrorKind
{
    /// <summary>No complete response within the request timeout.</summary>
    Timeout,

    /// <summary>The target refused the TCP connection (nothing listening).</summary>
    ConnectionRefused,

    /// <summary>Any other transport failure: reset, closed mid-response, refused by the loopback guard.</summary>
    ConnectionError,

    /// <summary>A 4xx status the step did not expect.</summary>
    Http4xx,

    /// <summary>A 5xx status.</summary>
    Http5xx,
}
