using CachingGen.Runtime;
using CachingGen.Storage;
using CachingGen.Tests.Support;
using CachingGen.WriteBack;
using Microsoft.Extensions.Logging;
using Sample;

namespace CachingGen.Tests.WriteBack;

public sealed class WriteBackFlushTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task Flush_applies_once_then_gives_the_entry_its_time_to_live()
    {
        await using var h = new Harness();
        await h.Repository.UpdateAsync(new Preference(42, 7, "push", true));
        Assert.Null(h.Inspect(42).ExpiresAt);

        await h.Runtime.WriteBack.FlushAsync();

        Assert.Equal(1, h.Database.Updates);
        Assert.Equal(new Preference(42, 7, "push", true), h.Database.Rows[42]);
        Assert.True(h.Ledger.IsApplied("pref:42@7"));
        Assert.Equal(0, await h.Log.GetPendingCountAsync("pref:42", None));
        Assert.Equal(h.Time.GetUtcNow() + TimeSpan.FromSeconds(300), h.Inspect(42).ExpiresAt);

        await h.Runtime.WriteBack.FlushAsync();
        Assert.Equal(1, h.Database.Updates);
    }

    [Fact]
    public async Task Records_of_one_key_flush_in_order_and_the_entry_stays_pinned_while_any_is_pending()
    {
        await using var h = new Harness(o => o.BatchSize = 1);
        await h.Repository.UpdateAsync(new Preference(1, 1, "a", true));
        await h.Repository.UpdateAsync(new Preference(1, 2, "b", true));
        await h.Repository.UpdateAsync(new Preference(1, 3, "c", true));
        Assert.Equal("c", h.Inspect(1).Value!.Channel);

        await h.Runtime.WriteBack.FlushAsync();
        Assert.Equal(new long[] { 1, 2, 3 }, h.Database.HistoryOf(1));
        Assert.Equal("c", h.Database.Rows[1].Channel);
        Assert.NotNull(h.Inspect(1).ExpiresAt);
        Assert.Equal(1, h.Store.Expires);
    }

    [Fact]
    public async Task Redelivery_after_a_crash_between_commit_and_ack_applies_once()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var store = new InMemoryCacheStore(time);
        var durableLog = new InMemoryWriteBackLog(store, 2);
        var ledger = new TransactionalTestLedger();
        var database = new FakePreferenceDatabase();
        var crashing = new FaultyWriteBackLog(durableLog) { FailNextAcknowledge = true };

        var first = new Harness(log: crashing, ledger: ledger, database: database, store: store, time: time);
        await first.Repository.UpdateAsync(new Preference(5, 1, "a", true));
        await Assert.ThrowsAsync<IOException>(() => first.Runtime.WriteBack.FlushAsync());
        Assert.Equal(1, database.Updates);
        Assert.Equal(1, await durableLog.GetPendingCountAsync("pref:5", None));

        // The "restarted process": a new runtime over the same log, ledger and database.
        await using var second = new Harness(log: durableLog, ledger: ledger, database: database, store: store, time: time);
        await second.Runtime.WriteBack.FlushAsync();
        Assert.Equal(1, database.Updates);
        Assert.Equal(0, await durableLog.GetPendingCountAsync("pref:5", None));
        Assert.Contains(second.Loggers.Entries, e => e.EventId == 1204);
        Assert.NotNull(second.Inspect(5).ExpiresAt);
    }

    [Fact]
    public async Task Without_atomic_transactions_a_failing_record_never_replays_the_records_applied_before_it()
    {
        // The in-memory ledger cannot roll the inner repository back: a batch that failed halfway must not be retried
        // as a whole, or the records before the failure would be applied twice.
        var plain = new InMemoryWriteBackTransactionFactory();
        await using var h = new Harness(
            o =>
            {
                o.ShardCount = 1;
                o.MaxAttempts = 2;
                o.RetryBaseDelay = TimeSpan.Zero;
                o.RetryMaxDelay = TimeSpan.Zero;
            },
            transactions: plain);
        await h.Repository.UpdateAsync(new Preference(21, 1, "a", true));
        await h.Repository.UpdateAsync(new Preference(22, 1, "poison", true));
        await h.Repository.UpdateAsync(new Preference(23, 1, "c", true));
        h.Database.BeforeWrite = (op, p, _) => op == "update" && p is { UserId: 22 } ? throw new InvalidOperationException("poison") : Task.CompletedTask;

        await h.Runtime.WriteBack.FlushAsync();

        Assert.Equal(new long[] { 1 }, h.Database.HistoryOf(21));
        Assert.Equal(new long[] { 1 }, h.Database.HistoryOf(23));
        Assert.Empty(h.Database.HistoryOf(22));
        Assert.True(plain.IsApplied("pref:21@1"));
        Assert.True(plain.IsApplied("pref:23@1"));
        Assert.False(plain.IsApplied("pref:22@1"));
        Assert.Single(h.MemoryLog!.DeadLetters);
    }

    [Fact]
    public async Task Poison_record_is_dead_lettered_after_max_attempts_while_other_keys_flush()
    {
        await using var h = new Harness(o =>
        {
            o.ShardCount = 1;
            o.MaxAttempts = 3;
            o.RetryBaseDelay = TimeSpan.Zero;
            o.RetryMaxDelay = TimeSpan.Zero;
        });
        h.Database.BeforeWrite = (op, p, _) => op == "update" && p is { UserId: 13, Version: 1 } ? throw new InvalidOperationException("poison") : Task.CompletedTask;

        await h.Repository.UpdateAsync(new Preference(11, 1, "a", true));
        await h.Repository.UpdateAsync(new Preference(13, 1, "poison", true));
        await h.Repository.UpdateAsync(new Preference(12, 1, "b", true));
        await h.Repository.UpdateAsync(new Preference(13, 2, "after", true));
        await h.Repository.UpdateAsync(new Preference(14, 1, "c", true));
        await h.Repository.UpdateAsync(new Preference(15, 1, "lonely-poison", true));
        h.Database.BeforeWrite = (op, p, _) => op == "update" && p is { UserId: 13, Version: 1 } or { UserId: 15 } ? throw new InvalidOperationException("poison") : Task.CompletedTask;

        await h.Runtime.WriteBack.FlushAsync();

        Assert.Equal(new long[] { 1 }, h.Database.HistoryOf(11));
        Assert.Equal(new long[] { 1 }, h.Database.HistoryOf(12));
        Assert.Equal(new long[] { 2 }, h.Database.HistoryOf(13));
        Assert.Equal(new long[] { 1 }, h.Database.HistoryOf(14));
        Assert.Empty(h.Database.HistoryOf(15));
        var dead = h.MemoryLog!.DeadLetters;
        Assert.Equal(new[] { "pref:13@1", "pref:15@1" }, dead.Select(d => d.Pending.Record.IdempotencyKey).Order());
        Assert.All(dead, d => Assert.Contains("poison", d.Error));
        Assert.Equal(2, h.Loggers.WithEvent(1202).Count());
        Assert.Equal(4, h.Loggers.WithEvent(1201).Count());

        // 13's later record was applied and unpinned; 15's dead write was dropped from the cache so readers see the database.
        Assert.Equal("after", h.Inspect(13).Value!.Channel);
        Assert.NotNull(h.Inspect(13).ExpiresAt);
        Assert.False(h.Inspect(15).Found);
        Assert.Null(await h.Repository.GetAsync(15));
    }

    [Fact]
    public async Task A_failing_key_with_more_records_than_the_read_window_does_not_hold_up_the_shards_other_keys()
    {
        // 100 records of a failing key fill the read window (16 x BatchSize = 64) many times over. While the key backs
        // off (a minute; the clock does not move), the flusher reads past its records and flushes every other key;
        // once the key recovers, its records apply in their order.
        await using var h = new Harness(o =>
        {
            o.ShardCount = 1;
            o.BatchSize = 4;
            o.MaxAttempts = 3;
            o.RetryBaseDelay = TimeSpan.FromMinutes(1);
            o.RetryMaxDelay = TimeSpan.FromMinutes(1);
            o.RetryJitter = false;
        });
        for (var version = 1; version <= 100; version++)
        {
            await h.Repository.UpdateAsync(new Preference(13, version, "v" + version, true));
        }

        for (var user = 1; user <= 10; user++)
        {
            await h.Repository.UpdateAsync(new Preference(user, 1, "other", true));
        }

        var failing = true;
        h.Database.BeforeWrite = (op, p, _) => failing && op == "update" && p is { UserId: 13 } ? throw new InvalidOperationException("unavailable row") : Task.CompletedTask;

        using (var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            try
            {
                await h.Runtime.WriteBack.FlushKeyAsync("pref:10", deadline.Token);
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested)
            {
                // Let the harness drain on disposal, then fail.
                failing = false;
                h.Time.Advance(TimeSpan.FromHours(1));
                Assert.Fail("the shard's other keys waited for the failing key's retry");
            }
        }

        for (var user = 1; user <= 10; user++)
        {
            Assert.Equal(new long[] { 1 }, h.Database.HistoryOf(user));
        }

        Assert.Empty(h.Database.HistoryOf(13));
        Assert.Equal(100, await h.Log.GetPendingCountAsync("pref:13", None));
        Assert.Empty(h.MemoryLog!.DeadLetters);
        Assert.Single(h.Loggers.WithEvent(1201));

        failing = false;
        h.Time.Advance(TimeSpan.FromMinutes(2));
        await h.Runtime.WriteBack.FlushAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(Enumerable.Range(1, 100).Select(v => (long)v), h.Database.HistoryOf(13));
        Assert.Equal(0, await h.Log.GetBacklogAsync(0, None));
        Assert.Empty(h.MemoryLog!.DeadLetters);
    }

    [Fact]
    public async Task A_retry_that_falls_due_behind_a_long_backlog_of_a_key_still_backing_off_is_retried()
    {
        // Key 13 keeps failing with 100 records (a growing backoff); key 20 fails once, behind them. When 20's retry
        // falls due while 13 still backs off, the flusher must scan past 13's records to 20's, not read the oldest
        // window again and again.
        await using var h = new Harness(o =>
        {
            o.ShardCount = 1;
            o.BatchSize = 4;
            o.MaxAttempts = 10;
            o.RetryBaseDelay = TimeSpan.FromMinutes(1);
            o.RetryMaxDelay = TimeSpan.FromHours(1);
            o.RetryJitter = false;
        });
        var failing = new HashSet<long> { 13 };
        h.Database.BeforeWrite = (op, p, _) => op == "update" && p is not null && failing.Contains(p.UserId) ? throw new InvalidOperationException("unavailable row") : Task.CompletedTask;
        for (var version = 1; version <= 100; version++)
        {
            await h.Repository.UpdateAsync(new Preference(13, version, "v" + version, true));
        }

        await h.Repository.UpdateAsync(new Preference(1, 1, "other", true));
        await h.Runtime.WriteBack.FlushKeyAsync("pref:1").WaitAsync(TimeSpan.FromSeconds(30));
        h.Time.Advance(TimeSpan.FromSeconds(61));
        await h.Repository.UpdateAsync(new Preference(2, 1, "other", true));
        await h.Runtime.WriteBack.FlushKeyAsync("pref:2").WaitAsync(TimeSpan.FromSeconds(30));

        failing.Add(20);
        await h.Repository.UpdateAsync(new Preference(20, 1, "late", true));
        await h.Repository.UpdateAsync(new Preference(3, 1, "other", true));
        await h.Runtime.WriteBack.FlushKeyAsync("pref:3").WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Empty(h.Database.HistoryOf(20));

        // 20's retry is due now; 13's second backoff (two minutes) is not over.
        failing.Remove(20);
        h.Time.Advance(TimeSpan.FromSeconds(61));
        var deliveredBefore = (await h.MemoryLog!.ReadAsync(0, 1, None))[0].DeliveryCount;
        using (var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            try
            {
                await h.Runtime.WriteBack.FlushKeyAsync("pref:20", deadline.Token);
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested)
            {
                failing.Clear();
                h.Time.Advance(TimeSpan.FromHours(2));
                Assert.Fail("the due retry of key 20 was never reached behind key 13's records");
            }
        }

        Assert.Equal(new long[] { 1 }, h.Database.HistoryOf(20));
        Assert.Empty(h.Database.HistoryOf(13));
        var deliveredAfter = (await h.MemoryLog!.ReadAsync(0, 1, None))[0].DeliveryCount;
        Assert.InRange(deliveredAfter - deliveredBefore, 1, 3);

        failing.Clear();
        h.Time.Advance(TimeSpan.FromHours(2));
        await h.Runtime.WriteBack.FlushAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(Enumerable.Range(1, 100).Select(v => (long)v), h.Database.HistoryOf(13));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_log_decorator_that_does_not_forward_the_read_position_never_makes_the_flusher_spin(bool claimsToForwardIt)
    {
        // Not forwarding it and saying so: the flusher reads from the oldest record every time. Not forwarding it but
        // claiming to: a read that returns the record at its own start position counts as no progress.
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var store = new InMemoryCacheStore(time);
        var log = new FaultyWriteBackLog(new InMemoryWriteBackLog(store, 1)) { ForwardsPosition = false, ClaimsToForwardPosition = claimsToForwardIt };
        await using var h = new Harness(o =>
        {
            o.ShardCount = 1;
            o.RetryBaseDelay = TimeSpan.FromMinutes(1);
            o.RetryMaxDelay = TimeSpan.FromMinutes(1);
        }, log: log, store: store, time: time);
        h.Database.BeforeWrite = (op, p, _) => op == "update" && p is { UserId: 13 } ? throw new InvalidOperationException("unavailable row") : Task.CompletedTask;
        await h.Repository.UpdateAsync(new Preference(13, 1, "a", true));
        await h.Repository.UpdateAsync(new Preference(13, 2, "b", true));
        await h.Repository.UpdateAsync(new Preference(1, 1, "other", true));
        await h.Runtime.WriteBack.FlushKeyAsync("pref:1").WaitAsync(TimeSpan.FromSeconds(30));

        // Key 13 backs off for a minute of a clock that does not move: the flusher waits instead of reading again.
        // A second of real time: long enough for the flush call's own first read even on a loaded CI machine (which has
        // stalled tests for most of a second), and a flusher that spins would read thousands of times in it.
        var reads = log.Reads;
        using (var wait = new CancellationTokenSource(TimeSpan.FromSeconds(1)))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => h.Runtime.WriteBack.FlushKeyAsync("pref:13", wait.Token));
        }

        var readsWhileBackingOff = log.Reads - reads;
        h.Database.BeforeWrite = null;
        h.Time.Advance(TimeSpan.FromMinutes(5));
        await h.Runtime.WriteBack.FlushAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.InRange(readsWhileBackingOff, 1, 4);
        Assert.Equal(new long[] { 1, 2 }, h.Database.HistoryOf(13));
    }

    [Fact]
    public async Task Failures_noted_before_another_flusher_owned_the_shard_are_forgotten()
    {
        // This flusher saw 13@1 fail (a ten-minute backoff), lost the shard, and took it back after the other owner had
        // applied 13@1. Its old failure must not hold 13's next record back for the rest of those ten minutes.
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var store = new InMemoryCacheStore(time);
        var inner = new InMemoryWriteBackLog(store, 1);
        var log = new FaultyWriteBackLog(inner);
        await using var h = new Harness(o =>
        {
            o.ShardCount = 1;
            o.RetryBaseDelay = TimeSpan.FromMinutes(10);
            o.RetryMaxDelay = TimeSpan.FromMinutes(10);
            o.RetryJitter = false;
        }, log: log, store: store, time: time);
        h.Database.BeforeWrite = (op, p, _) => op == "update" && p is { UserId: 13, Version: 1 } ? throw new InvalidOperationException("unavailable row") : Task.CompletedTask;
        await h.Repository.UpdateAsync(new Preference(13, 1, "a", true));
        await h.Repository.UpdateAsync(new Preference(1, 1, "other", true));
        await h.Runtime.WriteBack.FlushKeyAsync("pref:1").WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(1, await inner.GetPendingCountAsync("pref:13", None));

        // The other owner applied 13@1 meanwhile.
        await inner.AcknowledgeAsync(0, await inner.ReadAsync(0, 10, None), None);
        log.ExtraOwnershipChanges = 2;
        await h.Repository.UpdateAsync(new Preference(13, 2, "b", true));

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await h.Runtime.WriteBack.FlushKeyAsync("pref:13", deadline.Token);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            time.Advance(TimeSpan.FromHours(1));
            Assert.Fail("a failure noted before the shard changed owners held the key back");
        }

        Assert.Equal(new long[] { 2 }, h.Database.HistoryOf(13));
    }

    [Fact]
    public async Task Failed_attempts_the_log_counted_for_a_previous_owner_count_towards_max_attempts()
    {
        await using var h = new Harness(o =>
        {
            o.ShardCount = 1;
            o.MaxAttempts = 3;
            o.RetryBaseDelay = TimeSpan.Zero;
            o.RetryMaxDelay = TimeSpan.Zero;
        });
        await h.Repository.UpdateAsync(new Preference(13, 1, "poison", true));
        h.Database.BeforeWrite = (op, p, _) => op == "update" && p is { UserId: 13 } ? throw new InvalidOperationException("poison") : Task.CompletedTask;

        // A previous owner of the shard failed twice, then died: the log kept its count with the record.
        var pending = Assert.Single(await h.Log.ReadAsync(0, 10, None));
        Assert.Equal(0, pending.FailedAttempts);
        Assert.Equal(1, await h.Log.RecordFailedAttemptAsync(pending, None));
        Assert.Equal(2, await h.Log.RecordFailedAttemptAsync(pending, None));
        Assert.Equal(2, Assert.Single(await h.Log.ReadAsync(0, 10, None)).FailedAttempts);

        await h.Runtime.WriteBack.FlushAsync();

        Assert.Equal(1, h.Database.UpdateAttempts);
        Assert.Equal("pref:13@1", Assert.Single(h.MemoryLog!.DeadLetters).Pending.Record.IdempotencyKey);
        Assert.Empty(h.Loggers.WithEvent(1201));
        Assert.Equal(0, await h.Log.RecordFailedAttemptAsync(pending, None));
    }

    [Fact]
    public async Task Record_of_a_removed_method_is_dead_lettered_at_once()
    {
        await using var h = new Harness(o => o.MaxAttempts = 10);
        var record = new WriteBackRecord("Sample.IPreferenceRepository", "RenamedAsync(Sample.Preference)", "pref:3", "pref:3@1",
            WriteBackArguments.Serialize(Harness.Descriptor.SerializerOptions, new Preference(3, 1, "x", true)), h.Time.GetUtcNow());
        await h.Log.AppendAsync(record, new CacheEntry("pref:3", new byte[] { 1 }, null), None);

        await h.Runtime.WriteBack.FlushAsync();

        var dead = Assert.Single(h.MemoryLog!.DeadLetters);
        Assert.Contains("renamed or removed", dead.Error);
        Assert.Equal(0, h.Database.UpdateAttempts);
        Assert.Empty(h.Loggers.WithEvent(1201));
    }

    [Fact]
    public async Task Record_of_an_unknown_repository_is_retried_then_dead_lettered()
    {
        await using var h = new Harness(o =>
        {
            o.MaxAttempts = 2;
            o.RetryBaseDelay = TimeSpan.Zero;
        });
        var record = new WriteBackRecord("Gone.IRepository", "UpdateAsync(X)", "gone:1", "gone:1@1", new byte[] { 0x90 }, h.Time.GetUtcNow());
        await h.Log.AppendAsync(record, new CacheEntry("gone:1", new byte[] { 1 }, null), None);
        await h.Runtime.WriteBack.FlushAsync();
        Assert.Contains("No write-back dispatcher", Assert.Single(h.MemoryLog!.DeadLetters).Error);
    }

    [Fact]
    public void Retry_delays_double_up_to_the_cap_and_jitter_takes_a_uniform_part_of_their_second_half()
    {
        var options = new CachingGenOptions { RetryBaseDelay = TimeSpan.FromSeconds(1), RetryMaxDelay = TimeSpan.FromSeconds(60), RetryJitter = false };
        Assert.Equal(new[] { 1.0, 2, 4, 8, 16, 32, 60, 60 }, Enumerable.Range(1, 8).Select(a => WriteBackFlusher.Backoff(options, a, 0.7).TotalSeconds));
        Assert.Equal(TimeSpan.FromSeconds(60), WriteBackFlusher.Backoff(options, 10_000, 0.7));

        options.RetryJitter = true;
        Assert.Equal(TimeSpan.FromSeconds(4), WriteBackFlusher.Backoff(options, 4, 0));
        Assert.Equal(TimeSpan.FromSeconds(6), WriteBackFlusher.Backoff(options, 4, 0.5));
        Assert.InRange(WriteBackFlusher.Backoff(options, 4, 0.999_999), TimeSpan.FromSeconds(7.99), TimeSpan.FromSeconds(8));
        Assert.Equal(TimeSpan.FromSeconds(30), WriteBackFlusher.Backoff(options, 20, 0));
    }

    [Fact]
    public async Task Retries_wait_out_exponential_backoff_on_the_time_provider()
    {
        await using var h = new Harness(o =>
        {
            o.ShardCount = 1;
            o.MaxAttempts = 5;
            o.RetryBaseDelay = TimeSpan.FromSeconds(10);
        });
        var failures = 2;
        h.Database.BeforeWrite = (_, _, _) => Interlocked.Decrement(ref failures) >= 0 ? throw new TimeoutException("db busy") : Task.CompletedTask;
        await h.Repository.UpdateAsync(new Preference(1, 1, "a", true));

        var flush = h.Runtime.WriteBack.FlushAsync();
        await Eventually.TrueAsync(() => h.Database.UpdateAttempts == 1, "first attempt");
        h.Time.Advance(TimeSpan.FromSeconds(9));
        await Task.Delay(20);
        Assert.Equal(1, h.Database.UpdateAttempts);
        Assert.False(flush.IsCompleted);

        h.Time.Advance(TimeSpan.FromSeconds(1));
        await Eventually.TrueAsync(() => h.Database.UpdateAttempts == 2, "second attempt after 10 s");
        h.Time.Advance(TimeSpan.FromSeconds(19));
        await Task.Delay(20);
        Assert.Equal(2, h.Database.UpdateAttempts);

        h.Time.Advance(TimeSpan.FromSeconds(1));
        await flush;
        Assert.Equal(3, h.Database.UpdateAttempts);
        Assert.Equal(1, h.Database.Updates);
        Assert.Empty(h.MemoryLog!.DeadLetters);
    }

    [Fact]
    public async Task Background_flusher_wakes_on_append_and_does_not_spin_when_idle()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var store = new InMemoryCacheStore(time);
        var log = new FaultyWriteBackLog(new InMemoryWriteBackLog(store, 1));
        await using var h = new Harness(o => o.ShardCount = 1, log: log, store: store, time: time);
        await h.Runtime.StartWriteBackAsync();

        await h.Repository.UpdateAsync(new Preference(1, 1, "a", true));
        await Eventually.TrueAsync(() => h.Database.Updates == 1, "flushed without time passing");

        await Eventually.TrueAsync(() => h.Runtime.WriteBack.IsRunning, "running");
        var reads = log.Reads;
        for (var i = 0; i < 20; i++)
        {
            await Task.Delay(2);
        }

        Assert.InRange(log.Reads, reads, reads + 2);

        var before = log.Reads;
        h.Time.Advance(h.Options.PollInterval);
        await Eventually.TrueAsync(() => log.Reads > before, "poll interval fallback");
    }

    [Fact]
    public async Task Dispose_drains_pending_records()
    {
        var h = new Harness();
        for (var i = 1; i <= 5; i++)
        {
            await h.Repository.UpdateAsync(new Preference(i, 1, "x", true));
        }

        await h.DisposeAsync();
        Assert.Equal(5, h.Database.Updates);
        Assert.Single(h.Loggers.WithEvent(1206));
    }

    [Fact]
    public async Task Stopping_a_running_flusher_drains_and_logs()
    {
        var h = new Harness();
        await h.Runtime.StartWriteBackAsync();
        for (var i = 1; i <= 5; i++)
        {
            await h.Repository.UpdateAsync(new Preference(i, 1, "x", true));
        }

        await h.DisposeAsync();
        Assert.Equal(5, h.Database.Updates);
        Assert.False(h.Runtime.WriteBack.IsRunning);
        Assert.Single(h.Loggers.WithEvent(1206));
    }

    [Fact]
    public async Task Drain_gives_up_after_the_timeout_and_logs_what_is_pending()
    {
        var h = new Harness(o =>
        {
            o.DrainTimeout = TimeSpan.FromSeconds(5);
            o.RetryBaseDelay = TimeSpan.FromHours(1);
            o.RetryMaxDelay = TimeSpan.FromHours(1);
        });
        h.Database.BeforeWrite = (_, _, _) => throw new TimeoutException("db down");
        await h.Repository.UpdateAsync(new Preference(1, 1, "x", true));
        await h.Repository.UpdateAsync(new Preference(2, 1, "y", true));

        var dispose = h.DisposeAsync().AsTask();
        await Eventually.AdvanceUntilAsync(h.Time, dispose, TimeSpan.FromSeconds(1));

        var warning = Assert.Single(h.Loggers.WithEvent(1207));
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("2 record(s) still pending", warning.Message);
        Assert.Contains(h.Loggers.Entries, e => e.EventId == 1001 && e.Level == LogLevel.Warning && e.Message.Contains("NOT durable"));
    }
}
