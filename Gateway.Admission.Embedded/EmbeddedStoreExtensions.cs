using Gateway.Admission.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Gateway.Admission.Embedded;

/// <summary>Registers the embedded store.</summary>
public static class EmbeddedStoreExtensions
{
    /// <summary>
    /// Lets the gateway run without Redis: when <c>ConnectionStrings:Redis</c> is unset it starts an in-process
    /// Garnet server (single instance only, said once in the log). Without this call the gateway requires Redis.
    /// </summary>
    public static IServiceCollection AddEmbeddedStore(this IServiceCollection services)
    {
        services.TryAddSingleton<IEmbeddedStoreFactory, EmbeddedStoreFactory>();
        return services;
    }
}
