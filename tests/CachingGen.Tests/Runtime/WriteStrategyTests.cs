using CachingGen.Runtime;
using CachingGen.Storage;
using CachingGen.Tests.Support;
using Sample;

namespace CachingGen.Tests.Runtime;

/// <summary>Every attribute of the hand-written decorator does exactly the database and cache work it promises.</summary>
public sealed class WriteStrategyTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task WriteThrough_marks_the_key_writes_the_database_then_stores_the_entry_with_the_policy_ttl()
    {
        await using var h = new Harness();
        await h.Repository.SaveAsync(new Preference(1, 1, "email", true));

        Assert.Equal(1, h.Database.Saves);
        Assert.Equal(new[] { "cache:begin:pref:1", "db:save:1", "cache:complete:pref:1=Stored" }, h.Journal.Snapshot());
        Assert.Equal(0, h.Store.SetManys);
        var (value, expiresAt, _) = h.Inspect(1);
        Assert.Equal("email", value!.Channel);
        Assert.Equal(h.Time.GetUtcNow() + TimeSpan.FromSeconds(300), expiresAt);

        Assert.Equal("email", (await h.Repository.GetAsync(1))!.Channel);
        Assert.Equal(0, h.Database.Gets);
    }

    [Fact]
    public async Task WriteThrough_failure_stores_nothing_releases_its_marker_and_propagates()
    {
        await using var h = new Harness();
        await h.Repository.SaveAsync(new Preference(1, 1, "email", true));
        h.Store.Reset();
        h.Database.BeforeWrite = (_, _, _) => throw new InvalidOperationException("constraint violated");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => h.Repository.SaveAsync(new Preference(1, 2, "sms", true)));
        Assert.Equal("constraint violated", error.Message);
        var completion = Assert.Single(Assert.Single(h.Store.CompletionBatches));
        Assert.False(completion.Completion.Committed);
        Assert.Equal(WriteCompletionOutcome.Invalidated, completion.Outcome);
        Assert.False(h.Inspect(1).Found);

        // The marker is gone (a plain tombstone): the next read fills from the database, which still has the old row.
        h.Database.BeforeWrite = null;
        Assert.Equal("email", (await h.Repository.GetAsync(1))!.Channel);
        Assert.Equal("email", h.Inspect(1).Value!.Channel);
    }

    [Fact]
    public async Task WriteThroughMany_sets_every_entry_in_one_batch_after_the_database()
    {
        await using var h = new Harness();
        var policy = new WriteThroughPolicy("SaveAllAsync", TimeSpan.FromSeconds(60));
        var items = new[] { new Preference(1, 1, "a", true), new Preference(2, 1, "b", true), new Preference(3, 1, "c", true) };
        await h.Cache.WriteThroughManyAsync(items, static p => CacheKey.Create("pref", p.UserId), policy, (h.Database, items),
            static async (s, ct) =>
            {
                foreach (var item in s.items)
                {
                    await s.Database.SaveAsync(item, ct);
                }
            }, None);

        Assert.Equal(3, h.Database.Saves);
        Assert.Equal(1, h.Store.Begins);
        var batch = Assert.Single(h.Store.CompletionBatches);
        Assert.Equal(new[] { "pref:1", "pref:2", "pref:3" }, batch.Select(e => e.Completion.Key));
        Assert.All(batch, e => Assert.Equal(TimeSpan.FromSeconds(60), e.Completion.TimeToLive));
        Assert.All(batch, e => Assert.Equal(WriteCompletionOutcome.Stored, e.Outcome));
        Assert.Equal("cache:begin:pref:1,pref:2,pref:3", h.Journal.Snapshot()[0]);
        Assert.Equal("cache:complete:pref:1=Stored,pref:2=Stored,pref:3=Stored", h.Journal.Snapshot()[^1]);
    }

    [Fact]
    public async Task WriteAround_whose_database_call_fails_after_committing_some_rows_still_invalidates_them()
    {
        await using var h = new Harness();
        await h.Repository.SaveAsync(new Preference(1, 1, "old", true));
        await h.Repository.SaveAsync(new Preference(2, 1, "old", true));
        Assert.Equal("old", (await h.Repository.GetAsync(1))!.Channel);
        h.Database.BeforeWrite = (op, _, id) => op == "savemany" && id == 2 ? throw new InvalidOperationException("row 2 failed") : Task.CompletedTask;

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => h.Repository.SaveManyAsync(new[] { new Preference(1, 2, "new", true), new Preference(2, 2, "new", true) }));

        Assert.Equal("row 2 failed", error.Message);
        Assert.Equal("new", h.Database.Rows[1].Channel);
        Assert.Equal("new", (await h.Repository.GetAsync(1))!.Channel);
        Assert.Equal("old", (await h.Repository.GetAsync(2))!.Channel);
    }

    [Fact]
    public async Task Evict_whose_database_call_fails_after_its_delete_committed_still_evicts()
    {
        await using var h = new Harness();
        await h.Repository.SaveAsync(new Preference(3, 1, "old", true));
        Assert.Equal("old", (await h.Repository.GetAsync(3))!.Channel);
        h.Database.AfterWrite = (op, _, _) => op == "delete" ? throw new TimeoutException("the commit's reply was lost") : Task.CompletedTask;

        await Assert.ThrowsAsync<TimeoutException>(() => h.Repository.DeleteAsync(3));

        Assert.False(h.Database.Rows.ContainsKey(3));
        Assert.Null(await h.Repository.GetAsync(3));
    }

    [Fact]
    public async Task WriteAround_writes_the_database_then_invalidates_all_keys_in_one_batch_with_the_fill_ttl()
    {
        await using var h = new Harness();
        await h.Repository.SaveAsync(new Preference(1, 1, "old", true));
        h.Store.Reset();
        h.Journal.Clear();

        await h.Repository.SaveManyAsync(new[] { new Preference(1, 2, "new", true), new Preference(2, 1, "b", true) });

        Assert.Equal(1, h.Database.SaveManys);
        var (keys, fillTtl) = Assert.Single(h.Store.Invalidations);
        Assert.Equal(new[] { "pref:1", "pref:2" }, keys);
        Assert.Equal(TimeSpan.FromSeconds(30), fillTtl);
        Assert.Equal(0, h.Store.SetManys);
        Assert.Equal(new[] { "db:savemany:1", "db:savemany:2", "cache:invalidate:pref:1,pref:2" }, h.Journal.Snapshot());
        Assert.False(h.Inspect(1).Found);

        Assert.Equal("new", (await h.Repository.GetAsync(1))!.Channel);
        Assert.Equal(h.Time.GetUtcNow() + TimeSpan.FromSeconds(30), h.Inspect(1).ExpiresAt);
    }

    [Fact]
    public async Task WriteAround_database_failure_still_invalidates_and_surfaces_the_database_exception()
    {
        // The call may have committed rows before it failed; invalidating is always safe.
        await using var h = new Harness();
        await h.Repository.SaveAsync(new Preference(1, 1, "old", true));
        h.Store.Reset();
        h.Database.BeforeWrite = (_, _, _) => throw new InvalidOperationException("down");
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => h.Repository.SaveManyAsync(new[] { new Preference(1, 2, "x", true) }));
        Assert.Equal("down", error.Message);
        Assert.Equal(1, h.Store.Writes);
        Assert.False(h.Inspect(1).Found);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task WriteAround_without_invalidation_does_no_cache_work(bool hasWriteBack)
    {
        await using var h = new Harness();
        var descriptor = new RepositoryDescriptor(hasWriteBack ? "WithWriteBack" : "Plain", "pref", Generated.CachingGenFormatterResolver.Options, hasWriteBack);
        var cache = h.Runtime.GetEntityCache<Preference>(descriptor);
        await h.Repository.SaveAsync(new Preference(1, 1, "old", true));
        h.Store.Reset();

        await cache.WriteAroundAsync(new[] { "pref:1" }, new WriteAroundPolicy("BulkAsync", TimeSpan.FromSeconds(30), Invalidate: false), h.Database,
            static (db, ct) => new ValueTask(db.SaveManyAsync(new[] { new Preference(1, 2, "new", true) }, ct)), None);

        Assert.Equal(1, h.Database.SaveManys);
        Assert.Equal(0, h.Store.Gets + h.Store.Writes);
        Assert.Equal("old", h.Inspect(1).Value!.Channel);
    }

    [Fact]
    public async Task Evict_deletes_in_the_database_then_invalidates_without_fill_ttl()
    {
        await using var h = new Harness();
        await h.Repository.SaveAsync(new Preference(1, 1, "email", true));
        h.Store.Reset();
        h.Journal.Clear();

        await h.Repository.DeleteAsync(1);

        Assert.Equal(1, h.Database.Deletes);
        Assert.Equal(new[] { "db:delete:1", "cache:invalidate:pref:1" }, h.Journal.Snapshot());
        var (keys, fillTtl) = Assert.Single(h.Store.Invalidations);
        Assert.Equal(new[] { "pref:1" }, keys);
        Assert.Null(fillTtl);
        Assert.Null(await h.Repository.GetAsync(1));
        Assert.Equal(1, h.Database.Gets);
    }

    [Fact]
    public async Task Evict_database_failure_still_evicts_and_surfaces_the_database_exception()
    {
        await using var h = new Harness();
        await h.Repository.SaveAsync(new Preference(1, 1, "email", true));
        h.Store.Reset();
        h.Database.BeforeWrite = (_, _, _) => throw new InvalidOperationException("down");
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => h.Repository.DeleteAsync(1));
        Assert.Equal("down", error.Message);
        Assert.Equal(1, h.Store.Writes);
        Assert.False(h.Inspect(1).Found);
    }

    [Fact]
    public async Task WriteBack_pins_the_entry_and_appends_the_record_without_touching_the_database()
    {
        await using var h = new Harness();
        var now = h.Time.GetUtcNow();
        await h.Repository.UpdateAsync(new Preference(42, 7, "push", true));

        Assert.Equal(0, h.Database.UpdateAttempts);
        var (value, expiresAt, found) = h.Inspect(42);
        Assert.True(found);
        Assert.Null(expiresAt);
        Assert.Equal("push", value!.Channel);
        Assert.Equal(1, await h.Log.GetPendingCountAsync("pref:42", None));

        var shard = CachingGen.WriteBack.WriteBackSharding.ShardOf("pref:42", h.Log.ShardCount);
        var pending = Assert.Single(await h.Log.ReadAsync(shard, 10, None));
        Assert.Equal("Sample.IPreferenceRepository", pending.Record.Repository);
        Assert.Equal("UpdateAsync(Sample.Preference)", pending.Record.Method);
        Assert.Equal("pref:42", pending.Record.EntityKey);
        Assert.Equal("pref:42@7", pending.Record.IdempotencyKey);
        Assert.Equal(now, pending.Record.EnqueuedAt);
        Assert.Equal(TimeSpan.FromSeconds(300), pending.Record.TimeToLive);
        WriteBackArguments.Deserialize(pending.Record.Arguments, Generated.CachingGenFormatterResolver.Options, out Preference? argument);
        Assert.Equal(new Preference(42, 7, "push", true), argument);

        Assert.Equal("push", (await h.Repository.GetAsync(42))!.Channel);
        Assert.Equal(0, h.Database.Gets);
    }

    [Fact]
    public async Task Unannotated_methods_pass_through()
    {
        await using var h = new Harness();
        h.Database.Seed(new Preference(1, 1, "a", true));
        Assert.Equal(1, await h.Repository.CountAsync());
        Assert.Equal(0, h.Store.Gets + h.Store.Writes);
    }

    [Fact]
    public async Task Reads_and_writes_of_an_entity_use_the_same_key()
    {
        await using var h = new Harness();
        await h.Repository.SaveAsync(new Preference(long.MinValue, 1, "edge", true));
        Assert.Equal("edge", (await h.Repository.GetAsync(long.MinValue))!.Channel);
        Assert.Equal(0, h.Database.Gets);
        await h.Repository.DeleteAsync(long.MinValue);
        Assert.Null(await h.Repository.GetAsync(long.MinValue));
    }

    [Fact]
    public async Task Activities_are_emitted_per_cache_operation_when_listened_to()
    {
        var names = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = source => source.Name == "CachingGen",
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) => System.Diagnostics.ActivitySamplingResult.AllData,
            ActivityStopped = activity => names.Enqueue(activity.OperationName),
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);
        await using var h = new Harness();
        h.Database.Seed(new Preference(77, 1, "a", true));
        await h.Repository.GetAsync(77);
        await h.Repository.GetAsync(77);
        await h.Repository.SaveAsync(new Preference(77, 2, "b", true));
        Assert.True(names.Count(n => n == "CachingGen.ReadThrough") >= 2);
        Assert.Contains("CachingGen.WriteThrough", names);
    }
}
