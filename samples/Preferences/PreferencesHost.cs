using CachingGen;
using CachingGen.Redis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Preferences;

/// <summary>How an application registers the cached preference repository: CachingGen, Redis when configured, the
/// Dapper inner repository, and a start-up step that creates the table.</summary>
internal static class PreferencesHost
{
    /// <summary>Builds the host (not started: <c>StartAsync</c> creates the table).</summary>
    /// <param name="database">The database; registered as an instance, so the host does not dispose it.</param>
    /// <param name="redis">A StackExchange.Redis configuration, or null for the in-memory cache.</param>
    /// <param name="configureRedis">Redis store options (namespace, timeout).</param>
    public static IHost Build(PreferenceDatabase database, string? redis, Action<RedisCacheOptions> configureRedis)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.AddSimpleConsole(options => options.SingleLine = true);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        // This repository has no [WriteBack] method, so the in-memory write-back log's "not durable" warning does not apply.
        builder.Logging.AddFilter("CachingGen.WriteBack.InMemoryWriteBackLog", LogLevel.Error);

        var services = builder.Services;
        services.AddSingleton(database);
        services.AddHostedService<PreferenceTableInitializer>();
        var caching = services.AddCachingGen(options => options.RunWriteBackFlusher = false);
        if (redis is not null)
        {
            caching.UseRedis(redis, configureRedis);
        }

        caching.AddCachedPreferenceRepository<DapperPreferenceRepository>(ServiceLifetime.Singleton);
        return builder.Build();
    }

    /// <summary>The endpoints of a Redis configuration, without credentials (for output).</summary>
    public static string DescribeRedis(string configuration)
        => string.Join(",", ConfigurationOptions.Parse(configuration).EndPoints.Select(endpoint => endpoint.ToString()));

    /// <summary>Creates the preferences table when the host starts, if it is missing.</summary>
    private sealed class PreferenceTableInitializer(PreferenceDatabase database) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => database.EnsureTableAsync(cancellationToken);

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
