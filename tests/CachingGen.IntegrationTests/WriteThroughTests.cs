using CachingGen.IntegrationTests.Support;
using MySqlConnector;
using Preferences;

namespace CachingGen.IntegrationTests;

/// <summary>[WriteThrough] on the real stack (docs/strategies.md). Preference's Version is its [CacheVersion]: MariaDB
/// first, then one compare-and-set per key that replaces an older cached version with the method's TTL (here the
/// repository's DefaultTtl, 300 s) and leaves a tombstone on a key whose version it cannot see; a bulk call is one
/// batch; a failed database write invalidates and reaches the caller.</summary>
public sealed class WriteThroughTests(PreferenceTable table) : IClassFixture<PreferenceTable>
{
    private static readonly string TooLong = new('x', PreferenceDatabase.MaxChannelLength + 1);

    [StackFact]
    public async Task Save_of_an_uncached_key_writes_the_row_leaves_a_tombstone_and_the_next_read_fills_it()
    {
        // An absent key cannot tell an older write from a newer one (a newer write's entry may have been evicted).
        await using var stack = await TestStack.StartAsync(table);
        var preference = new Preference(1, "email", true, 1);

        await stack.Repository.SaveAsync(preference);

        Assert.Equal(preference, await stack.Database.ReadDirectAsync(1, CancellationToken.None));
        Assert.Equal(EntryKind.Tombstone, (await stack.Cache.ReadAsync(1)).Kind);
        Assert.Equal(preference, await stack.Repository.GetAsync(1));
        Assert.Equal(1, stack.DatabaseReads);
        await stack.Cache.AssertValueAsync(1, preference, ttlSeconds: 300);
    }

    [StackFact]
    public async Task A_late_save_of_an_older_version_never_replaces_the_cached_newer_one()
    {
        await using var stack = await TestStack.StartAsync(table);
        await stack.SaveAndCacheAsync(new Preference(3, "email", true, 1));
        var newer = new Preference(3, "push", true, 3);
        await stack.Repository.SaveAsync(newer);
        await stack.Cache.AssertValueAsync(3, newer, ttlSeconds: 300);

        // The database keeps the row with the highest version, so the late v2 changes nothing there either.
        await stack.Repository.SaveAsync(new Preference(3, "sms", false, 2));

        Assert.Equal(newer, await stack.Database.ReadDirectAsync(3, CancellationToken.None));
        await stack.Cache.AssertValueAsync(3, newer, ttlSeconds: 300);
    }

    [StackFact]
    public async Task Save_replaces_a_cached_older_value()
    {
        await using var stack = await TestStack.StartAsync(table);
        await stack.Inner.SaveAsync(new Preference(2, "sms", false, 1));
        Assert.Equal("sms", (await stack.Repository.GetAsync(2))!.Channel);
        var newer = new Preference(2, "push", true, 2);

        await stack.Repository.SaveAsync(newer);

        Assert.Equal(newer, await stack.Database.ReadDirectAsync(2, CancellationToken.None));
        await stack.Cache.AssertValueAsync(2, newer, ttlSeconds: 300);
        Assert.Equal(newer, await stack.Repository.GetAsync(2));
        Assert.Equal(1, stack.DatabaseReads);
    }

    [StackFact]
    public async Task SaveMany_writes_every_row_and_replaces_every_cached_older_entry()
    {
        await using var stack = await TestStack.StartAsync(table);
        var cached = Enumerable.Range(100, 50).Select(id => new Preference(id, "email", true, 1)).ToList();
        await stack.SaveAndCacheAsync(cached);
        var preferences = cached.Select(p => p with { Channel = p.UserId % 2 == 0 ? "push" : "sms", Version = 2 }).ToList();

        await stack.Repository.SaveManyAsync(preferences);

        Assert.Equal(50, await stack.Database.CountDirectAsync(CancellationToken.None));
        foreach (var preference in preferences)
        {
            Assert.Equal(preference, await stack.Database.ReadDirectAsync(preference.UserId, CancellationToken.None));
            await stack.Cache.AssertValueAsync(preference.UserId, preference, ttlSeconds: 300);
        }

        Assert.Equal(0, stack.DatabaseReads);
    }

    [StackFact]
    public async Task Failed_database_write_reaches_the_caller_and_leaves_no_readable_entry()
    {
        // The failed write may have committed before it failed (a lost commit reply): the key is invalidated, and the
        // next read fills from the database.
        await using var stack = await TestStack.StartAsync(table);
        var cached = new Preference(3, "email", true, 1);
        await stack.SaveAndCacheAsync(cached);

        await Assert.ThrowsAsync<MySqlException>(() => stack.Repository.SaveAsync(new Preference(3, TooLong, false, 2)));
        await Assert.ThrowsAsync<MySqlException>(() => stack.Repository.SaveAsync(new Preference(4, TooLong, false, 1)));

        Assert.Equal(cached, await stack.Database.ReadDirectAsync(3, CancellationToken.None));
        Assert.Equal(EntryKind.Tombstone, (await stack.Cache.ReadAsync(3)).Kind);
        Assert.Null(await stack.Database.ReadDirectAsync(4, CancellationToken.None));
        Assert.Equal(EntryKind.Tombstone, (await stack.Cache.ReadAsync(4)).Kind);

        Assert.Equal(cached, await stack.Repository.GetAsync(3));
        await stack.Cache.AssertValueAsync(3, cached, ttlSeconds: 300);
        Assert.Null(await stack.Repository.GetAsync(4));
    }

    [StackFact]
    public async Task Failed_bulk_write_changes_no_row_and_leaves_no_readable_entry()
    {
        await using var stack = await TestStack.StartAsync(table);
        var cached = Enumerable.Range(10, 5).Select(id => new Preference(id, "email", true, 1)).ToList();
        await stack.SaveAndCacheAsync(cached);
        var updates = cached.Select(p => p with { Channel = "push", Version = 2 }).Append(new Preference(15, TooLong, true, 1)).ToList();

        await Assert.ThrowsAsync<MySqlException>(() => stack.Repository.SaveManyAsync(updates));

        foreach (var preference in cached)
        {
            Assert.Equal(preference, await stack.Database.ReadDirectAsync(preference.UserId, CancellationToken.None));
            Assert.Equal(EntryKind.Tombstone, (await stack.Cache.ReadAsync(preference.UserId)).Kind);
            Assert.Equal(preference, await stack.Repository.GetAsync(preference.UserId));
            await stack.Cache.AssertValueAsync(preference.UserId, preference, ttlSeconds: 300);
        }

        Assert.Equal(EntryKind.Tombstone, (await stack.Cache.ReadAsync(15)).Kind);
    }
}
