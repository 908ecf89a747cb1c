using System.Text;
using Gateway.Admission.Adaptive;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Proxy.Forwarding;

/// <summary>
/// The client YARP forwards each cluster's requests with: YARP's pooled <see cref="SocketsHttpHandler"/> with
/// the <c>Forwarding</c> settings, wrapped in a <see cref="ResilienceHandler"/> running the cluster's pipeline
/// from <see cref="ClusterBreakers"/> (chosen per request, so a reload of <c>Resilience</c> applies without
/// rebuilding the client), over the handler that tells <see cref="BackendHealth"/> what each attempt got.
/// YARP builds a client per cluster and rebuilds it only when the cluster's HttpClient settings change.
/// </summary>
internal sealed class GatewayForwarderHttpClientFactory(
    ILogger<ForwarderHttpClientFactory> logger,
    IOptionsMonitor<ForwardingOptions> forwarding,
    ClusterBreakers breakers,
    BackendHealth health) : ForwarderHttpClientFactory(logger)
{
    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);
        var settings = forwarding.CurrentValue;
        handler.ConnectTimeout = settings.ConnectTimeout;
        handler.PooledConnectionIdleTimeout = settings.PooledConnectionIdleTimeout;
        handler.PooledConnectionLifetime = settings.PooledConnectionLifetime;
        if (context.NewConfig.MaxConnectionsPerServer is null)
            handler.MaxConnectionsPerServer = settings.MaxConnectionsPerServer;
        // Kestrel reads request header values as UTF-8 (it refuses bytes that are not). HttpClient sends only ASCII
        // unless told otherwise: a client's "X-Name: é" became an empty 502 that counted against the backend's
        // health, so anyone could mark destinations unhealthy. Forwarded as the bytes that came, unless the
        // cluster's HttpClient:RequestHeaderEncoding says otherwise.
        if (context.NewConfig.RequestHeaderEncoding is null)
            handler.RequestHeaderEncodingSelector = static (_, _) => Encoding.UTF8;
    }

    protected override HttpMessageHandler WrapHandler(ForwarderHttpClientContext context, HttpMessageHandler handler)
    {
        var clusterId = context.ClusterId;
        var observed = health.CreateHandler(clusterId);
        observed.InnerHandler = handler;
        return new ResilienceHandler(request => breakers.Pipeline(clusterId, request)) { InnerHandler = observed };
    }
}
