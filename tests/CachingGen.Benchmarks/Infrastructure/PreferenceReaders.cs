using System.Buffers;
using System.Globalization;
using CachingGen.Benchmarks.Entities;
using CachingGen.Generated;
using CachingGen.Redis;
using CachingGen.Runtime;
using MessagePack;
using MessagePack.Resolvers;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;
using ZiggyCreatures.Caching.Fusion;
using ZiggyCreatures.Caching.Fusion.Serialization;
using DistributedRedisCacheOptions = Microsoft.Extensions.Caching.StackExchangeRedis.RedisCacheOptions;

namespace CachingGen.Benchmarks.Infrastructure;

/// <summary>Where a contender keeps its entries.</summary>
public enum CacheLevel
{
    /// <summary>In process only: CachingGen's in-memory store, HybridCache and FusionCache without a distributed level.</summary>
    Memory,

    /// <summary>Redis only: the libraries' local levels are disabled or bypassed.</summary>
    Redis,

    /// <summary>Redis behind each library's own local level (CachingGen has none: its store is Redis).</summary>
    RedisWithLocal,
}

/// <summary>
/// One read-through of a preference (<c>GetAsync(id)</c>: a hit returns the cached value, a miss loads it from the
/// inner repository and stores it), built with one library. Every contender uses the same payload, the same key text
/// and, where the library allows, the same serializer: the CachingGen-generated MessagePack formatters.
/// </summary>
public abstract class PreferenceReader : IAsyncDisposable
{
    /// <summary>Time to live of the entries a miss stores.</summary>
    public static readonly TimeSpan FillTimeToLive = TimeSpan.FromSeconds(10);

    /// <summary>Time to live of the entries the read-hit benchmarks seed.</summary>
    public static readonly TimeSpan SeedTimeToLive = TimeSpan.FromHours(1);

    public abstract ValueTask<Preference?> GetAsync(long userId);

    /// <summary>Puts <paramref name="preference"/> in the cache the way the library writes.</summary>
    public abstract ValueTask SeedAsync(Preference preference);

    public virtual ValueTask DisposeAsync() => ValueTask.CompletedTask;

    protected static string KeyOf(long userId) => string.Concat("pref:", userId.ToString(CultureInfo.InvariantCulture));

    public static PreferenceReader Generated(CacheLevel level, IPreferenceRepository inner) => new GeneratedReader(level, inner);

    /// <summary>The generated decorator on <see cref="RedisCacheStore"/> over <paramref name="connection"/>, which the
    /// caller owns.</summary>
    public static PreferenceReader Generated(IConnectionMultiplexer connection, IPreferenceRepository inner) => new GeneratedReader(connection, ownsConnection: false, inner);

    public static PreferenceReader HandWrittenRedis(IPreferenceRepository inner) => new HandWrittenRedisReader(inner, RedisBenchmarkEnvironment.Connect(), ownsConnection: true);

    /// <summary>The hand-written baseline over <paramref name="connection"/>, which the caller owns.</summary>
    public static PreferenceReader HandWrittenRedis(IConnectionMultiplexer connection, IPreferenceRepository inner) => new HandWrittenRedisReader(inner, connection, ownsConnection: false);

    public static PreferenceReader HybridCache(CacheLevel level, IPreferenceRepository inner) => new HybridCacheReader(level, inner);

    public static PreferenceReader FusionCache(CacheLevel level, IPreferenceRepository inner) => new FusionCacheReader(level, inner);

    private static string Namespace(string contender) => RedisBenchmarkEnvironment.RunPrefix + contender + ":";

    /// <summary>The generated decorator on CachingGen's in-memory store or on <see cref="RedisCacheStore"/>.</summary>
    private sealed class GeneratedReader : PreferenceReader
    {
        private readonly ServiceProvider _services;
        private readonly IPreferenceRepository _decorator;

        /// <summary>The connection this reader made (and disposes); null on the in-memory store or a caller's connection.</summary>
        private readonly IConnectionMultiplexer? _ownConnection;

        public GeneratedReader(CacheLevel level, IPreferenceRepository inner)
            : this(level == CacheLevel.Memory ? null : RedisBenchmarkEnvironment.Connect(), ownsConnection: true, inner)
        {
        }

