using System.Net;

namespace LoadTest.Engine;

/// <summary>The one HTTP client setup every run uses.</summary>
public static class LoadTestHttp
{
    /// <summary>
    /// A client over one shared <see cref="SocketsHttpHandler"/> that connects to loopback only, keeps
    /// no cookies and follows no redirects (both would change what is being measured), and has no
    /// client-wide timeout (each step has its own, see <see cref="LoadRunOptions.RequestTimeout"/>).
    /// </summary>
    /// <param name="maxConnectionsPerServer">Upper bound on open connections to one host:port.</param>
    public static HttpClient CreateClient(int maxConnectionsPerServer)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxConnectionsPerServer, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxConnectionsPerServer, LoadLimits.MaxConcurrency);
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = maxConnectionsPerServer,
            // Connections are recycled eventually, as a long-lived client would, but rarely enough that
            // reconnects do not show up in a run's latency.
            PooledConnectionLifetime = TimeSpan.FromMinutes(10),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            ConnectTimeout = TimeSpan.FromSeconds(5),
            UseProxy = false,
            // Admission travels explicitly in X-Admission-Token; a shared cookie jar would hand one user's
            // admission cookie to every virtual user.
            UseCookies = false,
            // A 302 to the waiting room is an answer to count, not to follow.
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectCallback = LoopbackGuard.ConnectAsync,
        };
        return new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }
}
