using CachingGen;
using CachingGen.Runtime;
using CachingGen.Storage;
using CachingGen.WriteBack;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers CachingGen with dependency injection.</summary>
public static class CachingGenServiceCollectionExtensions
{
    /// <summary>
    /// Registers the CachingGen runtime (a singleton), the in-memory cache store, write-back log and ledger (each only
    /// if no other implementation is registered, so store packages can replace them), <see cref="TimeProvider.System"/>
    /// and a null logger factory when none are registered, and the write-back flusher as a hosted service.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Configures <see cref="CachingGenOptions"/>.</param>
    /// <returns>A builder to register repositories with.</returns>
    public static CachingGenBuilder AddCachingGen(this IServiceCollection services, Action<CachingGenOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<CachingGenOptions>();
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ILoggerFactory>(NullLoggerFactory.Instance);
        services.TryAddSingleton<ICacheStore>(static provider => new InMemoryCacheStore(
            provider.GetRequiredService<TimeProvider>(),
            provider.GetRequiredService<IOptions<CachingGenOptions>>().Value.TombstoneLifetime));
        services.TryAddSingleton<IWriteBackLog>(CreateInMemoryWriteBackLog);
        services.TryAddSingleton<IWriteBackTransactionFactory, InMemoryWriteBackTransactionFactory>();
        services.TryAddSingleton(static provider => new CachingGenRuntime(
            provider.GetRequiredService<ICacheStore>(),
            provider.GetRequiredService<IWriteBackLog>(),
            provider.GetRequiredService<IWriteBackTransactionFactory>(),
            provider.GetServices<IWriteBackDispatcher>(),
            provider.GetRequiredService<IOptions<CachingGenOptions>>(),
            provider.GetRequiredService<TimeProvider>(),
            provider.GetRequiredService<ILoggerFactory>(),
            provider.GetService<IServiceScopeFactory>()));
        if (!services.Any(static descriptor => descriptor.ServiceType == typeof(FlusherRegistration)))
        {
            services.AddSingleton<FlusherRegistration>();
            services.AddSingleton<IHostedService>(static provider => new FlusherHost(
                provider.GetRequiredService<CachingGenRuntime>(),
                provider.GetRequiredService<IOptions<CachingGenOptions>>().Value.RunWriteBackFlusher));
        }

        return new CachingGenBuilder(services);
    }

    /// <summary>The in-memory write-back log over the registered store, options, logging and clock.</summary>
    internal static IWriteBackLog CreateInMemoryWriteBackLog(IServiceProvider provider)
        => new InMemoryWriteBackLog(
            provider.GetRequiredService<ICacheStore>(),
            provider.GetRequiredService<IOptions<CachingGenOptions>>().Value.ShardCount,
            provider.GetRequiredService<ILoggerFactory>().CreateLogger<InMemoryWriteBackLog>(),
            provider.GetRequiredService<TimeProvider>());

    /// <summary>Marks that the flusher's hosted service is registered.</summary>
    private sealed class FlusherRegistration
    {
    }

    /// <summary>Starts and stops the runtime's flusher with the host (unless disabled by the options).</summary>
    private sealed class FlusherHost(CachingGenRuntime runtime, bool enabled) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
            => enabled ? runtime.WriteBack.StartAsync(cancellationToken) : Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken)
            => enabled ? runtime.WriteBack.StopAsync(cancellationToken) : Task.CompletedTask;
    }
}
