using System.Text;
using CachingGen.Storage;
using static CachingGen.Redis.Tests.RedisTestEnvironment;

namespace CachingGen.Redis.Tests;

/// <summary>Round trips, counted through a recording connection wrapped around the real one.</summary>
public sealed class RedisBatchTests
{
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);
    private static readonly CancellationToken None = CancellationToken.None;

    [RedisFact]
    public async Task Set_many_is_one_pipelined_batch()
    {
        var counting = new CountingConnection(Shared);
        var store = NewStore(counting.Connection);
        var entries = Enumerable.Range(0, 200).Select(i => new CacheEntry($"k{i}", Encoding.UTF8.GetBytes($"v{i}"), i % 2 == 0 ? Minute : null)).ToArray();

        counting.Reset();
        await store.SetManyAsync(entries, None);

        Assert.Equal(["CreateBatch"], counting.DatabaseCalls);
        var batch = Assert.Single(counting.Batches);
        Assert.Equal(1, batch.Executed);
        Assert.Equal(200, batch.Commands.Count);
        Assert.All(batch.Commands, command => Assert.Equal("StringSetAsync", command));

        // Nothing was sent (so nothing could complete) before the batch was executed as a whole.
        Assert.Equal(0, batch.CompletedBeforeExecute);
        for (var i = 0; i < 200; i++)
        {
            Assert.True((await store.GetAsync($"k{i}", None)).Found);
        }
    }

    [RedisFact]
    public async Task Invalidate_is_one_pipelined_batch()
    {
        var counting = new CountingConnection(Shared);
        var store = NewStore(counting.Connection);
        var keys = Enumerable.Range(0, 150).Select(i => $"k{i}").ToArray();

        counting.Reset();
        await store.InvalidateAsync(keys, TimeSpan.FromSeconds(30), None);

        Assert.Equal(["CreateBatch"], counting.DatabaseCalls);
        var batch = Assert.Single(counting.Batches);
        Assert.Equal(1, batch.Executed);
        Assert.Equal(150, batch.Commands.Count);

        // Tombstones stay plain SETs: inside a script a SET costs Redis more than a pipelined one.
        Assert.All(batch.Commands, command => Assert.Equal("StringSetAsync", command));
        Assert.Equal(0, batch.CompletedBeforeExecute);
        foreach (var key in keys)
        {
            Assert.NotEqual(0, (await store.GetAsync(key, None)).FillToken);
        }
    }

    [RedisFact]
    public async Task Get_is_one_plain_get_a_fill_of_an_absent_key_one_plain_set_and_other_fills_and_expire_one_script_call_each()
    {
        var counting = new CountingConnection(Shared);
        var store = NewStore(counting.Connection);

        // Warm the script cache so EVALSHA is answered (a NOSCRIPT fallback is the only second call).
        await store.InvalidateAsync(["warm"], null, None);
        await store.TryFillAsync("warm", Encoding.UTF8.GetBytes("w"), Minute, (await store.GetAsync("warm", None)).FillToken, None);
        await store.ExpireAsync("warm", Minute, None);

        counting.Reset();
        await store.GetAsync("k", None);
        Assert.Equal(["StringGetAsync"], counting.DatabaseCalls);

        counting.Reset();
        Assert.True(await store.TryFillAsync("k", Encoding.UTF8.GetBytes("v"), Minute, 0, None));
        Assert.Equal(["StringSetAsync"], counting.DatabaseCalls);

        counting.Reset();
        await store.InvalidateAsync(["t"], null, None);
        var tombstone = await store.GetAsync("t", None);
        counting.Reset();
        Assert.True(await store.TryFillAsync("t", Encoding.UTF8.GetBytes("v"), Minute, tombstone.FillToken, None));
        Assert.Equal(["ScriptEvaluateAsync"], counting.DatabaseCalls);

        counting.Reset();
        await store.GetAsync("k", None);
        Assert.Equal(["StringGetAsync"], counting.DatabaseCalls);

        counting.Reset();
        await store.ExpireAsync("k", Minute, None);
        Assert.Equal(["ScriptEvaluateAsync"], counting.DatabaseCalls);
        Assert.Empty(counting.Batches);
    }
}
