using CachingGen.Redis;
using CachingGen.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace CachingGen;

/// <summary>Registers <see cref="RedisCacheStore"/> as the <see cref="ICacheStore"/> of CachingGen.</summary>
/// <remarks>
/// Each overload removes every earlier <see cref="ICacheStore"/> registration (for example the in-memory store that
/// <c>AddCachingGen</c> registers) and adds one singleton <see cref="RedisCacheStore"/>, also resolvable as itself.
/// Options come from <c>IOptions&lt;RedisCacheOptions&gt;</c>: the <c>configure</c> argument of the overloads adds to
/// them, and so can <c>services.Configure&lt;RedisCacheOptions&gt;(...)</c> or configuration binding.
/// </remarks>
public static class RedisCachingGenBuilderExtensions
{
    /// <summary>
    /// Uses Redis through a connection this registration creates (lazily, on first resolution) and disposes with the
    /// service provider.
    /// </summary>
    /// <param name="builder">The CachingGen builder.</param>
    /// <param name="configuration">A StackExchange.Redis configuration string, e.g.
    /// <c>"redis1:6379,redis2:6379,user=app,password=...,ssl=true,sslHost=redis.example.com"</c>. It goes to
    /// <see cref="ConfigurationOptions.Parse(string)"/> unchanged (passwords, ACL users and TLS included), then two
    /// settings are forced so a cache outage fails fast instead of blocking requests: <c>AbortOnConnectFail = false</c>
    /// (the application starts while Redis is down and reconnects in the background) and
    /// <see cref="BacklogPolicy.FailFast"/> (commands fail at once while disconnected instead of queueing).
    /// The string is never logged; only endpoints are.</param>
    /// <param name="configure">Configures <see cref="RedisCacheOptions"/>; optional.</param>
    public static CachingGenBuilder UseRedis(this CachingGenBuilder builder, string configuration, Action<RedisCacheOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(configuration);

        // Parsed now so that a malformed string fails at startup rather than at first use.
        var options = CreateConfiguration(configuration);
        return Register(builder, _ => new RedisConnectionSource(ConnectionMultiplexer.Connect(options), ownsConnection: true), configure);
    }

    /// <summary>Uses Redis through <paramref name="connection"/>, which the caller owns (it is not disposed with the
    /// service provider). Configure it with <c>AbortOnConnectFail = false</c> and <see cref="BacklogPolicy.FailFast"/>
    /// for fast failure during an outage; the store bounds every operation by
    /// <see cref="RedisCacheOptions.OperationTimeout"/> either way.</summary>
    /// <param name="builder">The CachingGen builder.</param>
    /// <param name="connection">The connection to use.</param>
    /// <param name="configure">Configures <see cref="RedisCacheOptions"/>; optional.</param>
    public static CachingGenBuilder UseRedis(this CachingGenBuilder builder, IConnectionMultiplexer connection, Action<RedisCacheOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(connection);
        return Register(builder, _ => new RedisConnectionSource(connection, ownsConnection: false), configure);
    }

    /// <summary>Uses Redis through the connection <paramref name="connectionFactory"/> returns (called once, on first
    /// resolution), for example one already registered in the container. The connection is not disposed with the
    /// store: whoever created it owns it (a connection registered as a singleton is disposed by the container).</summary>
    /// <param name="builder">The CachingGen builder.</param>
    /// <param name="connectionFactory">Returns the connection to use.</param>
    /// <param name="configure">Configures <see cref="RedisCacheOptions"/>; optional.</param>
    public static CachingGenBuilder UseRedis(this CachingGenBuilder builder, Func<IServiceProvider, IConnectionMultiplexer> connectionFactory, Action<RedisCacheOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(connectionFactory);
        return Register(
            builder,
            services => new RedisConnectionSource(
                connectionFactory(services) ?? throw new InvalidOperationException("The Redis connection factory passed to UseRedis returned null."),
                ownsConnection: false),
            configure);
    }

    /// <summary>The client configuration of <see cref="UseRedis(CachingGenBuilder, string, Action{RedisCacheOptions}?)"/>.</summary>
    internal static ConfigurationOptions CreateConfiguration(string configuration)
    {
        var options = ConfigurationOptions.Parse(configuration);
        options.AbortOnConnectFail = false;
        options.BacklogPolicy = BacklogPolicy.FailFast;
        return options;
    }

    private static CachingGenBuilder Register(CachingGenBuilder builder, Func<IServiceProvider, RedisConnectionSource> source, Action<RedisCacheOptions>? configure)
    {
        var services = builder.Services;
        services.AddOptions<RedisCacheOptions>();
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.RemoveAll<RedisConnectionSource>();
        services.RemoveAll<RedisCacheStore>();
        services.RemoveAll<ICacheStore>();
        services.AddSingleton(source);
        services.AddSingleton(provider => new RedisCacheStore(
            provider.GetRequiredService<RedisConnectionSource>().Connection,
            provider.GetRequiredService<IOptions<RedisCacheOptions>>().Value,
            provider.GetService<ILogger<RedisCacheStore>>()));
        services.AddSingleton<ICacheStore>(provider => provider.GetRequiredService<RedisCacheStore>());
        return builder;
    }
}

/// <summary>The connection of the registered store, disposed with the container only when the registration created it.</summary>
internal sealed class RedisConnectionSource : IDisposable
{
    private readonly bool _ownsConnection;

    public RedisConnectionSource(IConnectionMultiplexer connection, bool ownsConnection)
    {
        Connection = connection;
        _ownsConnection = ownsConnection;
    }

    public IConnectionMultiplexer Connection { get; }

    public void Dispose()
    {
        if (_ownsConnection)
        {
            Connection.Dispose();
        }
    }
}
