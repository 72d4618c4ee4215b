using System.Diagnostics.Metrics;
using CachingGen.Storage;
using CachingGen.Tests.Support;
using CachingGen.WriteBack;
using Microsoft.Extensions.Time.Testing;
using Sample;

namespace CachingGen.Tests.WriteBack;

/// <summary>Multi-row apply (<c>[WriteBack(ApplyManyWith = ...)]</c>): how the flusher groups a batch's records into
/// calls, and what it keeps of per-key order, exactly-once and poison isolation.</summary>
public sealed class WriteBackBatchApplyTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task Consecutive_records_of_distinct_keys_go_to_the_database_in_one_call_and_are_counted()
    {
        BatchingPreferenceDispatcher? batching = null;
        await using var h = new Harness(o => o.ShardCount = 1, dispatcher: db => batching = new BatchingPreferenceDispatcher(db));
        var applied = CountAppliedInBatches(h, out var listener);
        using (listener)
        {
            for (var id = 1; id <= 5; id++)
            {
                await h.Repository.UpdateAsync(new Preference(id, 1, "c" + id, true));
            }

            await h.Runtime.WriteBack.FlushAsync();

            Assert.Equal(new[] { new long[] { 1, 2, 3, 4, 5 } }, batching!.Calls);
            Assert.Equal(5, h.Database.Updates);
            for (var id = 1; id <= 5; id++)
            {
                Assert.Equal(new long[] { 1 }, h.Database.HistoryOf(id));
                Assert.True(h.Ledger.IsApplied($"pref:{id}@1"));
                Assert.NotNull(h.Inspect(id).ExpiresAt);
            }

            Assert.Equal(5, Interlocked.Read(ref applied.Value));
            Assert.Equal(0, await h.Runtime.WriteBack.GetBacklogAsync());
        }
    }

    [Fact]
    public async Task A_key_that_repeats_ends_the_run_so_its_writes_apply_in_order_in_separate_calls()
    {
        BatchingPreferenceDispatcher? batching = null;
        await using var h = new Harness(o => o.ShardCount = 1, dispatcher: db => batching = new BatchingPreferenceDispatcher(db));
        var applied = CountAppliedInBatches(h, out var listener);
        using (listener)
        {
            await h.Repository.UpdateAsync(new Preference(1, 1, "a", true));
            await h.Repository.UpdateAsync(new Preference(2, 1, "b", true));
            await h.Repository.UpdateAsync(new Preference(1, 2, "a2", true));
            await h.Repository.UpdateAsync(new Preference(3, 1, "c", true));
            await h.Repository.UpdateAsync(new Preference(1, 3, "a3", true));

            await h.Runtime.WriteBack.FlushAsync();

            Assert.Equal(new[] { new long[] { 1, 2 }, new long[] { 1, 3 } }, batching!.Calls);
            Assert.Equal(new long[] { 1, 2, 3 }, h.Database.HistoryOf(1));
            Assert.Equal("a3", h.Database.Rows[1].Channel);
            Assert.Equal(new long[] { 1 }, h.Database.HistoryOf(2));
            Assert.Equal(new long[] { 1 }, h.Database.HistoryOf(3));

            // The last record (key 1 again, nothing after it) is a run of one: replayed by the single-record path.
            Assert.Equal(4, Interlocked.Read(ref applied.Value));
        }
    }

    [Fact]
    public async Task Coalesced_writes_of_a_key_leave_one_row_so_they_do_not_break_the_run()
    {
        BatchingPreferenceDispatcher? batching = null;
        await using var h = new Harness(
            o =>
            {
                o.ShardCount = 1;
                o.CoalescedWriteBackMethods.Add("Sample.IPreferenceRepository." + BatchingPreferenceDispatcher.UpdateMethod);
            },
            dispatcher: db => batching = new BatchingPreferenceDispatcher(db));
        await h.Repository.UpdateAsync(new Preference(1, 1, "a", true));
        await h.Repository.UpdateAsync(new Preference(2, 1, "b", true));
        await h.Repository.UpdateAsync(new Preference(1, 2, "a2", true));
        await h.Repository.UpdateAsync(new Preference(3, 1, "c", true));

        await h.Runtime.WriteBack.FlushAsync();

        Assert.Equal(new[] { new long[] { 2, 1, 3 } }, batching!.Calls);
        Assert.Equal(new long[] { 2 }, h.Database.HistoryOf(1));
        Assert.True(h.Ledger.IsApplied("pref:1@1"));
        Assert.True(h.Ledger.IsApplied("pref:1@2"));
    }

    [Fact]
    public async Task Records_the_ledger_shows_applied_are_left_out_of_the_call()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var store = new InMemoryCacheStore(time);
        var durableLog = new InMemoryWriteBackLog(store, 1);
        var ledger = new TransactionalTestLedger();
        var database = new FakePreferenceDatabase();
        var crashing = new FaultyWriteBackLog(durableLog) { FailNextAcknowledge = true };

        BatchingPreferenceDispatcher? before = null;
        var first = new Harness(o => o.ShardCount = 1, log: crashing, ledger: ledger, database: database, store: store, time: time, dispatcher: db => before = new BatchingPreferenceDispatcher(db));
        await first.Repository.UpdateAsync(new Preference(1, 1, "a", true));
        await first.Repository.UpdateAsync(new Preference(2, 1, "b", true));
        await Assert.ThrowsAsync<IOException>(() => first.Runtime.WriteBack.FlushAsync());
        Assert.Equal(new[] { new long[] { 1, 2 } }, before!.Calls);
        Assert.Equal(2, database.Updates);

        // The "restarted process" finds 1 and 2 pending again (committed, never acknowledged), behind new writes.
        BatchingPreferenceDispatcher? after = null;
        await using var second = new Harness(o => o.ShardCount = 1, log: durableLog, ledger: ledger, database: database, store: store, time: time, dispatcher: db => after = new BatchingPreferenceDispatcher(db));
        await second.Repository.UpdateAsync(new Preference(3, 1, "c", true));
        await second.Repository.UpdateAsync(new Preference(4, 1, "d", true));
        await second.Runtime.WriteBack.FlushAsync();

        Assert.Equal(new[] { new long[] { 3, 4 } }, after!.Calls);
        Assert.Equal(4, database.Updates);
        foreach (var id in new long[] { 1, 2, 3, 4 })
        {
            Assert.Equal(new long[] { 1 }, database.HistoryOf(id));
        }

        Assert.Equal(2, second.Loggers.WithEvent(1204).Count());
        Assert.Equal(0, await durableLog.GetBacklogAsync(0, None));
    }

    [Fact]
    public async Task A_poison_record_inside_a_run_fails_the_call_then_is_isolated_and_dead_lettered_while_other_keys_flush()
    {
        BatchingPreferenceDispatcher? batching = null;
        await using var h = new Harness(
            o =>
            {
                o.ShardCount = 1;
                o.MaxAttempts = 2;
                o.RetryBaseDelay = TimeSpan.Zero;
                o.RetryMaxDelay = TimeSpan.Zero;
            },
            dispatcher: db => batching = new BatchingPreferenceDispatcher(db));
        await h.Repository.UpdateAsync(new Preference(1, 1, "a", true));
        await h.Repository.UpdateAsync(new Preference(2, 1, "poison", true));
        await h.Repository.UpdateAsync(new Preference(3, 1, "c", true));
        await h.Repository.UpdateAsync(new Preference(2, 2, "after", true));
        await h.Repository.UpdateAsync(new Preference(4, 1, "d", true));
        h.Database.BeforeWrite = (op, p, _) => op == "update" && p is { UserId: 2, Version: 1 } ? throw new InvalidOperationException("poison") : Task.CompletedTask;

        await h.Runtime.WriteBack.FlushAsync();

        // The run [1, 2, 3] failed and rolled back as a whole; then every record went alone.
        Assert.Equal(new long[] { 1, 2, 3 }, batching!.Calls[0]);
        Assert.Equal(new long[] { 1 }, h.Database.HistoryOf(1));
        Assert.Equal(new long[] { 1 }, h.Database.HistoryOf(3));
        Assert.Equal(new long[] { 1 }, h.Database.HistoryOf(4));
        Assert.Equal(new long[] { 2 }, h.Database.HistoryOf(2));
        var dead = Assert.Single(h.MemoryLog!.DeadLetters);
        Assert.Equal("pref:2@1", dead.Pending.Record.IdempotencyKey);
        Assert.Contains("poison", dead.Error);
        Assert.False(h.Ledger.IsApplied("pref:2@1"));
        Assert.True(h.Ledger.IsApplied("pref:2@2"));
        Assert.Equal(0, await h.Runtime.WriteBack.GetBacklogAsync());
    }

    [Fact]
    public async Task A_record_whose_arguments_cannot_be_read_fails_the_run_then_is_dead_lettered_at_once_alone()
    {
        BatchingPreferenceDispatcher? batching = null;
        await using var h = new Harness(o => o.ShardCount = 1, dispatcher: db => batching = new BatchingPreferenceDispatcher(db));
        await h.Repository.UpdateAsync(new Preference(1, 1, "a", true));
        var policy = new CachingGen.Runtime.WriteBackPolicy(BatchingPreferenceDispatcher.UpdateMethod, TimeSpan.FromSeconds(300));
        await h.Cache.WriteBackAsync(Harness.Key(2), new Preference(2, 1, "b", true), "1", policy, new byte[] { 0xc1 }, None);
        await h.Repository.UpdateAsync(new Preference(3, 1, "c", true));

        await h.Runtime.WriteBack.FlushAsync();

        // The run could not even be built; each record then went alone, and the unreadable one is permanent.
        Assert.Empty(batching!.Calls);
        Assert.Equal(new long[] { 1 }, h.Database.HistoryOf(1));
        Assert.Equal(new long[] { 1 }, h.Database.HistoryOf(3));
        var dead = Assert.Single(h.MemoryLog!.DeadLetters);
        Assert.Equal("pref:2@1", dead.Pending.Record.IdempotencyKey);
        Assert.Equal(0, await h.Runtime.WriteBack.GetBacklogAsync());
    }

    [Fact]
    public async Task Without_atomic_transactions_records_are_never_applied_in_multi_row_calls()
    {
        // A failed multi-row call could not be rolled back, and its records would be replayed one by one on top of it.
        BatchingPreferenceDispatcher? batching = null;
        await using var h = new Harness(o => o.ShardCount = 1, transactions: new InMemoryWriteBackTransactionFactory(), dispatcher: db => batching = new BatchingPreferenceDispatcher(db));
        await h.Repository.UpdateAsync(new Preference(1, 1, "a", true));
        await h.Repository.UpdateAsync(new Preference(2, 1, "b", true));

        await h.Runtime.WriteBack.FlushAsync();

        Assert.Empty(batching!.Calls);
        Assert.Equal(2, h.Database.Updates);
    }

    private static MeasuredTotal CountAppliedInBatches(Harness h, out MeterListener listener)
    {
        var box = new MeasuredTotal();
        listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter, h.Runtime.Telemetry.Meter) && instrument.Name == "cachinggen.writeback.applied_in_batches")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            // Only measurements tagged with their repository count.
            foreach (var tag in tags)
            {
                if (tag.Key == "cachinggen.repository" && Equals(tag.Value, "Sample.IPreferenceRepository"))
                {
                    Interlocked.Add(ref box.Value, value);
                }
            }
        });
        listener.Start();
        return box;
    }

    private sealed class MeasuredTotal
    {
        public long Value;
    }
}
