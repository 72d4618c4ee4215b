using CachingGen.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using static CachingGen.Redis.Tests.RedisTestEnvironment;

namespace CachingGen.Redis.Tests;

/// <summary>UseRedis: it replaces the store registration, binds options, and owns only the connections it creates.</summary>
public sealed class RedisRegistrationTests
{
    [Fact]
    public void Configuration_string_passes_credentials_and_tls_through_and_forces_fail_fast()
    {
        var options = RedisCachingGenBuilderExtensions.CreateConfiguration(
            "redis1:6380,redis2:6381,user=app,password=p@ss=word,ssl=true,sslHost=cache.example.com,abortConnect=true,defaultDatabase=2");
        Assert.Equal("app", options.User);
        Assert.Equal("p@ss=word", options.Password);
        Assert.True(options.Ssl);
        Assert.Equal("cache.example.com", options.SslHost);
        Assert.Equal(2, options.DefaultDatabase);
        Assert.Equal(2, options.EndPoints.Count);
        Assert.False(options.AbortOnConnectFail);
        Assert.Same(BacklogPolicy.FailFast, options.BacklogPolicy);
    }

    [Fact]
    public void Reads_fall_through_to_the_database_well_under_a_second_by_default()
    {
        var timeout = new RedisCacheOptions().OperationTimeout;
        Assert.InRange(timeout, TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(500));
    }

    [Fact]
    public void Arguments_are_checked()
    {
        var builder = new CachingGenBuilder(new ServiceCollection());
        Assert.Throws<ArgumentNullException>(() => builder.UseRedis((string)null!));
        Assert.Throws<ArgumentException>(() => builder.UseRedis(" "));
        Assert.Throws<ArgumentNullException>(() => builder.UseRedis((IConnectionMultiplexer)null!));
        Assert.Throws<ArgumentNullException>(() => builder.UseRedis((Func<IServiceProvider, IConnectionMultiplexer>)null!));
        Assert.Throws<ArgumentNullException>(() => ((CachingGenBuilder)null!).UseRedis("localhost"));
    }

