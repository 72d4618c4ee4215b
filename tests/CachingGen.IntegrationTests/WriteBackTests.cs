using CachingGen.IntegrationTests.Support;
using Microsoft.Extensions.DependencyInjection;
using Preferences;

namespace CachingGen.IntegrationTests;

/// <summary>A repository that mixes write-back with direct writes on the same rows (the sample's repository has no
/// write-back: its bulk paths should not pay for per-key ordering). It shares the sample's key prefix: the same rows
/// cached under a second prefix would be two cached copies of one row (CGEN023).</summary>
[CachedRepository(KeyPrefix = "pref")]
public interface IPreferenceJournal
{
    [Cached(Ttl = 120)]
    ValueTask<Preference?> GetAsync(long userId, CancellationToken ct = default);

    [WriteBack(IdempotencyKey = nameof(Preference.Version), Ttl = 90)]
    Task UpdateAsync(Preference preference, CancellationToken ct = default);

    [WriteThrough(Ttl = 60)]
    Task SaveAsync(Preference preference, CancellationToken ct = default);
}

/// <summary>The journal's inner repository: the sample's Dapper repository over the same table.</summary>
public sealed class DapperPreferenceJournal(DapperPreferenceRepository preferences) : IPreferenceJournal
{
    public ValueTask<Preference?> GetAsync(long userId, CancellationToken ct = default) => preferences.GetAsync(userId, ct);

    public Task UpdateAsync(Preference preference, CancellationToken ct = default) => preferences.SaveAsync(preference, ct);

    public Task SaveAsync(Preference preference, CancellationToken ct = default) => preferences.SaveAsync(preference, ct);
}

/// <summary>[WriteBack] end to end on the real Redis and MariaDB through the in-memory write-back log (the durable log
/// is separate work): the call is acknowledged with a pinned Redis entry, the flush writes MariaDB once and gives the
/// entry its TTL, and a direct write of the key first drains its pending records.</summary>
public sealed class WriteBackTests(PreferenceTable table) : IClassFixture<PreferenceTable>
{
    private static Task<TestStack> StartAsync(PreferenceTable table)
        => TestStack.StartAsync(table, caching => caching.UseInMemoryWriteBackLog().AddCachedPreferenceJournal<DapperPreferenceJournal>(ServiceLifetime.Singleton));

    [StackFact]
    public async Task Update_is_acknowledged_pinned_in_redis_then_flushed_once_and_given_its_ttl()
    {
        await using var stack = await StartAsync(table);
        var journal = stack.Services.GetRequiredService<IPreferenceJournal>();
        await stack.Inner.SaveAsync(new Preference(1, "email", true, 1));
        var written = stack.DatabaseRowsWritten;
        var update = new Preference(1, "push", false, 2);

        await journal.UpdateAsync(update);

        Assert.Equal("email", (await stack.Database.ReadDirectAsync(1, CancellationToken.None))!.Channel);
        var pinned = await stack.Cache.ReadAsync("pref:1");
        Assert.Equal(EntryKind.Value, pinned.Kind);
        Assert.Equal(update, pinned.Value);
        Assert.Null(pinned.TimeToLive);
        Assert.Equal(update, await journal.GetAsync(1));
        Assert.Equal(0, stack.DatabaseReads);

        await stack.Runtime.WriteBack.FlushAsync();

        Assert.Equal(update, await stack.Database.ReadDirectAsync(1, CancellationToken.None));
        await stack.Cache.AssertValueAsync("pref:1", update, ttlSeconds: 90);

        // The caller retries the acknowledged call: same idempotency key (pref:1@2), so the flush skips it.
        await journal.UpdateAsync(update);
        await stack.Runtime.WriteBack.FlushAsync();
        Assert.Equal(written + 1, stack.DatabaseRowsWritten);
        Assert.Equal(0, await stack.Runtime.WriteBackLog.GetPendingCountAsync("pref:1", CancellationToken.None));
    }

    [StackFact]
    public async Task Direct_write_of_a_key_drains_its_pending_write_back_first()
    {
        await using var stack = await StartAsync(table);
        var journal = stack.Services.GetRequiredService<IPreferenceJournal>();
        await journal.UpdateAsync(new Preference(2, "sms", true, 1));
        Assert.Equal(1, await stack.Runtime.WriteBackLog.GetPendingCountAsync("pref:2", CancellationToken.None));
        var written = stack.DatabaseRowsWritten;
        var direct = new Preference(2, "email", false, 2);

        await journal.SaveAsync(direct);

        Assert.Equal(0, await stack.Runtime.WriteBackLog.GetPendingCountAsync("pref:2", CancellationToken.None));
        Assert.Equal(written + 2, stack.DatabaseRowsWritten);
        Assert.Equal(direct, await stack.Database.ReadDirectAsync(2, CancellationToken.None));

        // The flushed write-back entry carries no version, so the versioned write-through cannot tell whether it is
        // older and leaves a tombstone: the next read fills the direct write from the database.
        Assert.Equal(EntryKind.Tombstone, (await stack.Cache.ReadAsync("pref:2")).Kind);
        Assert.Equal(direct, await stack.Services.GetRequiredService<IPreferenceRepository>().GetAsync(2));
        await stack.Cache.AssertValueAsync("pref:2", direct, ttlSeconds: 300);
    }

    [StackFact]
    public async Task Not_found_is_not_cached_without_NullTtl()
    {
        await using var stack = await StartAsync(table);
        var journal = stack.Services.GetRequiredService<IPreferenceJournal>();

        Assert.Null(await journal.GetAsync(404));
        Assert.Equal(EntryKind.Absent, (await stack.Cache.ReadAsync("pref:404")).Kind);
        Assert.Null(await journal.GetAsync(404));
        Assert.Equal(2, stack.DatabaseReads);
    }
}
