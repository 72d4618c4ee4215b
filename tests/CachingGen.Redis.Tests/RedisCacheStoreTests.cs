using System.Text;
using CachingGen.Storage;
using StackExchange.Redis;
using static CachingGen.Redis.Tests.RedisTestEnvironment;

namespace CachingGen.Redis.Tests;

/// <summary>The <see cref="ICacheStore"/> contract on the real Redis: lookups, fills, writes, invalidations, expiry.</summary>
public sealed class RedisCacheStoreTests
{
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);
    private static readonly CancellationToken None = CancellationToken.None;

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    private static string Text(ReadOnlyMemory<byte> bytes) => Encoding.UTF8.GetString(bytes.Span);

    [RedisFact]
    public async Task Absent_key_is_a_miss_with_token_zero()
    {
        var store = NewStore();
        var lookup = await store.GetAsync("user:1", None);
        Assert.False(lookup.Found);
        Assert.Equal(0, lookup.FillToken);
        Assert.Null(lookup.FillTimeToLive);
    }

    [RedisFact]
    public async Task Fill_after_a_miss_is_stored_and_read_back_as_a_hit_with_its_ttl()
    {
        var store = NewStore();
        var miss = await store.GetAsync("user:1", None);
        Assert.True(await store.TryFillAsync("user:1", Bytes("alice"), Minute, miss.FillToken, None));

        var hit = await store.GetAsync("user:1", None);
        Assert.True(hit.Found);
        Assert.Equal("alice", Text(hit.Value));

        var ttl = await Shared.GetDatabase().KeyTimeToLiveAsync(store.GetRedisKey("user:1"));
        Assert.NotNull(ttl);
        Assert.InRange(ttl.Value, TimeSpan.FromSeconds(50), Minute);
    }

    [RedisFact]
    public async Task Second_fill_with_the_same_token_is_refused()
    {
        var store = NewStore();
        var miss = await store.GetAsync("k", None);
        Assert.True(await store.TryFillAsync("k", Bytes("first"), Minute, miss.FillToken, None));
        Assert.False(await store.TryFillAsync("k", Bytes("second"), Minute, miss.FillToken, None));
        Assert.Equal("first", Text((await store.GetAsync("k", None)).Value));
    }

    [RedisFact]
    public async Task Fill_is_refused_after_a_set_made_since_the_miss()
    {
        var store = NewStore();
        var miss = await store.GetAsync("k", None);
        await store.SetManyAsync([new CacheEntry("k", Bytes("written"), Minute)], None);
        Assert.False(await store.TryFillAsync("k", Bytes("stale"), Minute, miss.FillToken, None));
        Assert.Equal("written", Text((await store.GetAsync("k", None)).Value));
    }

    [RedisFact]
    public async Task Fill_is_refused_after_an_invalidation_made_since_the_miss_and_accepted_with_the_new_token()
    {
        var store = NewStore();
        var miss = await store.GetAsync("k", None);
        await store.InvalidateAsync(["k"], null, None);
        Assert.False(await store.TryFillAsync("k", Bytes("stale"), Minute, miss.FillToken, None));

        var afterInvalidate = await store.GetAsync("k", None);
        Assert.False(afterInvalidate.Found);
        Assert.NotEqual(0, afterInvalidate.FillToken);
        Assert.True(await store.TryFillAsync("k", Bytes("fresh"), Minute, afterInvalidate.FillToken, None));
        Assert.Equal("fresh", Text((await store.GetAsync("k", None)).Value));
    }

    [RedisFact]
    public async Task Fill_with_the_token_of_an_older_tombstone_is_refused()
    {
        var store = NewStore();
        await store.InvalidateAsync(["k"], null, None);
        var first = await store.GetAsync("k", None);
        await store.InvalidateAsync(["k"], null, None);
        var second = await store.GetAsync("k", None);
        Assert.NotEqual(first.FillToken, second.FillToken);
        Assert.False(await store.TryFillAsync("k", Bytes("stale"), Minute, first.FillToken, None));
        Assert.True(await store.TryFillAsync("k", Bytes("fresh"), Minute, second.FillToken, None));
    }

    [RedisFact]
    public async Task Fill_with_token_zero_is_refused_on_a_tombstone()
    {
        var store = NewStore();
        await store.InvalidateAsync(["k"], null, None);
        Assert.False(await store.TryFillAsync("k", Bytes("stale"), Minute, 0, None));
    }

    [RedisFact]
    public async Task Invalidation_replaces_a_value_and_hands_out_the_fill_time_to_live()
    {
        var store = NewStore();
        await store.SetManyAsync([new CacheEntry("a", Bytes("1"), null), new CacheEntry("b", Bytes("2"), Minute)], None);
        var fillTtl = TimeSpan.FromMinutes(5) + TimeSpan.FromTicks(1234);
        await store.InvalidateAsync(["a", "b", "never-set"], fillTtl, None);

        foreach (var key in new[] { "a", "b", "never-set" })
        {
            var lookup = await store.GetAsync(key, None);
            Assert.False(lookup.Found);
            Assert.NotEqual(0, lookup.FillToken);
            Assert.Equal(fillTtl, lookup.FillTimeToLive);

            // The tombstone lives max(fillTimeToLive, TombstoneLifetime) = 5 minutes.
            var ttl = await Shared.GetDatabase().KeyTimeToLiveAsync(store.GetRedisKey(key));
            Assert.NotNull(ttl);
            Assert.InRange(ttl.Value, TimeSpan.FromMinutes(4.5), TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(1));
        }
    }

    [RedisFact]
    public async Task Tombstone_without_fill_ttl_lives_the_tombstone_lifetime()
    {
        var store = NewStore(configure: o => o.TombstoneLifetime = TimeSpan.FromSeconds(42));
        await store.InvalidateAsync(["k"], TimeSpan.FromSeconds(1), None);
        var ttl = await Shared.GetDatabase().KeyTimeToLiveAsync(store.GetRedisKey("k"));
        Assert.NotNull(ttl);
        Assert.InRange(ttl.Value, TimeSpan.FromSeconds(40), TimeSpan.FromSeconds(42));
        Assert.Equal(TimeSpan.FromSeconds(1), (await store.GetAsync("k", None)).FillTimeToLive);

        await store.InvalidateAsync(["k2"], null, None);
        Assert.Null((await store.GetAsync("k2", None)).FillTimeToLive);
    }

    [RedisFact]
    public async Task Set_many_stores_values_with_their_ttls_and_pins_null_ttl()
    {
        var store = NewStore();
        await store.SetManyAsync(
        [
            new CacheEntry("ttl", Bytes("t"), TimeSpan.FromSeconds(30)),
            new CacheEntry("pinned", Bytes("p"), null),
        ], None);

        var db = Shared.GetDatabase();
        Assert.Equal("t", Text((await store.GetAsync("ttl", None)).Value));
        Assert.Equal("p", Text((await store.GetAsync("pinned", None)).Value));
        var ttl = await db.KeyTimeToLiveAsync(store.GetRedisKey("ttl"));
        Assert.NotNull(ttl);
        Assert.InRange(ttl.Value, TimeSpan.FromSeconds(25), TimeSpan.FromSeconds(30));
        Assert.Null(await db.KeyTimeToLiveAsync(store.GetRedisKey("pinned")));
        Assert.True(await db.KeyExistsAsync(store.GetRedisKey("pinned")));
    }

    [RedisFact]
    public async Task Set_many_with_null_ttl_pins_an_entry_that_had_a_ttl()
    {
        var store = NewStore();
        await store.SetManyAsync([new CacheEntry("k", Bytes("1"), Minute)], None);
        await store.SetManyAsync([new CacheEntry("k", Bytes("2"), null)], None);
        Assert.Null(await Shared.GetDatabase().KeyTimeToLiveAsync(store.GetRedisKey("k")));
        Assert.Equal("2", Text((await store.GetAsync("k", None)).Value));
    }

    [RedisFact]
    public async Task Set_many_overwrites_a_tombstone_and_voids_its_token()
    {
        var store = NewStore();
        await store.InvalidateAsync(["k"], null, None);
        var miss = await store.GetAsync("k", None);
        await store.SetManyAsync([new CacheEntry("k", Bytes("written"), Minute)], None);
        Assert.False(await store.TryFillAsync("k", Bytes("stale"), Minute, miss.FillToken, None));
        Assert.Equal("written", Text((await store.GetAsync("k", None)).Value));
    }

    [RedisFact]
    public async Task Expire_gives_a_value_a_ttl_and_returns_false_without_a_value()
    {
        var store = NewStore();
        var db = Shared.GetDatabase();
        await store.SetManyAsync([new CacheEntry("pinned", Bytes("p"), null)], None);
        await store.InvalidateAsync(["tomb"], null, None);

        Assert.True(await store.ExpireAsync("pinned", TimeSpan.FromSeconds(30), None));
        var ttl = await db.KeyTimeToLiveAsync(store.GetRedisKey("pinned"));
        Assert.NotNull(ttl);
        Assert.InRange(ttl.Value, TimeSpan.FromSeconds(25), TimeSpan.FromSeconds(30));

        Assert.False(await store.ExpireAsync("absent", TimeSpan.FromSeconds(30), None));
        Assert.False(await db.KeyExistsAsync(store.GetRedisKey("absent")));

        var tombTtlBefore = await db.KeyTimeToLiveAsync(store.GetRedisKey("tomb"));
        Assert.False(await store.ExpireAsync("tomb", TimeSpan.FromSeconds(1), None));
        var tombTtlAfter = await db.KeyTimeToLiveAsync(store.GetRedisKey("tomb"));
        Assert.NotNull(tombTtlAfter);
        Assert.True(tombTtlAfter > TimeSpan.FromSeconds(30), $"the tombstone's ttl was changed: {tombTtlBefore} -> {tombTtlAfter}");
    }

    [RedisFact]
    public async Task Empty_and_large_values_round_trip()
    {
        var store = NewStore();
        var large = new byte[2 * 1024 * 1024];
        Random.Shared.NextBytes(large);
        await store.SetManyAsync([new CacheEntry("empty", ReadOnlyMemory<byte>.Empty, Minute), new CacheEntry("large", large, Minute)], None);

        var empty = await store.GetAsync("empty", None);
        Assert.True(empty.Found);
        Assert.Equal(0, empty.Value.Length);
        Assert.True((await store.GetAsync("large", None)).Value.Span.SequenceEqual(large));

        var miss = await store.GetAsync("filled-empty", None);
        Assert.True(await store.TryFillAsync("filled-empty", ReadOnlyMemory<byte>.Empty, Minute, miss.FillToken, None));
        var filled = await store.GetAsync("filled-empty", None);
        Assert.True(filled.Found);
        Assert.Equal(0, filled.Value.Length);
    }

    [RedisFact]
    public async Task Empty_bulk_calls_do_nothing()
    {
        var store = NewStore();
        await store.SetManyAsync([], None);
        await store.InvalidateAsync([], TimeSpan.FromSeconds(1), None);
    }

    [RedisFact]
    public async Task Concurrent_fills_with_one_token_store_exactly_one_value()
    {
        var store = NewStore();
        var miss = await store.GetAsync("k", None);
        var results = await Task.WhenAll(Enumerable.Range(0, 32).Select(i =>
            Task.Run(async () => await store.TryFillAsync("k", Bytes($"v{i}"), Minute, miss.FillToken, None))));
        Assert.Equal(1, results.Count(r => r));
    }

    [RedisFact]
    public async Task Arguments_are_validated_before_anything_is_sent()
    {
        var store = NewStore();
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await store.GetAsync(null!, None));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await store.TryFillAsync("k", Bytes("x"), TimeSpan.Zero, 0, None));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await store.ExpireAsync("k", TimeSpan.FromSeconds(-1), None));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await store.InvalidateAsync(["k"], TimeSpan.Zero, None));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () =>
            await store.SetManyAsync([new CacheEntry("ok", Bytes("1"), Minute), new CacheEntry("k", Bytes("x"), TimeSpan.Zero)], None));
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await store.SetManyAsync([new CacheEntry(null!, Bytes("x"), Minute)], None));
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await store.InvalidateAsync([null!], null, None));
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await store.SetManyAsync(null!, None));
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await store.InvalidateAsync(null!, null, None));

        // A rejected batch wrote nothing.
        Assert.False((await store.GetAsync("ok", None)).Found);
    }

    [RedisFact]
    public async Task Cancelled_token_throws_operation_canceled()
    {
        var store = NewStore();
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await store.GetAsync("k", cancelled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await store.SetManyAsync([new CacheEntry("k", Bytes("1"), Minute)], cancelled.Token));
        Assert.False((await store.GetAsync("k", None)).Found);
    }

    [RedisFact]
    public async Task Namespaces_and_databases_isolate_stores()
    {
        var first = NewStore();
        var second = NewStore();
        var otherDatabase = NewStore(configure: o => { o.KeyNamespace = "cgtest:shared-ns:"; o.Database = 3; });
        var sameNamespaceDb0 = NewStore(configure: o => { o.KeyNamespace = "cgtest:shared-ns:"; o.Database = 0; });
        var key = $"k:{Guid.NewGuid():N}";
        await first.SetManyAsync([new CacheEntry(key, Bytes("first"), Minute)], None);
        await otherDatabase.SetManyAsync([new CacheEntry(key, Bytes("db3"), Minute)], None);
        Assert.False((await second.GetAsync(key, None)).Found);
        Assert.False((await sameNamespaceDb0.GetAsync(key, None)).Found);
        Assert.Equal("db3", Text((await otherDatabase.GetAsync(key, None)).Value));
        Assert.Equal(first.GetRedisKey(key), first.GetRedisKey(key));
        Assert.StartsWith("cgtest:", first.GetRedisKey(key), StringComparison.Ordinal);
        Assert.EndsWith(key, first.GetRedisKey(key), StringComparison.Ordinal);
        await Shared.GetDatabase(3).KeyDeleteAsync(otherDatabase.GetRedisKey(key));
    }

    [RedisFact]
    public async Task Stored_bytes_follow_the_documented_layout()
    {
        var store = NewStore();
        var db = Shared.GetDatabase();
        await store.SetManyAsync([new CacheEntry("v", Bytes("abc"), Minute)], None);
        Assert.Equal("Vabc"u8.ToArray(), (byte[]?)await db.StringGetAsync(store.GetRedisKey("v")));

        await store.InvalidateAsync(["t"], null, None);
        var tombstone = (byte[]?)await db.StringGetAsync(store.GetRedisKey("t"));
        Assert.NotNull(tombstone);
        Assert.Equal(9, tombstone.Length);
        Assert.Equal((byte)'T', tombstone[0]);
        var token = (await store.GetAsync("t", None)).FillToken;
        Assert.Equal(token, System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(tombstone.AsSpan(1)));

        await store.InvalidateAsync(["tf"], TimeSpan.FromSeconds(90), None);
        var withFill = (byte[]?)await db.StringGetAsync(store.GetRedisKey("tf"));
        Assert.NotNull(withFill);
        Assert.Equal(17, withFill.Length);
        Assert.Equal(TimeSpan.FromSeconds(90).Ticks, System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(withFill.AsSpan(9)));
    }
}