        public GeneratedReader(IConnectionMultiplexer? connection, bool ownsConnection, IPreferenceRepository inner)
        {
            _ownConnection = ownsConnection ? connection : null;
            var services = new ServiceCollection();
            var builder = services.AddCachingGen(options => options.RunWriteBackFlusher = false);
            if (connection is not null)
            {
                // A loaded two-core machine can exceed the 250 ms outage threshold; a benchmark must not fail on it.
                builder.UseRedis(connection, options =>
                {
                    options.KeyNamespace = Namespace("cachinggen");
                    options.OperationTimeout = TimeSpan.FromSeconds(10);
                });
            }

            _services = services.BuildServiceProvider();
            _decorator = new CachedPreferenceRepository(inner, _services.GetRequiredService<CachingGenRuntime>());
        }

        public override ValueTask<Preference?> GetAsync(long userId) => _decorator.GetAsync(userId);

        public override ValueTask SeedAsync(Preference preference) => new(_decorator.SaveAsync(preference));

        public override async ValueTask DisposeAsync()
        {
            await _services.DisposeAsync().ConfigureAwait(false);
            _ownConnection?.Dispose();
        }
    }

    /// <summary>What a developer writes by hand: StringGetAsync + MessagePack deserialize; on a miss the inner call and
    /// a StringSetAsync with the time to live. No envelope, no single-flight, no metrics.</summary>
    private sealed class HandWrittenRedisReader(IPreferenceRepository inner, IConnectionMultiplexer connection, bool ownsConnection) : PreferenceReader
    {
        private static readonly MessagePackSerializerOptions Options = CachingGenFormatterResolver.Options;
        private readonly IConnectionMultiplexer _connection = connection;
        private readonly string _namespace = Namespace("handwritten");
        private IDatabase? _database;

        private IDatabase Database => _database ??= _connection.GetDatabase();

        public override async ValueTask<Preference?> GetAsync(long userId)
        {
            var key = new RedisKey(string.Concat(_namespace, KeyOf(userId)));
            var stored = await Database.StringGetAsync(key).ConfigureAwait(false);
            if (!stored.IsNull)
            {
                return MessagePackSerializer.Deserialize<Preference>((ReadOnlyMemory<byte>)stored, Options);
            }

            var loaded = await inner.GetAsync(userId).ConfigureAwait(false);
            if (loaded is not null)
            {
                await Database.StringSetAsync(key, MessagePackSerializer.Serialize(loaded, Options), FillTimeToLive).ConfigureAwait(false);
            }

            return loaded;
        }

        public override async ValueTask SeedAsync(Preference preference)
            => await Database.StringSetAsync(
                new RedisKey(string.Concat(_namespace, KeyOf(preference.UserId))), MessagePackSerializer.Serialize(preference, Options), SeedTimeToLive).ConfigureAwait(false);

        public override ValueTask DisposeAsync()
        {
            if (ownsConnection)
            {
                _connection.Dispose();
            }

            return ValueTask.CompletedTask;
        }
    }

    /// <summary>Microsoft.Extensions.Caching.Hybrid with Redis (Microsoft.Extensions.Caching.StackExchangeRedis) as L2
    /// and the generated formatters as its serializer. <see cref="CacheLevel.Redis"/> disables the local cache.</summary>
    private sealed class HybridCacheReader : PreferenceReader
    {
        private readonly ServiceProvider _services;
        private readonly HybridCache _cache;
        private readonly HybridCacheEntryOptions _fill;
        private readonly HybridCacheEntryOptions _seed;
        private readonly IPreferenceRepository _inner;

        public HybridCacheReader(CacheLevel level, IPreferenceRepository inner)
        {
            _inner = inner;
            var services = new ServiceCollection();
            if (level != CacheLevel.Memory)
            {
                services.AddStackExchangeRedisCache(options =>
                {
                    // RedisCache owns (and disposes) the connection its factory returns.
                    options.ConnectionMultiplexerFactory = () => Task.FromResult<IConnectionMultiplexer>(RedisBenchmarkEnvironment.Connect());
                    options.InstanceName = Namespace("hybrid");
                });
            }

            services.AddHybridCache().AddSerializer<Preference?, GeneratedHybridSerializer<Preference?>>();
            _services = services.BuildServiceProvider();
            _cache = _services.GetRequiredService<HybridCache>();
            var flags = level == CacheLevel.Redis ? HybridCacheEntryFlags.DisableLocalCache : HybridCacheEntryFlags.None;
            _fill = new HybridCacheEntryOptions { Expiration = FillTimeToLive, LocalCacheExpiration = FillTimeToLive, Flags = flags };
            _seed = new HybridCacheEntryOptions { Expiration = SeedTimeToLive, LocalCacheExpiration = SeedTimeToLive, Flags = flags };
        }

