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
}
