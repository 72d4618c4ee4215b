using CachingGen.IntegrationTests.Support;
using MySqlConnector;
using Preferences;

namespace CachingGen.IntegrationTests;

/// <summary>[Evict] on the real stack (docs/strategies.md): the row is deleted first, then the entry goes (a
/// tombstone, so a slow concurrent read cannot put it back); a failed delete leaves the entry alone.</summary>
public sealed class EvictTests(PreferenceTable table) : IClassFixture<PreferenceTable>
{
    [StackFact]
    public async Task Delete_removes_the_row_then_the_entry_and_the_next_read_caches_not_found()
    {
        await using var stack = await TestStack.StartAsync(table);
        await stack.SaveAndCacheAsync(new Preference(1, "email", true, 1));

        await stack.Repository.DeleteAsync(1);

        Assert.Null(await stack.Database.ReadDirectAsync(1, CancellationToken.None));
        Assert.Equal(EntryKind.Tombstone, (await stack.Cache.ReadAsync(1)).Kind);
        Assert.Null(await stack.Repository.GetAsync(1));
        Assert.Equal(1, stack.DatabaseReads);
        var entry = await stack.Cache.ReadAsync(1);
        Assert.Equal(EntryKind.NotFound, entry.Kind);
        RedisView.AssertTimeToLive(entry, 10);
    }

    [StackFact]
    public async Task DeleteMany_removes_every_row_and_entry_and_nothing_else()
    {
        await using var stack = await TestStack.StartAsync(table);
        var preferences = Enumerable.Range(1, 6).Select(id => new Preference(id, "sms", true, 1)).ToList();
        await stack.SaveAndCacheAsync(preferences);

        await stack.Repository.DeleteManyAsync([2, 4, 6]);

        foreach (var id in new long[] { 2, 4, 6 })
        {
            Assert.Null(await stack.Database.ReadDirectAsync(id, CancellationToken.None));
            Assert.Equal(EntryKind.Tombstone, (await stack.Cache.ReadAsync(id)).Kind);
        }

        foreach (var id in new long[] { 1, 3, 5 })
        {
            await stack.Cache.AssertValueAsync(id, preferences[(int)id - 1], ttlSeconds: 300);
        }

        Assert.Equal(3, await stack.Database.CountDirectAsync(CancellationToken.None));
    }

    [StackFact]
    public async Task Failed_delete_still_evicts_and_the_next_read_loads_the_row()
    {
        await using var stack = await TestStack.StartAsync(table);
        var cached = new Preference(9, "email", true, 1);
        await stack.SaveAndCacheAsync(cached);
        var before = await stack.Cache.ReadAsync(9);
        // The database refuses the delete: the table is gone (recreated below for the class's other tests).
        await stack.Database.DropTableAsync(CancellationToken.None);
        try
        {
            await Assert.ThrowsAsync<MySqlException>(() => stack.Repository.DeleteAsync(9));
        }
        finally
        {
            await stack.Database.EnsureTableAsync(CancellationToken.None);
        }

        // The delete may have been applied before it failed (a lost reply): the entry goes all the same, and the next
        // read asks the database (whose table was recreated empty here, so the row is gone there too).
        Assert.Equal(EntryKind.Value, before.Kind);
        Assert.Equal(EntryKind.Tombstone, (await stack.Cache.ReadAsync(9)).Kind);
        Assert.Null(await stack.Repository.GetAsync(9));
        Assert.Equal(1, stack.DatabaseReads);
    }
}
