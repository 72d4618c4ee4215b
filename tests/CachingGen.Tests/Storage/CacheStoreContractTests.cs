using System.Text;
using CachingGen.Storage;
#if CACHINGGEN_REDIS_CONTRACT
// Compiled into CachingGen.Redis.Tests too: there a missing server fails under CI and skips elsewhere.
using ContractFactAttribute = CachingGen.Redis.Tests.RedisFactAttribute;
using ContractTheoryAttribute = CachingGen.Redis.Tests.RedisTheoryAttribute;
#else
using ContractFactAttribute = Xunit.FactAttribute;
using ContractTheoryAttribute = Xunit.TheoryAttribute;
#endif

namespace CachingGen.Tests.Storage;

/// <summary>
/// The behaviour every <see cref="ICacheStore"/> must have. A store's test class subclasses this: it creates the
/// store and moves time (a fake clock, or — for a real server — waits out short real TTLs). Every key is unique per
/// test, so a shared server can run the suite.
/// </summary>
public abstract class CacheStoreContractTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    /// <summary>A new store (it may share a server with other tests; keys never collide).</summary>
    protected abstract ICacheStore CreateStore();

    /// <summary>Moves the store's clock forward by at least <paramref name="elapsed"/>.</summary>
    protected abstract Task AdvanceAsync(TimeSpan elapsed);

    /// <summary>A TTL that <see cref="AdvanceAsync"/> can outlive cheaply (a real store: about a second).</summary>
    protected virtual TimeSpan ShortTimeToLive => TimeSpan.FromSeconds(1);

    /// <summary>A wait much longer than <see cref="ShortTimeToLive"/> that a pinned entry must survive.</summary>
    protected virtual TimeSpan LongWait => TimeSpan.FromHours(6);

    /// <summary>A TTL that no test outlives.</summary>
    protected virtual TimeSpan LongTimeToLive => TimeSpan.FromHours(24);

    protected static string NewKey(string name = "k") => $"contract:{Guid.NewGuid():N}:{name}";

    protected static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    protected static string Text(ReadOnlyMemory<byte> bytes) => Encoding.UTF8.GetString(bytes.Span);

    [ContractFact]
    public async Task Missing_key_is_a_miss_with_a_token()
    {
        var store = CreateStore();
        var lookup = await store.GetAsync(NewKey(), None);
        Assert.False(lookup.Found);
        Assert.Null(lookup.FillTimeToLive);
    }

    [ContractFact]
    public async Task Set_value_is_a_hit_with_the_same_bytes()
    {
        var store = CreateStore();
        var key = NewKey();
        await store.SetManyAsync(new[] { new CacheEntry(key, Bytes("v1"), LongTimeToLive) }, None);
        var lookup = await store.GetAsync(key, None);
        Assert.True(lookup.Found);
        Assert.Equal("v1", Text(lookup.Value));
    }

    [ContractFact]
    public async Task Stored_values_are_copies_not_aliases()
    {
        var store = CreateStore();
        var setKey = NewKey("set");
        var fillKey = NewKey("fill");
        var setBytes = Bytes("original");
        await store.SetManyAsync(new[] { new CacheEntry(setKey, setBytes, LongTimeToLive) }, None);
        var miss = await store.GetAsync(fillKey, None);
        var fillBytes = Bytes("original");
        Assert.True(await store.TryFillAsync(fillKey, fillBytes, LongTimeToLive, miss.FillToken, None));

        setBytes.AsSpan().Fill((byte)'x');
        fillBytes.AsSpan().Fill((byte)'x');

        Assert.Equal("original", Text((await store.GetAsync(setKey, None)).Value));
        Assert.Equal("original", Text((await store.GetAsync(fillKey, None)).Value));
    }

    [ContractFact]
    public async Task Entries_expire_after_their_time_to_live()
    {
        var store = CreateStore();
        var key = NewKey();
        await store.SetManyAsync(new[] { new CacheEntry(key, Bytes("v"), ShortTimeToLive) }, None);
        Assert.True((await store.GetAsync(key, None)).Found);
        await AdvanceAsync(ShortTimeToLive + ShortTimeToLive);
        Assert.False((await store.GetAsync(key, None)).Found);
    }

    [ContractFact]
    public async Task Filled_entries_expire_after_their_time_to_live()
    {
        var store = CreateStore();
        var key = NewKey();
        var miss = await store.GetAsync(key, None);
        Assert.True(await store.TryFillAsync(key, Bytes("v"), ShortTimeToLive, miss.FillToken, None));
        Assert.True((await store.GetAsync(key, None)).Found);
        await AdvanceAsync(ShortTimeToLive + ShortTimeToLive);
        Assert.False((await store.GetAsync(key, None)).Found);
    }

    [ContractFact]
    public async Task Pinned_entry_never_expires_until_ExpireAsync()
    {
        var store = CreateStore();
        var key = NewKey();
        await store.SetManyAsync(new[] { new CacheEntry(key, Bytes("pinned"), null) }, None);
        await AdvanceAsync(LongWait);
        Assert.Equal("pinned", Text((await store.GetAsync(key, None)).Value));

        Assert.True(await store.ExpireAsync(key, ShortTimeToLive, None));
        Assert.True((await store.GetAsync(key, None)).Found);
        await AdvanceAsync(ShortTimeToLive + ShortTimeToLive);
        Assert.False((await store.GetAsync(key, None)).Found);
    }

    [ContractFact]
    public async Task ExpireAsync_on_a_missing_key_returns_false()
    {
        var store = CreateStore();
        Assert.False(await store.ExpireAsync(NewKey(), ShortTimeToLive, None));

        var invalidated = NewKey("invalidated");
        await store.SetManyAsync(new[] { new CacheEntry(invalidated, Bytes("v"), null) }, None);
        await store.InvalidateAsync(new[] { invalidated }, null, None);
        Assert.False(await store.ExpireAsync(invalidated, ShortTimeToLive, None));
    }

    [ContractFact]
    public async Task Fill_is_accepted_when_nothing_happened_since_the_miss()
    {
        var store = CreateStore();
        var key = NewKey();
        var miss = await store.GetAsync(key, None);
        Assert.True(await store.TryFillAsync(key, Bytes("loaded"), LongTimeToLive, miss.FillToken, None));
        Assert.Equal("loaded", Text((await store.GetAsync(key, None)).Value));
    }

    [ContractFact]
    public async Task Fill_is_refused_after_a_set()
    {
        var store = CreateStore();
        var key = NewKey();
        var miss = await store.GetAsync(key, None);
        await store.SetManyAsync(new[] { new CacheEntry(key, Bytes("written"), LongTimeToLive) }, None);
        Assert.False(await store.TryFillAsync(key, Bytes("stale"), LongTimeToLive, miss.FillToken, None));
        Assert.Equal("written", Text((await store.GetAsync(key, None)).Value));
    }

    [ContractFact]
    public async Task Fill_is_refused_after_a_pinned_set()
    {
        var store = CreateStore();
        var key = NewKey();
        var miss = await store.GetAsync(key, None);
        await store.SetManyAsync(new[] { new CacheEntry(key, Bytes("written"), null) }, None);
        Assert.False(await store.TryFillAsync(key, Bytes("stale"), LongTimeToLive, miss.FillToken, None));
        Assert.Equal("written", Text((await store.GetAsync(key, None)).Value));
    }

    [ContractFact]
    public async Task Fill_is_refused_after_an_invalidation()
    {
        var store = CreateStore();
        var key = NewKey();
        var miss = await store.GetAsync(key, None);
        await store.InvalidateAsync(new[] { key }, null, None);
        Assert.False(await store.TryFillAsync(key, Bytes("stale"), LongTimeToLive, miss.FillToken, None));
        Assert.False((await store.GetAsync(key, None)).Found);
    }

    [ContractFact]
    public async Task Fill_after_an_invalidation_with_a_new_token_is_accepted()
    {
        var store = CreateStore();
        var key = NewKey();
        await store.SetManyAsync(new[] { new CacheEntry(key, Bytes("old"), LongTimeToLive) }, None);
        await store.InvalidateAsync(new[] { key }, null, None);
        var miss = await store.GetAsync(key, None);
        Assert.False(miss.Found);
        Assert.True(await store.TryFillAsync(key, Bytes("fresh"), LongTimeToLive, miss.FillToken, None));
        Assert.Equal("fresh", Text((await store.GetAsync(key, None)).Value));
    }

    [ContractFact]
    public async Task Invalidation_tells_the_next_fill_its_time_to_live()
    {
        var store = CreateStore();
        var key = NewKey();
        var plain = NewKey("plain");
        await store.SetManyAsync(new[] { new CacheEntry(key, Bytes("old"), LongTimeToLive), new CacheEntry(plain, Bytes("old"), LongTimeToLive) }, None);
        await store.InvalidateAsync(new[] { key }, TimeSpan.FromSeconds(30), None);
        await store.InvalidateAsync(new[] { plain }, null, None);

        var miss = await store.GetAsync(key, None);
        Assert.False(miss.Found);
        Assert.Equal(TimeSpan.FromSeconds(30), miss.FillTimeToLive);
        Assert.Null((await store.GetAsync(plain, None)).FillTimeToLive);

        Assert.True(await store.TryFillAsync(key, Bytes("fresh"), miss.FillTimeToLive!.Value, miss.FillToken, None));
        Assert.True((await store.GetAsync(key, None)).Found);
    }

    [ContractFact]
    public async Task Expired_entry_can_be_filled_again()
    {
        var store = CreateStore();
        var key = NewKey();
        await store.SetManyAsync(new[] { new CacheEntry(key, Bytes("old"), ShortTimeToLive) }, None);
        await AdvanceAsync(ShortTimeToLive + ShortTimeToLive);
        var miss = await store.GetAsync(key, None);
        Assert.False(miss.Found);
        Assert.True(await store.TryFillAsync(key, Bytes("fresh"), LongTimeToLive, miss.FillToken, None));
        Assert.Equal("fresh", Text((await store.GetAsync(key, None)).Value));
    }

    [ContractFact]
    public async Task Batch_set_and_batch_invalidate_touch_every_key()
    {
        var store = CreateStore();
        var keys = Enumerable.Range(0, 5).Select(i => NewKey($"b{i}")).ToArray();
        var misses = new List<CacheLookup>();
        foreach (var key in keys)
        {
            misses.Add(await store.GetAsync(key, None));
        }

        await store.SetManyAsync(keys.Select((k, i) => new CacheEntry(k, Bytes($"v{i}"), i % 2 == 0 ? LongTimeToLive : null)).ToArray(), None);
        for (var i = 0; i < keys.Length; i++)
        {
            Assert.Equal($"v{i}", Text((await store.GetAsync(keys[i], None)).Value));
            Assert.False(await store.TryFillAsync(keys[i], Bytes("stale"), LongTimeToLive, misses[i].FillToken, None));
        }

        await store.InvalidateAsync(new[] { keys[0], keys[1], keys[2] }, TimeSpan.FromSeconds(30), None);
        for (var i = 0; i < keys.Length; i++)
        {
            var lookup = await store.GetAsync(keys[i], None);
            Assert.Equal(i >= 3, lookup.Found);
            if (i < 3)
            {
                Assert.Equal(TimeSpan.FromSeconds(30), lookup.FillTimeToLive);
            }
        }
    }

    [ContractFact]
    public async Task Empty_batches_are_harmless()
    {
        var store = CreateStore();
        await store.SetManyAsync(Array.Empty<CacheEntry>(), None);
        await store.InvalidateAsync(Array.Empty<string>(), null, None);
    }

    [ContractTheory]
    [InlineData("a:b")]
    [InlineData("100%")]
    [InlineData("{tag}")]
    [InlineData("with space")]
    [InlineData("ünïcödé-日本-🙂")]
    [InlineData("")]
    [InlineData("new\nline")]
    public async Task Keys_with_special_characters_round_trip_and_stay_distinct(string suffix)
    {
        var store = CreateStore();
        var prefix = NewKey("special");
        var key = prefix + suffix;
        var other = prefix + suffix + "x";
        await store.SetManyAsync(new[] { new CacheEntry(key, Bytes("one"), LongTimeToLive), new CacheEntry(other, Bytes("two"), LongTimeToLive) }, None);
        Assert.Equal("one", Text((await store.GetAsync(key, None)).Value));
        Assert.Equal("two", Text((await store.GetAsync(other, None)).Value));
        await store.InvalidateAsync(new[] { key }, null, None);
        Assert.False((await store.GetAsync(key, None)).Found);
        Assert.True((await store.GetAsync(other, None)).Found);
    }

    [ContractFact]
    public async Task Set_overwrites_a_pinned_entry_with_a_time_to_live()
    {
        var store = CreateStore();
        var key = NewKey();
        await store.SetManyAsync(new[] { new CacheEntry(key, Bytes("pinned"), null) }, None);
        await store.SetManyAsync(new[] { new CacheEntry(key, Bytes("v2"), ShortTimeToLive) }, None);
        Assert.Equal("v2", Text((await store.GetAsync(key, None)).Value));
        await AdvanceAsync(ShortTimeToLive + ShortTimeToLive);
        Assert.False((await store.GetAsync(key, None)).Found);
    }

    // ---- Write-through protocol: BeginWritesAsync / CompleteWritesAsync ----

    private static WriteCompletion Done(string key, long token, string value, TimeSpan ttl, bool committed = true)
        => new(key, token, Bytes(value), ttl, committed);

    private async Task<long> BeginAsync(ICacheStore store, string key)
        => Assert.Single(await store.BeginWritesAsync(new[] { key }, LongTimeToLive, None));

    private static async Task<WriteCompletionOutcome> CompleteAsync(ICacheStore store, WriteCompletion completion)
        => Assert.Single(await store.CompleteWritesAsync(new[] { completion }, None));

    [ContractFact]
    public async Task Lone_write_stores_its_value_with_its_time_to_live()
    {
        var store = CreateStore();
        var key = NewKey();
        await store.SetManyAsync(new[] { new CacheEntry(key, Bytes("old"), LongTimeToLive) }, None);
        var token = await BeginAsync(store, key);
        Assert.Equal(WriteCompletionOutcome.Stored, await CompleteAsync(store, Done(key, token, "new", ShortTimeToLive)));
        Assert.Equal("new", Text((await store.GetAsync(key, None)).Value));
        await AdvanceAsync(ShortTimeToLive + ShortTimeToLive);
        Assert.False((await store.GetAsync(key, None)).Found);
    }

    [ContractFact]
    public async Task Sequential_writes_each_store_their_value()
    {
        var store = CreateStore();
        var key = NewKey();
        for (var i = 0; i < 3; i++)
        {
            var token = await BeginAsync(store, key);
            Assert.Equal(WriteCompletionOutcome.Stored, await CompleteAsync(store, Done(key, token, $"v{i}", LongTimeToLive)));
            Assert.Equal($"v{i}", Text((await store.GetAsync(key, None)).Value));
        }
    }

    [ContractFact]
    public async Task Reads_during_a_write_miss_without_a_fill_and_old_fills_are_refused()
    {
        var store = CreateStore();
        var key = NewKey();
        await store.SetManyAsync(new[] { new CacheEntry(key, Bytes("old"), LongTimeToLive) }, None);
        await store.InvalidateAsync(new[] { key }, null, None);
        var before = await store.GetAsync(key, None);

        var token = await BeginAsync(store, key);
        var during = await store.GetAsync(key, None);
        Assert.False(during.Found);
        Assert.True(during.WriteInProgress);
        Assert.False(before.WriteInProgress);
        Assert.False(await store.TryFillAsync(key, Bytes("stale"), LongTimeToLive, before.FillToken, None));
        Assert.Equal(during.FillToken, (await store.GetAsync(key, None)).FillToken);

        Assert.Equal(WriteCompletionOutcome.Stored, await CompleteAsync(store, Done(key, token, "new", LongTimeToLive)));
        Assert.False(await store.TryFillAsync(key, Bytes("stale"), LongTimeToLive, before.FillToken, None));
        Assert.Equal("new", Text((await store.GetAsync(key, None)).Value));
    }

    [ContractFact]
    public async Task A_fill_token_from_an_absent_key_is_void_once_a_write_begins()
    {
        var store = CreateStore();
        var key = NewKey();
        var miss = await store.GetAsync(key, None);
        var token = await BeginAsync(store, key);
        Assert.False(await store.TryFillAsync(key, Bytes("stale"), LongTimeToLive, miss.FillToken, None));
        Assert.Equal(WriteCompletionOutcome.Stored, await CompleteAsync(store, Done(key, token, "new", LongTimeToLive)));
        Assert.Equal("new", Text((await store.GetAsync(key, None)).Value));
    }

    [ContractFact]
    public async Task Interleaved_writers_completing_in_reverse_order_store_nothing()
    {
        // W1 db, W2 db, W2 cache, W1 cache: the naive protocol leaves W1's older value cached.
        var store = CreateStore();
        var key = NewKey();
        var first = await BeginAsync(store, key);
        var second = await BeginAsync(store, key);
        Assert.NotEqual(first, second);
        Assert.Equal(WriteCompletionOutcome.StillInFlight, await CompleteAsync(store, Done(key, second, "w2", LongTimeToLive)));
        Assert.True((await store.GetAsync(key, None)).WriteInProgress);
        Assert.Equal(WriteCompletionOutcome.Invalidated, await CompleteAsync(store, Done(key, first, "w1", LongTimeToLive)));

        var miss = await store.GetAsync(key, None);
        Assert.False(miss.Found);
        Assert.False(miss.WriteInProgress);
        Assert.True(await store.TryFillAsync(key, Bytes("from-db"), LongTimeToLive, miss.FillToken, None));
        Assert.Equal("from-db", Text((await store.GetAsync(key, None)).Value));
    }

    [ContractFact]
    public async Task Interleaved_writers_completing_in_order_store_nothing()
    {
        var store = CreateStore();
        var key = NewKey();
        await store.SetManyAsync(new[] { new CacheEntry(key, Bytes("old"), LongTimeToLive) }, None);
        var first = await BeginAsync(store, key);
        var second = await BeginAsync(store, key);
        Assert.Equal(WriteCompletionOutcome.StillInFlight, await CompleteAsync(store, Done(key, first, "w1", LongTimeToLive)));
        var between = await store.GetAsync(key, None);
        Assert.True(between.WriteInProgress);
        Assert.Equal(WriteCompletionOutcome.Invalidated, await CompleteAsync(store, Done(key, second, "w2", LongTimeToLive)));
        var after = await store.GetAsync(key, None);
        Assert.False(after.Found);
        Assert.False(after.WriteInProgress);
    }

    [ContractFact]
    public async Task A_write_that_begins_after_another_completed_is_alone_again()
    {
        var store = CreateStore();
        var key = NewKey();
        var first = await BeginAsync(store, key);
        var second = await BeginAsync(store, key);
        await CompleteAsync(store, Done(key, first, "w1", LongTimeToLive));
        await CompleteAsync(store, Done(key, second, "w2", LongTimeToLive));
        var third = await BeginAsync(store, key);
        Assert.Equal(WriteCompletionOutcome.Stored, await CompleteAsync(store, Done(key, third, "w3", LongTimeToLive)));
        Assert.Equal("w3", Text((await store.GetAsync(key, None)).Value));
    }

    [ContractFact]
    public async Task The_marker_changes_when_an_overlapping_writer_completes()
    {
        // A read that starts after a writer's acknowledgement must not share a load with one that started before it.
        var store = CreateStore();
        var key = NewKey();
        var first = await BeginAsync(store, key);
        var second = await BeginAsync(store, key);
        var before = await store.GetAsync(key, None);
        await CompleteAsync(store, Done(key, first, "w1", LongTimeToLive));
        var after = await store.GetAsync(key, None);
        Assert.True(after.WriteInProgress);
        Assert.NotEqual(before.FillToken, after.FillToken);
        await CompleteAsync(store, Done(key, second, "w2", LongTimeToLive));
    }

    [ContractFact]
    public async Task A_failed_write_releases_its_marker_without_storing()
    {
        var store = CreateStore();
        var key = NewKey();
        await store.SetManyAsync(new[] { new CacheEntry(key, Bytes("old"), LongTimeToLive) }, None);
        var token = await BeginAsync(store, key);
        Assert.Equal(WriteCompletionOutcome.Invalidated, await CompleteAsync(store, Done(key, token, "never", LongTimeToLive, committed: false)));
        var miss = await store.GetAsync(key, None);
        Assert.False(miss.Found);
        Assert.False(miss.WriteInProgress);

        // The released count lets the next writer be alone.
        var next = await BeginAsync(store, key);
        Assert.Equal(WriteCompletionOutcome.Stored, await CompleteAsync(store, Done(key, next, "new", LongTimeToLive)));
    }

    [ContractFact]
    public async Task A_failed_overlapping_write_still_contends()
    {
        var store = CreateStore();
        var key = NewKey();
        var first = await BeginAsync(store, key);
        var second = await BeginAsync(store, key);
        Assert.Equal(WriteCompletionOutcome.StillInFlight, await CompleteAsync(store, Done(key, first, "w1", LongTimeToLive, committed: false)));
        Assert.Equal(WriteCompletionOutcome.Invalidated, await CompleteAsync(store, Done(key, second, "w2", LongTimeToLive)));
        Assert.False((await store.GetAsync(key, None)).Found);
    }

    [ContractFact]
    public async Task An_expired_marker_means_invalidate_never_set()
    {
        var store = CreateStore();
        var key = NewKey();
        var token = Assert.Single(await store.BeginWritesAsync(new[] { key }, ShortTimeToLive, None));
        await AdvanceAsync(ShortTimeToLive + ShortTimeToLive);

        // The lease ran out (a crashed writer heals): reads may fill again.
        var miss = await store.GetAsync(key, None);
        Assert.False(miss.WriteInProgress);
        Assert.True(await store.TryFillAsync(key, Bytes("filled"), LongTimeToLive, miss.FillToken, None));

        Assert.Equal(WriteCompletionOutcome.Invalidated, await CompleteAsync(store, Done(key, token, "late", LongTimeToLive)));
        Assert.False((await store.GetAsync(key, None)).Found);
    }

    [ContractFact]
    public async Task A_marker_replaced_by_an_invalidation_means_invalidate()
    {
        var store = CreateStore();
        var key = NewKey();
        var token = await BeginAsync(store, key);
        await store.InvalidateAsync(new[] { key }, null, None);
        var miss = await store.GetAsync(key, None);
        Assert.True(await store.TryFillAsync(key, Bytes("filled"), LongTimeToLive, miss.FillToken, None));
        Assert.Equal(WriteCompletionOutcome.Invalidated, await CompleteAsync(store, Done(key, token, "w", LongTimeToLive)));
        Assert.False((await store.GetAsync(key, None)).Found);
    }

    [ContractFact]
    public async Task A_marker_recreated_after_its_lease_is_not_the_old_writers()
    {
        var store = CreateStore();
        var key = NewKey();
        var stale = Assert.Single(await store.BeginWritesAsync(new[] { key }, ShortTimeToLive, None));
        await AdvanceAsync(ShortTimeToLive + ShortTimeToLive);
        var fresh = await BeginAsync(store, key);
        Assert.Equal(WriteCompletionOutcome.Invalidated, await CompleteAsync(store, Done(key, stale, "old-writer", LongTimeToLive)));
        Assert.Equal(WriteCompletionOutcome.Invalidated, await CompleteAsync(store, Done(key, fresh, "new-writer", LongTimeToLive)));
        Assert.False((await store.GetAsync(key, None)).Found);
    }

    [ContractFact]
    public async Task InvalidateUnlessPinned_keeps_pinned_values_and_invalidates_everything_else()
    {
        var store = CreateStore();
        var pinned = NewKey("pinned");
        var expiring = NewKey("expiring");
        var marked = NewKey("marked");
        var absent = NewKey("absent");
        await store.SetManyAsync(new[] { new CacheEntry(pinned, Bytes("write-back"), null), new CacheEntry(expiring, Bytes("old"), LongTimeToLive) }, None);
        await BeginAsync(store, marked);
        var absentMiss = await store.GetAsync(absent, None);

        var fillTimeToLive = TimeSpan.FromSeconds(30);
        Assert.Equal(new[] { true, false, false, false }, await store.InvalidateUnlessPinnedAsync(new[] { pinned, expiring, marked, absent }, fillTimeToLive, None));

        Assert.Equal("write-back", Text((await store.GetAsync(pinned, None)).Value));
        var invalidated = await store.GetAsync(expiring, None);
        Assert.False(invalidated.Found);
        // The repaired invalidation tells the next fill the same TTL as the one that failed (a write-around's).
        Assert.Equal(fillTimeToLive, invalidated.FillTimeToLive);
        var afterMarker = await store.GetAsync(marked, None);
        Assert.False(afterMarker.Found);
        Assert.False(afterMarker.WriteInProgress);

        // Like InvalidateAsync, it voids fill tokens handed out before it.
        Assert.False(await store.TryFillAsync(absent, Bytes("stale"), LongTimeToLive, absentMiss.FillToken, None));
        var fresh = await store.GetAsync(absent, None);
        Assert.True(await store.TryFillAsync(absent, Bytes("fresh"), LongTimeToLive, fresh.FillToken, None));
        Assert.Empty(await store.InvalidateUnlessPinnedAsync(Array.Empty<string>(), null, None));

        // Without a fill TTL (a write-through's repair) the next fill uses the read's own.
        Assert.Equal(new[] { false }, await store.InvalidateUnlessPinnedAsync(new[] { expiring }, null, None));
        Assert.Null((await store.GetAsync(expiring, None)).FillTimeToLive);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await store.InvalidateUnlessPinnedAsync(new[] { expiring }, TimeSpan.Zero, None));
    }

    [ContractFact]
    public async Task A_pinned_write_back_entry_written_during_the_write_is_kept()
    {
        var store = CreateStore();
        var key = NewKey();
        var token = await BeginAsync(store, key);
        await store.SetManyAsync(new[] { new CacheEntry(key, Bytes("write-back"), null) }, None);
        Assert.Equal(WriteCompletionOutcome.PinnedKept, await CompleteAsync(store, Done(key, token, "write-through", LongTimeToLive)));
        Assert.Equal("write-back", Text((await store.GetAsync(key, None)).Value));
    }

    [ContractFact]
    public async Task Begin_refuses_a_pinned_entry_and_leaves_it_as_it_is()
    {
        var store = CreateStore();
        var pinned = NewKey("pinned");
        var free = NewKey("free");
        await store.SetManyAsync(new[] { new CacheEntry(pinned, Bytes("write-back"), null) }, None);

        var tokens = await store.BeginWritesAsync(new[] { free, pinned }, LongTimeToLive, None);
        Assert.NotEqual(ICacheStore.RefusedPinnedToken, tokens[0]);
        Assert.Equal(ICacheStore.RefusedPinnedToken, tokens[1]);
        Assert.True((await store.GetAsync(free, None)).WriteInProgress);
        Assert.Equal("write-back", Text((await store.GetAsync(pinned, None)).Value));
        await AdvanceAsync(LongWait);
        Assert.Equal("write-back", Text((await store.GetAsync(pinned, None)).Value));

        // Once settled (a time to live, as after its record's flush) the entry is an ordinary value: begin replaces it.
        Assert.True(await store.ExpireAsync(pinned, LongTimeToLive, None));
        var token = await BeginAsync(store, pinned);
        Assert.NotEqual(ICacheStore.RefusedPinnedToken, token);
        Assert.True((await store.GetAsync(pinned, None)).WriteInProgress);
    }

    [ContractFact]
    public async Task Bulk_begin_and_complete_handle_every_key_on_its_own()
    {
        var store = CreateStore();
        var keys = Enumerable.Range(0, 4).Select(i => NewKey($"bulk{i}")).ToArray();
        var tokens = await store.BeginWritesAsync(keys, LongTimeToLive, None);
        Assert.Equal(keys.Length, tokens.Length);
        foreach (var key in keys)
        {
            Assert.True((await store.GetAsync(key, None)).WriteInProgress);
        }

        // Another writer overlaps on key 1 only; key 3's database write failed.
        var overlap = await BeginAsync(store, keys[1]);
        var outcomes = await store.CompleteWritesAsync(keys.Select((k, i) => Done(k, tokens[i], $"v{i}", LongTimeToLive, committed: i != 3)).ToArray(), None);
        Assert.Equal(new[] { WriteCompletionOutcome.Stored, WriteCompletionOutcome.StillInFlight, WriteCompletionOutcome.Stored, WriteCompletionOutcome.Invalidated }, outcomes);
        Assert.Equal("v0", Text((await store.GetAsync(keys[0], None)).Value));
        Assert.True((await store.GetAsync(keys[1], None)).WriteInProgress);
        Assert.Equal("v2", Text((await store.GetAsync(keys[2], None)).Value));
        Assert.False((await store.GetAsync(keys[3], None)).Found);
        Assert.Equal(WriteCompletionOutcome.Invalidated, await CompleteAsync(store, Done(keys[1], overlap, "o", LongTimeToLive)));
    }

    [ContractFact]
    public async Task Empty_write_batches_are_harmless()
    {
        var store = CreateStore();
        Assert.Empty(await store.BeginWritesAsync(Array.Empty<string>(), LongTimeToLive, None));
        Assert.Empty(await store.CompleteWritesAsync(Array.Empty<WriteCompletion>(), None));
    }

    [ContractFact]
    public async Task Concurrent_writers_never_leave_an_older_value_than_the_last_completed()
    {
        // Many writers of one key at once: whatever interleaving happens, the key ends either absent/tombstoned or
        // holding the value of a writer that was alone, never the value of a writer that overlapped another.
        var store = CreateStore();
        var key = NewKey();
        var stored = new System.Collections.Concurrent.ConcurrentBag<string>();
        await Task.WhenAll(Enumerable.Range(0, 16).Select(i => Task.Run(async () =>
        {
            var token = await BeginAsync(store, key);
            await Task.Yield();
            if (await CompleteAsync(store, Done(key, token, $"w{i}", LongTimeToLive)) == WriteCompletionOutcome.Stored)
            {
                stored.Add($"w{i}");
            }
        })));

        var lookup = await store.GetAsync(key, None);
        Assert.False(lookup.WriteInProgress);
        if (lookup.Found)
        {
            Assert.Contains(Text(lookup.Value), stored);
        }
    }

    // Versioned entries: an entity with a [CacheVersion] member. SetIfNewerAsync is a write-through's only cache step.

    private static async Task<VersionedWriteOutcome> SetIfNewerAsync(ICacheStore store, string key, long version, string value, TimeSpan ttl)
        => Assert.Single(await store.SetIfNewerAsync([new VersionedEntry(key, Bytes(value), version, ttl)], None));

    private static async Task FillVersionedAsync(ICacheStore store, string key, long version, string value, TimeSpan ttl)
    {
        var miss = await store.GetAsync(key, None);
        Assert.False(miss.Found);
        Assert.True(await store.TryFillVersionedAsync(key, Bytes(value), version, ttl, miss.FillToken, None));
    }

    [ContractFact]
    public async Task A_versioned_fill_is_a_hit_with_the_same_bytes_and_obeys_its_token()
    {
        var store = CreateStore();
        var key = NewKey();
        await FillVersionedAsync(store, key, 3, "v3", LongTimeToLive);
        Assert.Equal("v3", Text((await store.GetAsync(key, None)).Value));
        Assert.True(await store.ExpireAsync(key, LongTimeToLive, None)); // a versioned value is a value

        var invalidated = NewKey();
        var miss = await store.GetAsync(invalidated, None);
        await store.InvalidateAsync([invalidated], null, None);
        Assert.False(await store.TryFillVersionedAsync(invalidated, Bytes("stale"), 1, LongTimeToLive, miss.FillToken, None));

        // A value, versioned or not, is never filled over.
        var held = NewKey();
        var before = await store.GetAsync(held, None);
        await FillVersionedAsync(store, held, 5, "v5", LongTimeToLive);
        Assert.False(await store.TryFillAsync(held, Bytes("plain"), LongTimeToLive, before.FillToken, None));
        Assert.False(await store.TryFillVersionedAsync(held, Bytes("v9"), 9, LongTimeToLive, before.FillToken, None));
        Assert.Equal("v5", Text((await store.GetAsync(held, None)).Value));
    }

    [ContractFact]
    public async Task A_newer_version_replaces_an_older_one_with_its_time_to_live()
    {
        var store = CreateStore();
        var key = NewKey();
        await FillVersionedAsync(store, key, 1, "v1", LongTimeToLive);
        Assert.Equal(VersionedWriteOutcome.Stored, await SetIfNewerAsync(store, key, 2, "v2", ShortTimeToLive));
        Assert.Equal("v2", Text((await store.GetAsync(key, None)).Value));
        Assert.Equal(VersionedWriteOutcome.Stored, await SetIfNewerAsync(store, key, 3, "v3", ShortTimeToLive));
        Assert.Equal("v3", Text((await store.GetAsync(key, None)).Value));

        await AdvanceAsync(ShortTimeToLive + ShortTimeToLive);
        Assert.False((await store.GetAsync(key, None)).Found);
    }

    [ContractFact]
    public async Task An_older_version_never_replaces_a_newer_one()
    {
        // The late writer of the naive write-through: W2 committed and cached v2 first, W1's v1 arrives after.
        var store = CreateStore();
        var key = NewKey();
        await FillVersionedAsync(store, key, 1, "v1", LongTimeToLive);
        Assert.Equal(VersionedWriteOutcome.Stored, await SetIfNewerAsync(store, key, 2, "v2", LongTimeToLive));
        Assert.Equal(VersionedWriteOutcome.NewerKept, await SetIfNewerAsync(store, key, 1, "v1-late", LongTimeToLive));
        Assert.Equal("v2", Text((await store.GetAsync(key, None)).Value));
    }

    [ContractFact]
    public async Task An_equal_version_leaves_a_tombstone_because_two_writes_of_one_version_may_differ()
    {
        var store = CreateStore();
        var key = NewKey();
        await FillVersionedAsync(store, key, 2, "v2", LongTimeToLive);
        Assert.Equal(VersionedWriteOutcome.Invalidated, await SetIfNewerAsync(store, key, 2, "v2-other", LongTimeToLive));
        var lookup = await store.GetAsync(key, None);
        Assert.False(lookup.Found);
        Assert.False(lookup.WriteInProgress);
    }

    [ContractTheory]
    [InlineData(-5L, 3L)]
    [InlineData(long.MinValue, long.MaxValue)]
    [InlineData(255L, 256L)]
    [InlineData(0x00FF_FFFF_FFFF_FFFFL, 0x0100_0000_0000_0000L)]
    [InlineData(-1L, 0L)]
    public async Task Versions_compare_as_signed_64_bit_numbers(long older, long newer)
    {
        var store = CreateStore();
        var key = NewKey();
        await FillVersionedAsync(store, key, older, "older", LongTimeToLive);
        Assert.Equal(VersionedWriteOutcome.Stored, await SetIfNewerAsync(store, key, newer, "newer", LongTimeToLive));
        Assert.Equal(VersionedWriteOutcome.NewerKept, await SetIfNewerAsync(store, key, older, "older-late", LongTimeToLive));
        Assert.Equal("newer", Text((await store.GetAsync(key, None)).Value));
    }

    [ContractFact]
    public async Task A_versioned_write_never_stores_on_a_key_whose_version_is_unknown()
    {
        // Absent (maybe a newer write's entry was evicted), a tombstone, a value without version, "not found":
        // the write leaves a tombstone that voids outstanding fill tokens, and the next read fills from the database.
        var store = CreateStore();
        var absent = NewKey("absent");
        var missBefore = await store.GetAsync(absent, None);
        Assert.Equal(VersionedWriteOutcome.Invalidated, await SetIfNewerAsync(store, absent, 7, "v7", LongTimeToLive));
        Assert.False((await store.GetAsync(absent, None)).Found);
        Assert.False(await store.TryFillVersionedAsync(absent, Bytes("stale"), 6, LongTimeToLive, missBefore.FillToken, None));
        await FillVersionedAsync(store, absent, 7, "from-db", LongTimeToLive);
        Assert.Equal("from-db", Text((await store.GetAsync(absent, None)).Value));

        var tombstoned = NewKey("tombstone");
        await store.InvalidateAsync([tombstoned], null, None);
        Assert.Equal(VersionedWriteOutcome.Invalidated, await SetIfNewerAsync(store, tombstoned, 7, "v7", LongTimeToLive));
        Assert.False((await store.GetAsync(tombstoned, None)).Found);

        var unversioned = NewKey("unversioned");
        await store.SetManyAsync([new CacheEntry(unversioned, Bytes("plain"), LongTimeToLive)], None);
        Assert.Equal(VersionedWriteOutcome.Invalidated, await SetIfNewerAsync(store, unversioned, 7, "v7", LongTimeToLive));
        Assert.False((await store.GetAsync(unversioned, None)).Found);
    }

    [ContractFact]
    public async Task A_versioned_write_keeps_a_pinned_entry()
    {
        var store = CreateStore();
        var key = NewKey();
        await store.SetManyAsync([new CacheEntry(key, Bytes("pinned"), null)], None);
        Assert.Equal(VersionedWriteOutcome.PinnedKept, await SetIfNewerAsync(store, key, 9, "v9", LongTimeToLive));
        Assert.Equal("pinned", Text((await store.GetAsync(key, None)).Value));
    }

    [ContractFact]
    public async Task A_versioned_write_during_a_marked_write_makes_that_writer_leave_a_tombstone()
    {
        // A write-through without version of the same key is in flight: it may have committed before this one, so it
        // must not store its value at completion.
        var store = CreateStore();
        var key = NewKey();
        var token = await BeginAsync(store, key);
        Assert.Equal(VersionedWriteOutcome.Invalidated, await SetIfNewerAsync(store, key, 4, "v4", LongTimeToLive));
        Assert.True((await store.GetAsync(key, None)).WriteInProgress);
        Assert.Equal(WriteCompletionOutcome.Invalidated, await CompleteAsync(store, Done(key, token, "marked", LongTimeToLive)));
        Assert.False((await store.GetAsync(key, None)).Found);
    }

    [ContractFact]
    public async Task A_versioned_batch_decides_every_key_on_its_own()
    {
        var store = CreateStore();
        var keys = Enumerable.Range(0, 4).Select(i => NewKey($"b{i}")).ToArray();
        await FillVersionedAsync(store, keys[0], 1, "old", LongTimeToLive);
        await FillVersionedAsync(store, keys[1], 8, "newer", LongTimeToLive);
        await store.SetManyAsync([new CacheEntry(keys[2], Bytes("pinned"), null)], None);
        var outcomes = await store.SetIfNewerAsync(keys.Select(k => new VersionedEntry(k, Bytes("w5"), 5, LongTimeToLive)).ToArray(), None);
        Assert.Equal([VersionedWriteOutcome.Stored, VersionedWriteOutcome.NewerKept, VersionedWriteOutcome.PinnedKept, VersionedWriteOutcome.Invalidated], outcomes);
        Assert.Equal("w5", Text((await store.GetAsync(keys[0], None)).Value));
        Assert.Equal("newer", Text((await store.GetAsync(keys[1], None)).Value));
        Assert.Empty(await store.SetIfNewerAsync(Array.Empty<VersionedEntry>(), None));
    }

    [ContractFact]
    public async Task Concurrent_versioned_writers_leave_the_newest_version_or_nothing()
    {
        var store = CreateStore();
        var key = NewKey();
        await FillVersionedAsync(store, key, 0, "w0", LongTimeToLive);
        await Task.WhenAll(Enumerable.Range(1, 32).Select(i => Task.Run(async () =>
        {
            await Task.Yield();
            await SetIfNewerAsync(store, key, i, $"w{i}", LongTimeToLive);
        })));

        Assert.Equal("w32", Text((await store.GetAsync(key, None)).Value));
    }
}
