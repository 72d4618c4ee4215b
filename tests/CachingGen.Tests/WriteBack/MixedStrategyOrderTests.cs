using System.Collections.Concurrent;
using System.Globalization;
using CachingGen.Tests.Support;
using Sample;
using Xunit.Abstractions;

namespace CachingGen.Tests.WriteBack;

/// <summary>Direct writes (write-through, write-around, evict) and write-back on the same keys keep per-key order.</summary>
public sealed class MixedStrategyOrderTests(ITestOutputHelper output)
{
    [Fact]
    public async Task WriteThrough_after_a_pending_write_back_flushes_it_first()
    {
        await using var h = new Harness();
        await h.Repository.UpdateAsync(new Preference(1, 1, "back", true));
        await h.Repository.SaveAsync(new Preference(1, 2, "through", true));
        Assert.Equal(new long[] { 1, 2 }, h.Database.HistoryOf(1));

        await h.Runtime.WriteBack.FlushAsync();
        Assert.Equal(new long[] { 1, 2 }, h.Database.HistoryOf(1));
        Assert.Equal("through", h.Database.Rows[1].Channel);
        Assert.Equal("through", h.Inspect(1).Value!.Channel);
        Assert.Equal(h.Time.GetUtcNow() + TimeSpan.FromSeconds(300), h.Inspect(1).ExpiresAt);
    }

    [Fact]
    public async Task A_write_through_whose_begin_was_refused_is_not_applied_when_the_store_fails_while_it_waits()
    {
        // Another process pinned the key after this write's drain check (simulated: the first begin is refused), and
        // the store fails while this write waits for that record: going on would let the record overtake it.
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var store = new CachingGen.Storage.InMemoryCacheStore(time);
        var log = new FaultyWriteBackLog(new CachingGen.WriteBack.InMemoryWriteBackLog(store, 2));
        await using var h = new Harness(log: log, store: store, time: time, wrapStore: inner => new RefuseFirstBegin(inner));
        var pendingCountReads = 0;
        log.AfterPendingCount = (_, _) =>
        {
            if (Interlocked.Increment(ref pendingCountReads) > 1)
            {
                throw new CachingGen.Storage.CacheStoreUnavailableException("the cache store is down");
            }
        };

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => h.Repository.SaveAsync(new Preference(1, 1, "through", true)));

