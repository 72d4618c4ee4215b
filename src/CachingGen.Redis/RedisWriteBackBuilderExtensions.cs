using CachingGen.Redis;
using CachingGen.WriteBack;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CachingGen;

/// <summary>Registers <see cref="RedisWriteBackLog"/> as the durable write-back log.</summary>
public static class RedisWriteBackBuilderExtensions
{
    /// <summary>
    /// Uses the durable Redis Streams write-back log on the connection of <c>UseRedis</c> (call that first). Every
    /// cache key then carries its write-back shard's hash tag (<see cref="RedisCacheOptions.WriteBackShardCount"/> is
    /// set to <c>CachingGenOptions.ShardCount</c>); all processes sharing the Redis must use the same shard count.
    /// A hosted service runs the start-up checks (<see cref="RedisWriteBackLog.InitializeAsync"/>) before the
    /// flusher starts, so a server that cannot keep the chosen durability stops the application with the fix (a server
    /// that does not answer at start-up does not: the checks then run with the first write-back operation).
    /// </summary>
    /// <param name="builder">The CachingGen builder.</param>
    /// <param name="configure">Configures <see cref="RedisWriteBackOptions"/>; optional.</param>
    public static CachingGenBuilder UseRedisWriteBackLog(this CachingGenBuilder builder, Action<RedisWriteBackOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        if (!services.Any(static descriptor => descriptor.ServiceType == typeof(RedisCacheStore)))
        {
            throw new InvalidOperationException("UseRedisWriteBackLog needs the Redis cache store: call UseRedis(...) before UseRedisWriteBackLog(...).");
        }

        services.AddOptions<RedisWriteBackOptions>();
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.AddOptions<RedisCacheOptions>().PostConfigure<IOptions<CachingGenOptions>>(
            static (redis, cachingGen) => redis.WriteBackShardCount = cachingGen.Value.ShardCount);
        services.RemoveAll<IWriteBackLog>();
        services.RemoveAll<RedisWriteBackLog>();
        services.AddSingleton(static provider => new RedisWriteBackLog(
            provider.GetRequiredService<RedisConnectionSource>().Connection,
            provider.GetRequiredService<RedisCacheStore>(),
            provider.GetRequiredService<IOptions<CachingGenOptions>>().Value.ShardCount,
            provider.GetRequiredService<IOptions<RedisWriteBackOptions>>().Value,
            provider.GetService<ILogger<RedisWriteBackLog>>(),
            provider.GetService<TimeProvider>()));
        services.AddSingleton<IWriteBackLog>(static provider => provider.GetRequiredService<RedisWriteBackLog>());
        if (!services.Any(static descriptor => descriptor.ImplementationType == typeof(RedisWriteBackStartup)))
        {
            // First, so the checks run before the flusher (registered by AddCachingGen) starts.
            services.Insert(0, ServiceDescriptor.Singleton<IHostedService, RedisWriteBackStartup>());
        }

        return builder;
    }

    /// <summary>Runs the log's start-up checks when the host starts.</summary>
    private sealed class RedisWriteBackStartup(RedisWriteBackLog log) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => log.InitializeAtStartupAsync(cancellationToken);

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
