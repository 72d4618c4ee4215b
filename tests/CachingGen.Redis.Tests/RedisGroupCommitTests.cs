using System.Text;
using CachingGen.Storage;
using StackExchange.Redis;
using static CachingGen.Redis.Tests.RedisTestEnvironment;

namespace CachingGen.Redis.Tests;

/// <summary>Write steps (markers, completions, invalidations) of concurrent calls share pipelined round trips, and
/// every caller still gets exactly its own outcome.</summary>
public sealed class RedisGroupCommitTests
{
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);
    private static readonly CancellationToken None = CancellationToken.None;

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    [RedisFact]
    public async Task A_bulk_call_is_one_batch_for_each_step_and_one_script_call_on_a_standalone_server()
    {
        var counting = new CountingConnection(Shared);
        var store = NewStore(counting.Connection);
        await WarmMultiKeyScriptsAsync(store);
        var keys = Enumerable.Range(0, 100).Select(i => $"bulk{i}").ToArray();

        counting.Reset();
        var tokens = await store.BeginWritesAsync(keys, Minute, None);
        var begin = Assert.Single(counting.Batches);
        Assert.Equal(["ScriptEvaluateAsync"], begin.Commands);
        Assert.Equal(100, tokens.Distinct().Count());
        Assert.DoesNotContain(ICacheStore.RefusedPinnedToken, tokens);

        counting.Reset();
        var outcomes = await store.CompleteWritesAsync(keys.Select((k, i) => new WriteCompletion(k, tokens[i], Bytes($"v{i}"), Minute, true)).ToArray(), None);
        var complete = Assert.Single(counting.Batches);
        Assert.Equal(["ScriptEvaluateAsync"], complete.Commands);
        Assert.All(outcomes, outcome => Assert.Equal(WriteCompletionOutcome.Stored, outcome));
        Assert.Equal(0, complete.CompletedBeforeExecute);
        Assert.All(counting.DatabaseCalls, call => Assert.Equal("CreateBatch", call));
        for (var i = 0; i < keys.Length; i++)
        {
            Assert.Equal($"v{i}", Encoding.UTF8.GetString((await store.GetAsync(keys[i], None)).Value.Span));
        }
    }

    [RedisFact]
    public async Task In_one_script_call_each_key_gets_its_own_outcome_and_two_commands_for_one_key_apply_in_queue_order()
    {
        var store = NewStore();
        await WarmMultiKeyScriptsAsync(store);

        // One bulk call naming "twice" two times: the second begin sees the first one's marker (contended), so both
        // completions leave a tombstone once the last of them is done, exactly as two calls one after the other would.
        var keys = new[] { "alone", "twice", "failed", "twice" };
        var tokens = await store.BeginWritesAsync(keys, Minute, None);
        Assert.True((await store.GetAsync("twice", None)).WriteInProgress);
        var outcomes = await store.CompleteWritesAsync(
        [
            new WriteCompletion("alone", tokens[0], Bytes("a"), Minute, true),
            new WriteCompletion("twice", tokens[1], Bytes("t1"), Minute, true),
            new WriteCompletion("failed", tokens[2], Bytes("f"), Minute, false),
            new WriteCompletion("twice", tokens[3], Bytes("t2"), Minute, true),
        ], None);

        Assert.Equal([WriteCompletionOutcome.Stored, WriteCompletionOutcome.StillInFlight, WriteCompletionOutcome.Invalidated, WriteCompletionOutcome.Invalidated], outcomes);
        Assert.Equal("a", Encoding.UTF8.GetString((await store.GetAsync("alone", None)).Value.Span));
        Assert.False((await store.GetAsync("failed", None)).Found);
        var twice = await store.GetAsync("twice", None);
        Assert.False(twice.Found);
        Assert.False(twice.WriteInProgress);
    }

    /// <summary>Runs each multi-key script once, so that a test counting commands does not also count the one-off
    /// NOSCRIPT retry of a script the server has not seen yet.</summary>
    private static async Task WarmMultiKeyScriptsAsync(RedisCacheStore store)
    {
        var keys = new[] { "warm1", "warm2" };
        var tokens = await store.BeginWritesAsync(keys, Minute, None);
        await store.CompleteWritesAsync(keys.Select((k, i) => new WriteCompletion(k, tokens[i], Bytes("w"), Minute, true)).ToArray(), None);
        await store.InvalidateAsync(keys, null, None);
        await store.InvalidateUnlessPinnedAsync(keys, null, None);
    }

    [RedisFact]
    public async Task Concurrent_calls_share_round_trips_and_each_caller_sees_its_own_result()
    {
        var store = NewStore();
        await store.BeginWritesAsync(["warm"], Minute, None);
        const int callers = 200;
        var before = store.PipelinedBatches;
        using var start = new ManualResetEventSlim();
        var calls = Enumerable.Range(0, callers).Select(i => Task.Run(async () =>
        {
            start.Wait();
            var key = $"caller{i}";
            var token = Assert.Single(await store.BeginWritesAsync([key], Minute, None));

            // Every third caller's "database write" failed: it must get its own Invalidated, the others Stored.
            var committed = i % 3 != 0;
            var outcome = Assert.Single(await store.CompleteWritesAsync([new WriteCompletion(key, token, Bytes($"value{i}"), Minute, committed)], None));
            return (Key: key, Index: i, Token: token, Outcome: outcome);
        })).ToArray();
        start.Set();
        var results = await Task.WhenAll(calls);

        var batches = store.PipelinedBatches - before;
        Assert.True(batches < 2 * callers / 2, $"{2 * callers} write steps went out in {batches} batches: no group commit");
        Assert.Equal(callers, results.Select(r => r.Token).Distinct().Count());
        foreach (var (key, index, _, outcome) in results)
        {
            var lookup = await store.GetAsync(key, None);
            if (index % 3 != 0)
            {
                Assert.Equal(WriteCompletionOutcome.Stored, outcome);
                Assert.Equal($"value{index}", Encoding.UTF8.GetString(lookup.Value.Span));
            }
            else
            {
                Assert.Equal(WriteCompletionOutcome.Invalidated, outcome);
                Assert.False(lookup.Found);
            }
        }
    }

    [RedisFact]
    public async Task One_callers_failing_command_fails_only_that_caller()
    {
        var store = NewStore();
        var wrongType = store.GetRedisKey("hash");
        await Shared.GetDatabase().HashSetAsync(wrongType, "f", "v");
        await store.BeginWritesAsync(["warm"], Minute, None);

        using var start = new ManualResetEventSlim();
        var good = Enumerable.Range(0, 20).Select(i => Task.Run(async () =>
        {
            start.Wait();
            return await store.BeginWritesAsync([$"good{i}"], Minute, None);
        })).ToArray();
        var bad = Task.Run(async () =>
        {
            start.Wait();
            await store.BeginWritesAsync(["hash"], Minute, None);
        });
        start.Set();

        var failure = await Assert.ThrowsAsync<CacheStoreUnavailableException>(() => bad);
        Assert.IsType<RedisServerException>(failure.InnerException);
        foreach (var call in good)
        {
            Assert.Single(await call);
        }

        for (var i = 0; i < 20; i++)
        {
            Assert.True((await store.GetAsync($"good{i}", None)).WriteInProgress);
        }
    }

    [RedisFact]
    public async Task A_cancelled_caller_gets_a_cancellation_and_nothing_is_sent_for_it()
    {
        var counting = new CountingConnection(Shared);
        var store = NewStore(counting.Connection);
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        counting.Reset();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await store.BeginWritesAsync(["k"], Minute, cancelled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await store.InvalidateAsync(["k"], null, cancelled.Token));
        Assert.Empty(counting.Batches);
        Assert.False((await store.GetAsync("k", None)).WriteInProgress);
    }
}