        public override ValueTask<Preference?> GetAsync(long userId)
            => _cache.GetOrCreateAsync(KeyOf(userId), (Inner: _inner, UserId: userId), static (state, ct) => state.Inner.GetAsync(state.UserId, ct), _fill);

        public override ValueTask SeedAsync(Preference preference) => _cache.SetAsync<Preference?>(KeyOf(preference.UserId), preference, _seed);

        public override ValueTask DisposeAsync() => _services.DisposeAsync();
    }

    /// <summary>ZiggyCreatures.FusionCache with Redis (the same RedisCache) as its distributed level.
    /// <see cref="CacheLevel.Redis"/> skips the memory level for reads and writes.</summary>
    private sealed class FusionCacheReader : PreferenceReader
    {
        private readonly FusionCache _cache;
        private readonly RedisCache? _distributed;
        private readonly FusionCacheEntryOptions _fill;
        private readonly FusionCacheEntryOptions _seed;
        private readonly IPreferenceRepository _inner;

        public FusionCacheReader(CacheLevel level, IPreferenceRepository inner)
        {
            _inner = inner;
            _cache = new FusionCache(new FusionCacheOptions { CacheName = "bench" });
            if (level != CacheLevel.Memory)
            {
                _distributed = new RedisCache(Microsoft.Extensions.Options.Options.Create(new DistributedRedisCacheOptions
                {
                    ConnectionMultiplexerFactory = () => Task.FromResult<IConnectionMultiplexer>(RedisBenchmarkEnvironment.Connect()),
                    InstanceName = Namespace("fusion"),
                }));
                _cache.SetupDistributedCache(_distributed, new GeneratedFusionSerializer());
            }

            var skipMemory = level == CacheLevel.Redis;
            _fill = new FusionCacheEntryOptions { Duration = FillTimeToLive, SkipMemoryCacheRead = skipMemory, SkipMemoryCacheWrite = skipMemory };
            _seed = new FusionCacheEntryOptions { Duration = SeedTimeToLive, SkipMemoryCacheRead = skipMemory, SkipMemoryCacheWrite = skipMemory };
        }

        public override ValueTask<Preference?> GetAsync(long userId)
        {
            var inner = _inner;
            return _cache.GetOrSetAsync<Preference?>(KeyOf(userId), (_, ct) => inner.GetAsync(userId, ct).AsTask(), default, _fill);
        }

        public override ValueTask SeedAsync(Preference preference) => _cache.SetAsync<Preference?>(KeyOf(preference.UserId), preference, _seed);

        public override ValueTask DisposeAsync()
        {
            _cache.Dispose();
            _distributed?.Dispose();
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>HybridCache's serializer hook, bound to the generated formatters.</summary>
    private sealed class GeneratedHybridSerializer<T> : IHybridCacheSerializer<T>
    {
        public T Deserialize(ReadOnlySequence<byte> source) => MessagePackSerializer.Deserialize<T>(source, CachingGenFormatterResolver.Options);

        public void Serialize(T value, IBufferWriter<byte> target) => MessagePackSerializer.Serialize(target, value, CachingGenFormatterResolver.Options);
    }

    /// <summary>
    /// FusionCache serializes its own distributed entry type (value, timestamps, tags, metadata) around the value, so
    /// its serializer must handle that type: the generated formatters write the value, MessagePack's contractless
    /// resolver writes FusionCache's wrapper (a public type we do not generate for).
    /// </summary>
    private sealed class GeneratedFusionSerializer : IFusionCacheSerializer
    {
        private static readonly MessagePackSerializerOptions Options = MessagePackSerializerOptions.Standard
            .WithResolver(CompositeResolver.Create(CachingGenFormatterResolver.Instance, ContractlessStandardResolver.Instance));

        public byte[] Serialize<T>(T? obj) => MessagePackSerializer.Serialize(obj, Options);

        public T? Deserialize<T>(byte[] data) => MessagePackSerializer.Deserialize<T>(data, Options);

        public ValueTask<byte[]> SerializeAsync<T>(T? obj, CancellationToken token = default) => new(Serialize(obj));

        public ValueTask<T?> DeserializeAsync<T>(byte[] data, CancellationToken token = default) => new(Deserialize<T>(data));
    }
}
