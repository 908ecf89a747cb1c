using Gateway.Admission.Admin;
using Gateway.Admission.Adaptive;
using Gateway.Admission.Api;
using Gateway.Admission.Clients;
using Gateway.Admission.Diagnostics;
using Gateway.Admission.Gate;
using Gateway.Admission.Pages;
using Gateway.Admission.ProofOfWork;
using Gateway.Admission.Queue;
using Gateway.Admission.Rooms;
using Gateway.Admission.Storage;
using Gateway.Admission.Tokens;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Configuration;

namespace Gateway.Admission.Hosting;

/// <summary>Adds the waiting room to an ASP.NET Core host running YARP.</summary>
public static class WaitingRoomExtensions
{
    /// <summary>The health-check tag of what <c>/readyz</c> checks.</summary>
    public const string ReadinessTag = "ready";

    /// <summary>
    /// Adds the waiting room to YARP: its services (see <see cref="AddWaitingRoomCore"/>), the config filter
    /// that refuses a route gated by an unknown room, the transforms that keep the admission away from
    /// backends (and honour a backend's revoke command), the log of configuration reloads, and adaptive
    /// admission (paced by <see cref="BackendHealth"/>, which the host feeds from its forwarding handlers). Put
    /// <see cref="UseWaitingRoomGate"/> in the proxy pipeline and call <see cref="MapWaitingRoom"/>.
    /// </summary>
    public static IReverseProxyBuilder AddWaitingRoom(this IReverseProxyBuilder builder)
    {
        builder.Services.AddWaitingRoomCore();
        builder.Services.TryAddSingleton<BackendHealth>();
        builder.Services.AddHostedService<AdaptiveAdmission>();
        builder.AddConfigFilter<RouteRoomRule>();
        builder.AddTransforms<AdmissionTransforms>();
        builder.Services.AddSingleton<ConfigReloadLog>();
        builder.Services.AddSingleton<IConfigChangeListener>(sp => sp.GetRequiredService<ConfigReloadLog>());
        return builder;
    }

    /// <summary>
    /// Registers the waiting room's services without YARP: options (<c>WaitingRoom</c>, <c>WaitingRoom:Page</c>,
    /// <c>Store</c>, <c>ConnectionStrings:Redis</c>, <c>Admin</c>) validated at start-up and on every reload (an
    /// invalid edit keeps the last good values), the store connection, the queue, tokens, metrics, room
    /// maintenance, the admin API's keys and the store's readiness check.
    /// </summary>
    public static IServiceCollection AddWaitingRoomCore(this IServiceCollection services)
    {
        services.AddValidatedOptions<StoreOptions, StoreOptionsValidator>(StoreOptions.SectionName)
            .Configure<IConfiguration>((o, configuration) => o.ConnectionString = configuration.GetConnectionString("Redis"));
        services.AddValidatedOptions<WaitingRoomOptions, WaitingRoomOptionsValidator>(WaitingRoomOptions.SectionName);
        services.AddValidatedOptions<PageOptions, PageOptionsValidator>(PageOptions.SectionName);
        services.AddValidatedOptions<AdminOptions, AdminOptionsValidator>(AdminOptions.SectionName);

        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.TryAddSingleton<WaitingRoomMetrics>();
        services.TryAddSingleton<StoreConnection>();
        services.AddHostedService(sp => sp.GetRequiredService<StoreConnection>());
        services.TryAddSingleton<RoomRegistry>();
        services.TryAddSingleton<RoomSnapshots>();
        services.TryAddSingleton<KeyRing>();
        services.TryAddSingleton<WaitingTokens>();
        services.TryAddSingleton<AdmissionTokens>();
        services.TryAddSingleton<CallerIdentity>();
        services.TryAddSingleton<UserTokens>();
        services.TryAddSingleton<Challenges>();
        services.TryAddSingleton<ChallengeDifficulty>();
        services.TryAddSingleton<RevokedAdmissions>();
        services.TryAddSingleton<PendingRevocations>();
        services.TryAddSingleton<ClientRateLimits>();
        services.TryAddSingleton<IQueueStore, RedisQueueStore>();
        services.TryAddSingleton<StatusBatcher>();
        services.TryAddSingleton<QueueService>();
        services.TryAddSingleton<QueueEndpoints>();
        services.TryAddSingleton<StoreOutageFilter>();
        services.TryAddSingleton<WaitingRoomPage>();
        services.TryAddSingleton<AdminKeys>();
        services.TryAddSingleton<AdminEndpoints>();
        services.TryAddSingleton<RoomMaintenance>();
        services.AddHostedService(sp => sp.GetRequiredService<RoomMaintenance>());
        services.AddHealthChecks().AddCheck<StoreHealthCheck>("store", tags: [ReadinessTag])
            .AddCheck<RevocationsHealthCheck>("revocations", tags: [ReadinessTag]);
        return services;
    }

