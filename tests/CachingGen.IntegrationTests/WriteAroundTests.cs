using CachingGen.IntegrationTests.Support;
using CachingGen.Storage;
using Microsoft.Extensions.DependencyInjection;
using MySqlConnector;
using Preferences;

namespace CachingGen.IntegrationTests;

/// <summary>[WriteAround] on the real stack (docs/strategies.md): MariaDB only; the written keys are invalidated so
/// no reader sees the old value, and the next read fills them with the write-around Ttl (30 s, not the read's 300 s).
/// With Invalidate = false there is no cache work at all: an older entry stays readable until its own TTL ends.</summary>
public sealed class WriteAroundTests(PreferenceTable table) : IClassFixture<PreferenceTable>
{
    [StackFact]
    public async Task Migrate_writes_the_row_only_and_the_next_read_fills_with_the_write_around_ttl()
    {
        await using var stack = await TestStack.StartAsync(table);
        await stack.SaveAndCacheAsync(new Preference(1, "email", true, 1));
        var migrated = new Preference(1, "push", false, 2);

        await stack.Repository.MigrateAsync(migrated);

        Assert.Equal(migrated, await stack.Database.ReadDirectAsync(1, CancellationToken.None));
        var entry = await stack.Cache.ReadAsync(1);
        Assert.Equal(EntryKind.Tombstone, entry.Kind);
        // The store reports the invalidation's fill TTL; no reader can see the old value.
        var lookup = await stack.Services.GetRequiredService<ICacheStore>().GetAsync(RedisView.KeyOf(1), CancellationToken.None);
        Assert.False(lookup.Found);
        Assert.Equal(TimeSpan.FromSeconds(30), lookup.FillTimeToLive);

        Assert.Equal(migrated, await stack.Repository.GetAsync(1));
        Assert.Equal(1, stack.DatabaseReads);
        await stack.Cache.AssertValueAsync(1, migrated, ttlSeconds: 30);
        Assert.Equal(migrated, await stack.Repository.GetAsync(1));
        Assert.Equal(1, stack.DatabaseReads);
    }

    [StackFact]
    public async Task MigrateMany_invalidates_every_written_key_and_each_read_fills_it_for_30_seconds()
    {
        await using var stack = await TestStack.StartAsync(table);
        var old = Enumerable.Range(1, 40).Select(id => new Preference(id, "email", true, 1)).ToList();
        await stack.SaveAndCacheAsync(old);
        var migrated = old.Select(p => p with { Channel = "sms", Version = 2 }).ToList();

        await stack.Repository.MigrateManyAsync(migrated);

        foreach (var preference in migrated)
        {
            Assert.Equal(preference, await stack.Database.ReadDirectAsync(preference.UserId, CancellationToken.None));
            Assert.Equal(EntryKind.Tombstone, (await stack.Cache.ReadAsync(preference.UserId)).Kind);
        }

        foreach (var preference in migrated.Take(5))
        {
            Assert.Equal(preference, await stack.Repository.GetAsync(preference.UserId));
            await stack.Cache.AssertValueAsync(preference.UserId, preference, ttlSeconds: 30);
        }

        Assert.Equal(5, stack.DatabaseReads);
    }

    [StackFact]
    public async Task Failed_migration_still_invalidates_and_the_next_read_loads_the_unchanged_row()
    {
        // A failed write may have committed some rows (a bulk statement in chunks, a lost commit reply): its keys are
        // invalidated all the same, which costs one database read here and is never stale.
        await using var stack = await TestStack.StartAsync(table);
        var cached = new Preference(5, "email", true, 1);
        await stack.SaveAndCacheAsync(cached);

        await Assert.ThrowsAsync<MySqlException>(() => stack.Repository.MigrateAsync(cached with { Channel = new string('y', 40), Version = 2 }));
        await Assert.ThrowsAsync<MySqlException>(() => stack.Repository.MigrateManyAsync([cached with { Version = 3 }, new Preference(6, new string('y', 40), true, 1)]));

        Assert.Equal(cached, await stack.Database.ReadDirectAsync(5, CancellationToken.None));
        Assert.Equal(EntryKind.Tombstone, (await stack.Cache.ReadAsync(5)).Kind);
        Assert.Equal(EntryKind.Tombstone, (await stack.Cache.ReadAsync(6)).Kind);
        var reads = stack.DatabaseReads;
        Assert.Equal(cached, await stack.Repository.GetAsync(5));
        Assert.Equal(reads + 1, stack.DatabaseReads);
        Assert.Equal(EntryKind.Value, (await stack.Cache.ReadAsync(5)).Kind);
    }

    [StackFact]
    public async Task Import_without_invalidation_does_no_cache_work_so_an_older_entry_stays_until_its_ttl()
    {
        await using var stack = await TestStack.StartAsync(table);
        var cached = new Preference(7, "email", true, 1);
        await stack.SaveAndCacheAsync(cached);
        var before = await stack.Cache.ReadAsync(7);
        var imported = new Preference(7, "webhook", false, 2);

        await stack.Repository.ImportAsync(imported);

        Assert.Equal(imported, await stack.Database.ReadDirectAsync(7, CancellationToken.None));
        var after = await stack.Cache.ReadAsync(7);
        Assert.Equal(before.Raw, after.Raw);
        Assert.True(after.TimeToLive <= before.TimeToLive, "the entry's TTL was not renewed");
        // Documented trade-off of Invalidate = false: the stale entry is served until its own TTL ends.
        Assert.Equal(cached, await stack.Repository.GetAsync(7));
        Assert.Equal(0, stack.DatabaseReads);
    }

    [StackFact]
    public async Task ImportMany_writes_rows_only_and_later_reads_fill_with_the_write_around_ttl()
    {
        await using var stack = await TestStack.StartAsync(table);
        var imported = Enumerable.Range(500, 30).Select(id => new Preference(id, "in_app", true, 1)).ToList();

        await stack.Repository.ImportManyAsync(imported);

        Assert.Equal(30, await stack.Database.CountDirectAsync(CancellationToken.None));
        foreach (var preference in imported)
        {
            Assert.Equal(EntryKind.Absent, (await stack.Cache.ReadAsync(preference.UserId)).Kind);
        }

        // No tombstone carries the write-around TTL here, so a later miss fills with the read's own TTL.
        Assert.Equal(imported[0], await stack.Repository.GetAsync(500));
        await stack.Cache.AssertValueAsync(500, imported[0], ttlSeconds: 300);
    }
}
