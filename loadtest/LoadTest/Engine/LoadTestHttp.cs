using System.Net;

namespace LoadTest.Engine;

/// <summary>The one HTTP client setup every run uses.</summary>
public static class LoadTestHttp
{
    /// <summary>
    /// The runtime's switch to run socket completions on the socket engine's threads rather than queue them to
    /// the thread pool (read once per process, from the environment only). The CLI sets it; see Program.cs.
    /// </summary>
    internal const string InlineCompletionsVariable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

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
            // No trace-context headers: they are not what a browser sends, and injecting them costs per request.
            ActivityHeadersPropagator = null,
        };
        return new LoadTestHttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }
}

/// <summary>
/// The client <see cref="LoadTestHttp.CreateClient"/> makes. The engine sends through <see cref="Invoker"/>,
/// straight to the handler: HttpClient's own per-request work (a linked cancellation source, its timeout and
/// pending-request bookkeeping), which the engine does not need since it has its own timeouts, cost ~400 bytes
/// and ~15% of the tool's CPU per request in a closed loop against nginx.
/// </summary>
internal sealed class LoadTestHttpClient(SocketsHttpHandler handler) : HttpClient(handler)
{
    public HttpMessageInvoker Invoker { get; } = new(handler, disposeHandler: false);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Invoker.Dispose();
        }

        base.Dispose(disposing);
    }
}
