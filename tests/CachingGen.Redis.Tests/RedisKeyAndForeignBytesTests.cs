using System.Text;
using CachingGen.Runtime;
using CachingGen.Storage;
using StackExchange.Redis;
using static CachingGen.Redis.Tests.RedisTestEnvironment;

namespace CachingGen.Redis.Tests;

/// <summary>Keys with special characters, the key to hash slot mapping, and bytes this store did not write.</summary>
public sealed class RedisKeyAndForeignBytesTests
{
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);
    private static readonly CancellationToken None = CancellationToken.None;

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    private static string Text(ReadOnlyMemory<byte> bytes) => Encoding.UTF8.GetString(bytes.Span);

    public static readonly string[] SpecialKeys =
    [
        "user:1",
        "",
        " ",
        "with space",
        "tab\tnew\nline\r",
        "nul\0char",
        "ümlaut/日本語/🙂",
        "{hash}tag",
        "}{",
        "%7B%7D",
        "a:b:c",
        "\"quotes' and \\backslash",
        "*?[glob]",
        new string('x', 10_000),
        CacheKey.Create("user", "{tenant}:x%"),
        CacheKey.Create("order", CacheKey.Part("a:b"), CacheKey.Part(42), CacheKey.Part(Guid.Empty)),
    ];

    [RedisFact]
    public async Task Keys_with_special_characters_are_distinct_and_round_trip()
    {
        var store = NewStore();
        var entries = SpecialKeys.Select((key, i) => new CacheEntry(key, Bytes($"value-{i}"), Minute)).ToArray();
        await store.SetManyAsync(entries, None);
        for (var i = 0; i < SpecialKeys.Length; i++)
        {
            var lookup = await store.GetAsync(SpecialKeys[i], None);
            Assert.True(lookup.Found, $"key {i} missing");
            Assert.Equal($"value-{i}", Text(lookup.Value));
        }

        await store.InvalidateAsync(SpecialKeys, null, None);
        for (var i = 0; i < SpecialKeys.Length; i++)
        {
            var miss = await store.GetAsync(SpecialKeys[i], None);
            Assert.False(miss.Found);
            Assert.True(await store.TryFillAsync(SpecialKeys[i], Bytes($"fill-{i}"), Minute, miss.FillToken, None));
            Assert.True(await store.ExpireAsync(SpecialKeys[i], Minute, None));
            Assert.Equal($"fill-{i}", Text((await store.GetAsync(SpecialKeys[i], None)).Value));
        }
    }

    [Theory]
    [InlineData("foo", 12182)]
    [InlineData("bar", 5061)]
    [InlineData("hello", 866)]
    [InlineData("somekey", 11058)]
    [InlineData("123456789", 12739)]
    [InlineData("{foo}bar", 12182)]
    [InlineData("{}foo", 9500)]
    [InlineData("foo{}{bar}", 8363)]
    [InlineData("a{b}c{d}", 3300)]
    [InlineData("user:%7Bx%7D", 8631)]
    [InlineData("ümlaut", 5498)]
    [InlineData("{user1000}.following", 3443)]
    public void Hash_slot_matches_redis_cluster_keyslot(string redisKey, int expected)
    {
        // Expected values: CLUSTER KEYSLOT of a cluster-enabled redis-server 7.0.
        Assert.Equal(expected, RedisCacheStore.GetHashSlot(redisKey));
    }

    [Fact]
    public void Encoded_string_parts_never_form_a_hash_tag()
    {
        using var connection = new NeverConnected();
        using var store = new RedisCacheStore(connection.Connection, new RedisCacheOptions { KeyNamespace = "myapp:", OperationTimeout = TimeSpan.FromSeconds(10) });
        var key = store.GetRedisKey(CacheKey.Create("user", "{tenant}"));
        Assert.Equal("myapp:user:%7Btenant%7D", key);
        Assert.DoesNotContain('{', key);

        // Two users whose names are the same "hash tag" land on different slots: no accidental co-location.
        var slots = Enumerable.Range(0, 64).Select(i => RedisCacheStore.GetHashSlot(store.GetRedisKey(CacheKey.Create("user", $"{{t}}{i}")))).Distinct().Count();
        Assert.True(slots > 32, $"only {slots} distinct slots");
    }

    [Theory]
    [InlineData("", 0)]
    [InlineData("app:", 0)]
    [InlineData("app:", 16)]
    [InlineData("名前:", 4)]
    public void A_cache_key_is_its_namespace_and_shard_tag_before_the_key_and_costs_no_allocation(string keyNamespace, int shards)
    {
        var layout = new RedisKeyLayout(keyNamespace, shards);
        var key = CacheKey.Create("pref", 42);
        var expected = shards == 0 ? keyNamespace + key : $"{keyNamespace}{{cg-wb:{CachingGen.WriteBack.WriteBackSharding.ShardOf(key, shards)}}}{key}";
        Assert.Equal(expected, (string?)layout.CacheKey(key));
        Assert.Equal(expected, layout.CacheKeyText(key));

        // Every read builds one: a prefix re-encoded per key would cost an array per GET.
        var redisKey = layout.CacheKey(key);
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1_000; i++)
        {
            redisKey = layout.CacheKey(key);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - allocated);
        Assert.Equal(expected, (string?)redisKey);
    }

    [RedisFact]
    public async Task Foreign_bytes_read_as_a_miss_that_a_fill_may_overwrite()
    {
        var store = NewStore();
        var db = Shared.GetDatabase();
        await db.StringSetAsync(store.GetRedisKey("foreign"), "hello from another program");
        await db.StringSetAsync(store.GetRedisKey("short-t"), "T123");
        await db.StringSetAsync(store.GetRedisKey("empty"), Array.Empty<byte>());
        await db.StringSetAsync(store.GetRedisKey("w-text"), "Wednesday is a weekday");
        await db.StringSetAsync(store.GetRedisKey("short-n"), "Nab"); // shorter than a versioned value's header

        foreach (var key in new[] { "foreign", "short-t", "empty", "w-text", "short-n" })
        {
            var miss = await store.GetAsync(key, None);
            Assert.False(miss.Found);
            Assert.False(await store.ExpireAsync(key, Minute, None));
            Assert.True(await store.TryFillAsync(key, Bytes("mine"), Minute, miss.FillToken, None), key);
            Assert.Equal("mine", Text((await store.GetAsync(key, None)).Value));
        }
    }

    [RedisFact]
    public async Task Fill_over_foreign_bytes_is_refused_after_an_invalidation()
    {
        var store = NewStore();
        await Shared.GetDatabase().StringSetAsync(store.GetRedisKey("k"), "junk");
        var miss = await store.GetAsync("k", None);
        await store.InvalidateAsync(["k"], null, None);
        Assert.False(await store.TryFillAsync("k", Bytes("stale"), Minute, miss.FillToken, None));
    }

    [RedisFact]
    public async Task Foreign_bytes_starting_with_the_value_tag_read_as_a_hit_of_the_rest()
    {
        var store = NewStore();
        await Shared.GetDatabase().StringSetAsync(store.GetRedisKey("k"), "Very foreign");
        var lookup = await store.GetAsync("k", None);
        Assert.True(lookup.Found);
        Assert.Equal("ery foreign", Text(lookup.Value));
    }

    [RedisFact]
    public async Task Key_of_another_redis_type_fails_as_unavailable()
    {
        var store = NewStore();
        await Shared.GetDatabase().HashSetAsync(store.GetRedisKey("hash"), "field", "value");
        var exception = await Assert.ThrowsAsync<CacheStoreUnavailableException>(async () => await store.GetAsync("hash", None));
        Assert.IsType<RedisServerException>(exception.InnerException);

        // A fill whose miss saw an absent key (SET NX) is refused: the key is not absent, and another program's hash is
        // never overwritten.
        Assert.False(await store.TryFillAsync("hash", Bytes("x"), Minute, 0, None));
        Assert.Equal("value", (string?)await Shared.GetDatabase().HashGetAsync(store.GetRedisKey("hash"), "field"));
    }

    /// <summary>A connection object that is never connected: enough for key computations.</summary>
    private sealed class NeverConnected : IDisposable
    {
        public NeverConnected()
        {
            var options = ConfigurationOptions.Parse("127.0.0.1:1,abortConnect=false,connectTimeout=1");
            Connection = ConnectionMultiplexer.Connect(options);
        }

        public IConnectionMultiplexer Connection { get; }

        public void Dispose() => Connection.Dispose();
    }
}
