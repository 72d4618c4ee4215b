using CachingGen.Storage;
using CachingGen.Tests.Support;
using CachingGen.WriteBack;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace CachingGen.Tests.WriteBack;

public sealed class WriteBackCoordinatorTests
{
    private static (WriteBackCoordinator Coordinator, FaultyWriteBackLog Log, List<string> Unavailable) Create()
    {
        var time = new FakeTimeProvider();
        var store = new InMemoryCacheStore(time, TimeSpan.FromSeconds(10));
        var log = new FaultyWriteBackLog(new InMemoryWriteBackLog(store, 2, NullLogger<InMemoryWriteBackLog>.Instance, time));
        var unavailable = new List<string>();
        var coordinator = new WriteBackCoordinator(64, log, TimeSpan.FromSeconds(5), (key, _) => unavailable.Add(key));
        return (coordinator, log, unavailable);
    }

    [Fact]
    public async Task Complete_settles_the_free_keys_together_and_defers_a_key_whose_direct_write_holds_its_gate()
    {
        var (coordinator, log, _) = Create();
        var failures = new List<(string Key, Exception Exception)>();
        using (await coordinator.EnterAsync("pref:1", CancellationToken.None))
        {
            await coordinator.CompleteAsync(0, [], [("pref:1", TimeSpan.FromMinutes(1)), ("pref:2", TimeSpan.FromMinutes(1)), ("pref:3", null)], failures.Add);
            Assert.Equal(new[] { "pref:2", "pref:3" }, log.Settled.Order());
            Assert.True(coordinator.HasDeferred);
        }

        await coordinator.ApplyDeferredAsync(failures.Add);
        Assert.Equal(new[] { "pref:1", "pref:2", "pref:3" }, log.Settled.Order());
        Assert.False(coordinator.HasDeferred);
        Assert.Empty(failures);

        // The gates were released: a direct write of any of the keys enters at once.
        using var again = await coordinator.EnterAsync("pref:2", CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_dead_letter_settle_deferred_to_a_direct_write_that_is_cancelled_is_not_lost()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var store = new InMemoryCacheStore(time);
        var log = new FaultyWriteBackLog(new InMemoryWriteBackLog(store, 2));
        await using var h = new Harness(log: log, store: store, time: time);
        h.Database.BeforeWrite = (op, _, _) => op == "update" ? throw new CachingGen.Runtime.PermanentWriteBackException("bad row") : Task.CompletedTask;
        await h.Repository.UpdateAsync(new Sample.Preference(5, 1, "dead", true));
        Assert.Equal("dead", (await h.Repository.GetAsync(5))!.Channel);

        // The direct write drains the record (it is dead-lettered; its settle is deferred to the write, which holds the
        // key's gate), and its caller cancels right then.
        using var cancel = new CancellationTokenSource();
        var armed = true;
        log.AfterPendingCount = (_, count) =>
        {
            if (armed && count == 0)
            {
                cancel.Cancel();
            }
        };
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => h.Repository.SaveAsync(new Sample.Preference(5, 2, "direct", true), cancel.Token));
        armed = false;
        h.Database.BeforeWrite = null;
        Assert.False(h.Database.Rows.ContainsKey(5));

        // The dead-lettered value never reached the database: it must not stay readable.
        await h.Runtime.WriteBack.FlushAsync();
        Assert.Null(await h.Repository.GetAsync(5));
    }

    [Fact]
    public async Task Deferred_keys_are_settled_together_once_their_direct_writes_release_the_gates()
    {
        var (coordinator, log, _) = Create();
        var keys = Enumerable.Range(0, 20).Select(i => $"pref:{i}").ToArray();
        var failures = new List<(string Key, Exception Exception)>();
        using (await coordinator.EnterAndDrainAsync(keys, CancellationToken.None))
        {
            await coordinator.CompleteAsync(0, [], keys.Select(k => (k, (TimeSpan?)TimeSpan.FromMinutes(1))).ToList(), failures.Add);
            Assert.Empty(log.Settled);
        }

        var calls = log.SettleManyCalls;
        await coordinator.ApplyDeferredAsync(failures.Add);
        Assert.Equal(calls + 1, log.SettleManyCalls);
        Assert.Equal(keys.Order(), log.Settled.Order());
        Assert.False(coordinator.HasDeferred);
        Assert.Empty(failures);
    }