    /// <summary>
    /// Maps the queue API (<c>/api/v1/queue/*</c>), the waiting-room page (<c>/waiting-room/{eventId}</c>),
    /// the admin API (<c>/admin/v1/*</c>: 404 until <c>Admin:Keys</c> are configured, and only on the
    /// <c>Admin:Urls</c> ports when those are set; see <see cref="AdminListenUrls"/>) and <c>/readyz</c> (every
    /// health check tagged <see cref="ReadinessTag"/>: the store answers PING).
    /// </summary>
    public static IEndpointRouteBuilder MapWaitingRoom(this IEndpointRouteBuilder endpoints)
    {
        QueueEndpoints.Map(endpoints);
        WaitingRoomPage.Map(endpoints);
        AdminEndpoints.Map(endpoints);
        var admin = endpoints.ServiceProvider.GetRequiredService<AdminKeys>();
        Log.AdminApiState(endpoints.ServiceProvider.GetRequiredService<ILogger<AdminEndpoints>>(),
            !admin.Enabled ? "off (404) until Admin:Keys are configured"
            : admin.Ports.Count == 0 ? $"on with {admin.Count} key(s), on the public URLs"
            : $"on with {admin.Count} key(s), only on port(s) {string.Join(", ", admin.Ports.Order())}");
        endpoints.MapHealthChecks("/readyz", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(ReadinessTag),
            ResultStatusCodes = { [HealthStatus.Degraded] = StatusCodes.Status503ServiceUnavailable },
        });
        return endpoints;
    }

    /// <summary>
    /// The URLs Kestrel must listen on so the admin API is reachable: <paramref name="publicUrls"/> plus
    /// <c>Admin:Urls</c> (null when that is unset, and nothing needs to change). A host passes the result to
    /// <c>UseUrls</c>; the admin endpoints then answer only on the <c>Admin:Urls</c> ports.
    /// </summary>
    /// <param name="configuration">The host's configuration (reads <c>Admin:Urls</c>).</param>
    /// <param name="publicUrls">The URLs the host serves the public on (its <c>urls</c> setting or the default).</param>
    /// <exception cref="InvalidOperationException">An admin URL's port is also a public URL's: the admin API would answer the public.</exception>
    public static string? AdminListenUrls(IConfiguration configuration, string publicUrls)
    {
        var admin = AdminOptionsValidator.SplitUrls(configuration[AdminOptions.SectionName + ":" + nameof(AdminOptions.Urls)]);
        foreach (var url in AdminOptionsValidator.SplitUrls(publicUrls))
        {
            if (AdminOptionsValidator.TryParsePort(url) is { } port && admin.FirstOrDefault(a => AdminOptionsValidator.TryParsePort(a) == port) is { } clash)
                throw new InvalidOperationException(
                    $"Admin:Urls has '{clash}', whose port {port} the public URL '{url}' uses too: the admin API would answer the public there and share its connection cap. Give the admin API a port of its own (e.g. http://+:8081).");
        }
        return admin.Length == 0 ? null : string.Join(';', AdminOptionsValidator.SplitUrls(publicUrls).Concat(admin).Distinct(StringComparer.OrdinalIgnoreCase));
    }

    /// <summary>The ports of <c>Admin:Urls</c> (empty when it is unset): the listeners that serve operations, not the public.</summary>
    public static IReadOnlySet<int> AdminPorts(IConfiguration configuration) =>
        AdminOptionsValidator.Ports(configuration[AdminOptions.SectionName + ":" + nameof(AdminOptions.Urls)]).ToHashSet();

    /// <summary>Adds the waiting-room gate to a YARP proxy pipeline (<c>MapReverseProxy(pipeline => ...)</c>), like YARP's own steps.</summary>
    public static IReverseProxyApplicationBuilder UseWaitingRoomGate(this IReverseProxyApplicationBuilder pipeline)
    {
        pipeline.UseMiddleware<WaitingRoomGate>();
        return pipeline;
    }

    /// <summary>
    /// Options bound from <paramref name="section"/>, checked by <typeparamref name="TValidator"/> at start-up
    /// (an invalid section fails the start) and on every reload (an invalid edit is logged and ignored).
    /// </summary>
    public static OptionsBuilder<TOptions> AddValidatedOptions<TOptions, TValidator>(this IServiceCollection services, string section)
        where TOptions : class
        where TValidator : class, IValidateOptions<TOptions>
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TOptions>, TValidator>());
        services.TryAddSingleton<IOptionsMonitor<TOptions>, LastGoodOptionsMonitor<TOptions>>();
        return services.AddOptions<TOptions>().BindConfiguration(section).ValidateOnStart();
    }
}