        Assert.Contains("was NOT applied", error.Message);
        Assert.IsType<CachingGen.Storage.CacheStoreUnavailableException>(error.InnerException);
        Assert.Empty(h.Database.HistoryOf(1));
    }

    [Fact]
    public async Task Replacing_an_unreadable_entry_keeps_a_write_back_another_process_acknowledged_meanwhile()
    {
        // Process A reads an entry it cannot decode (another build's layout) and invalidates it after draining the key;
        // process B acknowledges a write-back of the key in between. B's pinned value must stay readable.
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var store = new CachingGen.Storage.InMemoryCacheStore(time);
        var log = new FaultyWriteBackLog(new CachingGen.WriteBack.InMemoryWriteBackLog(store, 2));
        await using var a = new Harness(log: log, store: store, time: time);
        await using var b = new Harness(log: log, store: store, time: time);
        await store.SetManyAsync(new[] { new CachingGen.Storage.CacheEntry(Harness.Key(7), new byte[] { 1, 2, 3 }, TimeSpan.FromHours(1)) }, CancellationToken.None);
        a.Database.Seed(new Preference(7, 1, "row", true));
        var armed = true;
        log.AfterPendingCount = (key, count) =>
        {
            if (armed && key == Harness.Key(7) && count == 0)
            {
                armed = false;
                b.Repository.UpdateAsync(new Preference(7, 2, "acknowledged", true)).GetAwaiter().GetResult();
            }
        };

        Assert.Equal("acknowledged", (await a.Repository.GetAsync(7))!.Channel);
        Assert.False(armed);
        Assert.Equal("acknowledged", a.Inspect(7).Value!.Channel);
        Assert.Null(a.Inspect(7).ExpiresAt);
    }

    [Fact]
    public async Task Evict_after_a_pending_write_back_flushes_it_first()
    {
        await using var h = new Harness();
        await h.Repository.UpdateAsync(new Preference(1, 1, "back", true));
        FakePreferenceDatabase.DeleteOpId.Value = 2;
        await h.Repository.DeleteAsync(1);
        await h.Runtime.WriteBack.FlushAsync();
        Assert.Equal(new long[] { 1, 2 }, h.Database.HistoryOf(1));
        Assert.False(h.Database.Rows.ContainsKey(1));
        Assert.Null(await h.Repository.GetAsync(1));
    }

    [Fact]
    public async Task WriteAround_after_a_pending_write_back_flushes_it_first()
    {
        await using var h = new Harness();
        await h.Repository.UpdateAsync(new Preference(1, 1, "back", true));
        await h.Repository.UpdateAsync(new Preference(2, 1, "back", true));
        await h.Repository.SaveManyAsync(new[] { new Preference(1, 2, "around", true), new Preference(2, 2, "around", true) });
        await h.Runtime.WriteBack.FlushAsync();
        Assert.Equal(new long[] { 1, 2 }, h.Database.HistoryOf(1));
        Assert.Equal(new long[] { 1, 2 }, h.Database.HistoryOf(2));
        Assert.Equal("around", (await h.Repository.GetAsync(1))!.Channel);
    }

    [Theory]
    [InlineData(1, 1024)]
    [InlineData(3, 2)]
    public async Task Concurrent_mixed_writers_on_the_same_keys_keep_acknowledgement_order(int shardCount, int keyGates)
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("CACHINGGEN_TEST_SEED"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var fixedSeed)
            ? fixedSeed
            : Random.Shared.Next();
        output.WriteLine($"seed {seed} (set CACHINGGEN_TEST_SEED to replay)");

        await using var h = new Harness(o =>
        {
            o.ShardCount = shardCount;
            o.BatchSize = 3;
            o.KeyGateCount = keyGates;
        });
        h.Database.YieldOnWrite = true;
        await h.Runtime.StartWriteBackAsync();

        long[] keys = { 1, 2, 3, 4, 5 };
        long clock = 0;
        long nextOp = 0;
        var acknowledged = new ConcurrentBag<(long Key, long Op, long Start, long End, string Kind)>();
        const int Writers = 4;
        const int OpsPerWriter = 60;
        var writers = Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
        {
            var random = new Random(seed + w);
            for (var i = 0; i < OpsPerWriter; i++)
            {
                var key = keys[random.Next(keys.Length)];
                var op = Interlocked.Increment(ref nextOp);
                var touched = new List<long> { key };
                var start = Interlocked.Increment(ref clock);
                string kind;
                switch (random.Next(4))
                {
                    case 0:
                        kind = "through";
                        await h.Repository.SaveAsync(new Preference(key, op, kind, true));
                        break;
                    case 1:
                        kind = "around";
                        var other = keys[random.Next(keys.Length)];
                        if (other != key)
                        {
                            touched.Add(other);
                        }

                        await h.Repository.SaveManyAsync(touched.Select(k => new Preference(k, op, kind, true)).ToArray());
                        break;
                    case 2:
                        kind = "back";
                        await h.Repository.UpdateAsync(new Preference(key, op, kind, true));
                        break;
                    default:
                        kind = "evict";
                        FakePreferenceDatabase.DeleteOpId.Value = op;
                        await h.Repository.DeleteAsync(key);
                        break;
                }

                var end = Interlocked.Increment(ref clock);
                foreach (var k in touched)
                {
                    acknowledged.Add((k, op, start, end, kind));
                }
            }
        })).ToArray();

        var all = Task.WhenAll(writers);
        Assert.Same(all, await Task.WhenAny(all, Task.Delay(TimeSpan.FromMinutes(2))));
        await all;
        await h.Runtime.WriteBack.FlushAsync();
        await h.Runtime.WriteBack.FlushAsync();

        foreach (var key in keys)
        {
            var ops = acknowledged.Where(a => a.Key == key).ToList();
            var history = h.Database.HistoryOf(key);
            output.WriteLine($"key {key}: {ops.Count} writes, database order {string.Join(",", history)}");

            // Every acknowledged write reached the database exactly once.
            Assert.Equal(ops.Select(o => o.Op).Order(), history.Order());

            // The database saw the key's writes in acknowledgement order: a write acknowledged before another began
            // is applied before it.
            var position = history.Select((op, index) => (op, index)).ToDictionary(x => x.op, x => x.index);
            foreach (var earlier in ops)
            {
                foreach (var later in ops)
                {
                    if (earlier.End < later.Start)
                    {
                        Assert.True(position[earlier.Op] < position[later.Op],
                            $"key {key}: {earlier.Kind} #{earlier.Op} was acknowledged before {later.Kind} #{later.Op} began but reached the database after it (seed {seed})");
                    }
                }
            }

            // The final state is the last acknowledged write, in the database and in the cache.
            if (ops.Count == 0)
            {
                continue;
            }

            var last = ops.Single(o => o.Op == history[^1]);
            Assert.DoesNotContain(ops, o => last.End < o.Start);
            var expected = last.Kind == "evict" ? null : new Preference(key, last.Op, last.Kind, true);
            Assert.Equal(expected, h.Database.Rows.TryGetValue(key, out var row) ? row : null);
            var cached = h.Inspect(key);
            if (cached.Found)
            {
                Assert.Equal(expected, cached.Value);
                Assert.NotNull(cached.ExpiresAt);
            }

            Assert.Equal(expected, await h.Repository.GetAsync(key));
        }

        Assert.Equal(0, await h.Runtime.WriteBack.GetBacklogAsync());
    }

    /// <summary>Refuses the first begin step as if another process had pinned every key.</summary>
    private sealed class RefuseFirstBegin(CachingGen.Storage.ICacheStore inner) : CachingGen.Storage.ICacheStore
    {
        private int _begins;

        public ValueTask<CachingGen.Storage.CacheLookup> GetAsync(string key, CancellationToken cancellationToken) => inner.GetAsync(key, cancellationToken);

        public ValueTask<bool> TryFillAsync(string key, ReadOnlyMemory<byte> value, TimeSpan timeToLive, long fillToken, CancellationToken cancellationToken)
            => inner.TryFillAsync(key, value, timeToLive, fillToken, cancellationToken);

        public ValueTask<bool> TryFillVersionedAsync(string key, ReadOnlyMemory<byte> value, long version, TimeSpan timeToLive, long fillToken, CancellationToken cancellationToken)
            => inner.TryFillVersionedAsync(key, value, version, timeToLive, fillToken, cancellationToken);

        public ValueTask<CachingGen.Storage.VersionedWriteOutcome[]> SetIfNewerAsync(IReadOnlyList<CachingGen.Storage.VersionedEntry> entries, CancellationToken cancellationToken)
            => inner.SetIfNewerAsync(entries, cancellationToken);

        public ValueTask SetManyAsync(IReadOnlyList<CachingGen.Storage.CacheEntry> entries, CancellationToken cancellationToken) => inner.SetManyAsync(entries, cancellationToken);

        public ValueTask InvalidateAsync(IReadOnlyList<string> keys, TimeSpan? fillTimeToLive, CancellationToken cancellationToken) => inner.InvalidateAsync(keys, fillTimeToLive, cancellationToken);

        public ValueTask<long[]> BeginWritesAsync(IReadOnlyList<string> keys, TimeSpan lease, CancellationToken cancellationToken)
            => Interlocked.Increment(ref _begins) == 1
                ? new ValueTask<long[]>(keys.Select(_ => CachingGen.Storage.ICacheStore.RefusedPinnedToken).ToArray())
                : inner.BeginWritesAsync(keys, lease, cancellationToken);

        public ValueTask<CachingGen.Storage.WriteCompletionOutcome[]> CompleteWritesAsync(IReadOnlyList<CachingGen.Storage.WriteCompletion> completions, CancellationToken cancellationToken)
            => inner.CompleteWritesAsync(completions, cancellationToken);

        public ValueTask<bool> ExpireAsync(string key, TimeSpan timeToLive, CancellationToken cancellationToken) => inner.ExpireAsync(key, timeToLive, cancellationToken);

        public ValueTask<bool[]> InvalidateUnlessPinnedAsync(IReadOnlyList<string> keys, TimeSpan? fillTimeToLive, CancellationToken cancellationToken)
            => inner.InvalidateUnlessPinnedAsync(keys, fillTimeToLive, cancellationToken);
    }
}