    [Fact]
    public async Task Settles_of_different_shards_never_defer_each_other()
    {
        var (coordinator, log, _) = Create();
        var byShard = Enumerable.Range(0, 400).Select(i => $"pref:{i}").GroupBy(k => WriteBackSharding.ShardOf(k, log.ShardCount)).ToDictionary(g => g.Key, g => g.ToList());
        Assert.Equal(2, byShard.Count);
        var failures = new List<(string Key, Exception Exception)>();

        // Shard 0's settle holds the gates of its ~200 keys while it waits for the log; 64 gates striped by key
        // alone would put nearly every key of shard 1 behind one of them.
        var release = new TaskCompletionSource();
        log.HoldNextSettleMany = release.Task;
        var first = coordinator.CompleteAsync(0, [], byShard[0].Select(k => (k, (TimeSpan?)null)).ToList(), failures.Add);
        Assert.False(first.IsCompleted);

        await coordinator.CompleteAsync(1, [], byShard[1].Select(k => (k, (TimeSpan?)null)).ToList(), failures.Add);
        Assert.False(coordinator.HasDeferred);
        Assert.Equal(byShard[1].Order(), log.Settled.Order());

        release.SetResult();
        await first.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(byShard[0].Concat(byShard[1]).Order(), log.Settled.Order());
        Assert.Empty(failures);
    }

    [Fact]
    public async Task A_busy_key_is_deferred_only_once_the_acknowledgement_returned()
    {
        // A deferred settle applied before the acknowledgement would find the record still pending, settle nothing
        // and be gone: the entry would stay pinned.
        var (coordinator, log, _) = Create();
        var failures = new List<(string Key, Exception Exception)>();
        var release = new TaskCompletionSource();
        Task completion;
        using (await coordinator.EnterAsync("pref:1", CancellationToken.None))
        {
            log.HoldNextSettleMany = release.Task;
            completion = coordinator.CompleteAsync(0, [], [("pref:1", TimeSpan.FromMinutes(1)), ("pref:2", TimeSpan.FromMinutes(1))], failures.Add);
            Assert.False(completion.IsCompleted);
            Assert.False(coordinator.HasDeferred);
        }

        await coordinator.ApplyDeferredAsync(failures.Add);
        Assert.DoesNotContain("pref:1", log.Settled);
        release.SetResult();
        await completion.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.True(coordinator.HasDeferred);
        await coordinator.ApplyDeferredAsync(failures.Add);
        Assert.Equal(new[] { "pref:1", "pref:2" }, log.Settled.Order());
        Assert.Empty(failures);
    }

    [Fact]
    public async Task Complete_hands_every_key_of_a_failed_call_to_the_runtime_when_the_store_is_unavailable()
    {
        var (coordinator, log, unavailable) = Create();
        log.SettleUnavailable = true;
        var failures = new List<(string Key, Exception Exception)>();
        Assert.False(await coordinator.CompleteAsync(0, [], [("pref:1", TimeSpan.FromMinutes(1)), ("pref:2", null)], failures.Add));

        Assert.Contains("pref:1", unavailable);
        Assert.Contains("pref:2", unavailable);
        Assert.Empty(failures);
        using var again = await coordinator.EnterAsync("pref:1", CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Deferred_settles_that_fail_are_reported_and_release_their_gates()
    {
        var (coordinator, log, unavailable) = Create();
        var failures = new List<(string Key, Exception Exception)>();
        using (await coordinator.EnterAsync("pref:1", CancellationToken.None))
        {
            await coordinator.CompleteAsync(0, [], [("pref:1", TimeSpan.FromMinutes(1))], failures.Add);
        }

        log.SettleUnavailable = true;
        await coordinator.ApplyDeferredAsync(failures.Add);
        Assert.Equal(new[] { "pref:1" }, unavailable);
        Assert.False(coordinator.HasDeferred);
        using var again = await coordinator.EnterAsync("pref:1", CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(5));
    }
}