    [Fact]
    public void Invalid_options_fail_when_the_store_is_created()
    {
        using var connection = ConnectionMultiplexer.Connect("127.0.0.1:1,abortConnect=false,connectTimeout=1");
        Assert.Throws<ArgumentOutOfRangeException>(() => new RedisCacheStore(connection, new RedisCacheOptions { OperationTimeout = TimeSpan.Zero }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RedisCacheStore(connection, new RedisCacheOptions { TombstoneLifetime = TimeSpan.Zero }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RedisCacheStore(connection, new RedisCacheOptions { Database = -2 }));
    }

    [RedisFact]
    public async Task Configuration_string_overload_replaces_the_store_and_disposes_its_own_connection()
    {
        var services = new ServiceCollection();
        services.AddSingleton<ICacheStore, DummyStore>();
        var ns = UniqueNamespace();
        new CachingGenBuilder(services).UseRedis(RequireConfiguration(), o => o.KeyNamespace = ns);
        services.Configure<RedisCacheOptions>(o => o.TombstoneLifetime = TimeSpan.FromSeconds(7));

        Assert.Single(services, d => d.ServiceType == typeof(ICacheStore));
        IConnectionMultiplexer connection;
        await using (var provider = services.BuildServiceProvider())
        {
            var store = Assert.IsType<RedisCacheStore>(provider.GetRequiredService<ICacheStore>());
            Assert.Same(store, provider.GetRequiredService<RedisCacheStore>());
            Assert.Equal(ns + "x", store.GetRedisKey("x"));
            Assert.Equal(TimeSpan.FromSeconds(7), provider.GetRequiredService<IOptions<RedisCacheOptions>>().Value.TombstoneLifetime);

            await store.SetManyAsync([new CacheEntry("x", new byte[] { 1 }, TimeSpan.FromMinutes(1))], CancellationToken.None);
            Assert.True((await store.GetAsync("x", CancellationToken.None)).Found);
            connection = provider.GetRequiredService<RedisConnectionSource>().Connection;
            Assert.True(connection.IsConnected);
        }

        Assert.False(connection.IsConnected);
    }

    [RedisFact]
    public async Task Connection_overload_uses_the_callers_connection_and_leaves_it_open()
    {
        var services = new ServiceCollection();
        var builder = new CachingGenBuilder(services).UseRedis("127.0.0.1:1");
        builder.UseRedis(Shared, o => o.KeyNamespace = UniqueNamespace());
        Assert.Single(services, d => d.ServiceType == typeof(ICacheStore));
        Assert.Single(services, d => d.ServiceType == typeof(RedisConnectionSource));

        await using (var provider = services.BuildServiceProvider())
        {
            var store = provider.GetRequiredService<ICacheStore>();
            await store.SetManyAsync([new CacheEntry("x", new byte[] { 1 }, TimeSpan.FromMinutes(1))], CancellationToken.None);
            Assert.True((await store.GetAsync("x", CancellationToken.None)).Found);
        }

        Assert.True(Shared.IsConnected);
    }

    [RedisFact]
    public async Task Factory_overload_resolves_the_connection_once_from_the_container()
    {
        var services = new ServiceCollection();
        services.AddSingleton(Shared);
        var calls = 0;
        new CachingGenBuilder(services).UseRedis(
            provider =>
            {
                Interlocked.Increment(ref calls);
                return provider.GetRequiredService<IConnectionMultiplexer>();
            },
            o => o.KeyNamespace = UniqueNamespace());

        var provider = services.BuildServiceProvider();
        var store = provider.GetRequiredService<ICacheStore>();
        Assert.Same(store, provider.GetRequiredService<ICacheStore>());
        await store.SetManyAsync([new CacheEntry("x", new byte[] { 1 }, TimeSpan.FromMinutes(1))], CancellationToken.None);
        Assert.True((await store.GetAsync("x", CancellationToken.None)).Found);
        Assert.Equal(1, calls);

        // The shared connection was registered by instance: the container does not dispose it, and neither does the store.
        await provider.DisposeAsync();
        Assert.True(Shared.IsConnected);
    }

    private sealed class DummyStore : ICacheStore
    {
        public ValueTask<CacheLookup> GetAsync(string key, CancellationToken cancellationToken) => throw new NotSupportedException();

        public ValueTask<bool> TryFillAsync(string key, ReadOnlyMemory<byte> value, TimeSpan timeToLive, long fillToken, CancellationToken cancellationToken) => throw new NotSupportedException();

        public ValueTask<bool> TryFillVersionedAsync(string key, ReadOnlyMemory<byte> value, long version, TimeSpan timeToLive, long fillToken, CancellationToken cancellationToken) => throw new NotSupportedException();

        public ValueTask<VersionedWriteOutcome[]> SetIfNewerAsync(IReadOnlyList<VersionedEntry> entries, CancellationToken cancellationToken) => throw new NotSupportedException();

        public ValueTask SetManyAsync(IReadOnlyList<CacheEntry> entries, CancellationToken cancellationToken) => throw new NotSupportedException();

        public ValueTask InvalidateAsync(IReadOnlyList<string> keys, TimeSpan? fillTimeToLive, CancellationToken cancellationToken) => throw new NotSupportedException();

        public ValueTask<bool> ExpireAsync(string key, TimeSpan timeToLive, CancellationToken cancellationToken) => throw new NotSupportedException();

        public ValueTask<long[]> BeginWritesAsync(IReadOnlyList<string> keys, TimeSpan lease, CancellationToken cancellationToken) => throw new NotSupportedException();

        public ValueTask<WriteCompletionOutcome[]> CompleteWritesAsync(IReadOnlyList<WriteCompletion> completions, CancellationToken cancellationToken) => throw new NotSupportedException();

        public ValueTask<bool[]> InvalidateUnlessPinnedAsync(IReadOnlyList<string> keys, TimeSpan? fillTimeToLive, CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}
