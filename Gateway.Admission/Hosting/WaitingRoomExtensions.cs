using Gateway.Admission.Diagnostics;
using Gateway.Admission.Middleware;
using Gateway.Admission.Pages;
using Gateway.Admission.Queue;
using Gateway.Admission.Rooms;
using Gateway.Admission.Storage;
using Gateway.Admission.Tokens;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Gateway.Admission.Hosting;

/// <summary>Wires the waiting room into an ASP.NET Core host.</summary>
public static class WaitingRoomExtensions
{
    /// <summary>
    /// Registers the store connection (Redis from <c>ConnectionStrings:Redis</c>, else the embedded store),
    /// the queue, admission tokens, the gate, metrics and room maintenance, with options validated at start-up.
    /// </summary>
    public static IServiceCollection AddWaitingRoom(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<StoreOptions>()
            .Bind(configuration.GetSection(StoreOptions.SectionName))
            .Configure(o => o.ConnectionString = configuration.GetConnectionString("Redis"))
            .Validate(o => o.OperationTimeout > TimeSpan.Zero && o.OperationTimeout <= TimeSpan.FromSeconds(30),
                "Store:OperationTimeout must be between 00:00:00.001 and 00:00:30 (e.g. 00:00:01).")
            .Validate(o => o.ConnectTimeout > TimeSpan.Zero, "Store:ConnectTimeout must be positive (e.g. 00:00:02).")
            .ValidateOnStart();
        services.AddOptions<WaitingRoomOptions>()
            .Bind(configuration.GetSection(WaitingRoomOptions.SectionName))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<WaitingRoomOptions>, WaitingRoomOptionsValidator>();
        services.AddOptions<PageOptions>()
            .Bind(configuration.GetSection(PageOptions.SectionName))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<PageOptions>, PageOptionsValidator>();
        services.AddSingleton<WaitingRoomPage>();

        services.TryAddSingletonTimeProvider();
        services.AddMetrics();
        services.AddSingleton<WaitingRoomMetrics>();
        services.AddSingleton<StoreConnection>();
        services.AddHostedService(sp => sp.GetRequiredService<StoreConnection>());
        services.AddSingleton<RoomRegistry>();
        services.AddSingleton<RoomSnapshots>();
        services.AddSingleton<AdmissionTokens>();
        services.AddSingleton<IQueueStore, RedisQueueStore>();
        services.AddSingleton<QueueService>();
        services.AddSingleton<JoinRateLimiter>();
        services.AddSingleton<QueueEndpoints>();
        services.AddSingleton<WaitingRoomGate>();
        services.AddHostedService<RoomMaintenance>();
        return services;
    }

    /// <summary>Maps the queue API (<c>/api/v1/queue/*</c>), the waiting-room page (<c>/waiting-room/{eventId}</c>) and <c>/readyz</c> (a store PING).</summary>
    public static IEndpointRouteBuilder MapWaitingRoom(this IEndpointRouteBuilder endpoints)
    {
        QueueEndpoints.Map(endpoints);
        WaitingRoomPage.Map(endpoints);
        endpoints.MapGet("/readyz", async (StoreConnection store, IOptions<StoreOptions> options) =>
            await store.PingAsync(options.Value.ReadinessTimeout)
                ? Results.Text("ready", "text/plain")
                : Results.Text("store unreachable", "text/plain", statusCode: StatusCodes.Status503ServiceUnavailable));
        return endpoints;
    }

    /// <summary>Adds the waiting-room gate to a YARP proxy pipeline (<c>MapReverseProxy(pipeline => ...)</c>).</summary>
    public static IApplicationBuilder UseWaitingRoomGate(this IApplicationBuilder pipeline)
    {
        var gate = pipeline.ApplicationServices.GetRequiredService<WaitingRoomGate>();
        return pipeline.Use((context, next) => gate.InvokeAsync(context, () => next(context)));
    }

    private static void TryAddSingletonTimeProvider(this IServiceCollection services)
    {
        if (!services.Any(d => d.ServiceType == typeof(TimeProvider)))
            services.AddSingleton(TimeProvider.System);
    }
}
