using CachingGen.IntegrationTests.Support;
using CachingGen.Redis;
using Preferences;

namespace CachingGen.IntegrationTests;

/// <summary>[Cached] on the real stack (docs/strategies.md, "read-through"): a miss loads from MariaDB once and fills
/// Redis with the method's TTL, a hit never reaches the database, "not found" is cached only for NullTtl, and an
/// entry that does not decode is a logged miss that the next fill overwrites.</summary>
public sealed class ReadThroughTests(PreferenceTable table) : IClassFixture<PreferenceTable>
{
    [StackFact]
    public async Task Miss_loads_once_and_fills_with_the_cached_ttl_then_hits_skip_the_database()
    {
        await using var stack = await TestStack.StartAsync(table);
        var stored = new Preference(42, "email", true, 1);
        await stack.Inner.SaveAsync(stored);
        Assert.Equal(EntryKind.Absent, (await stack.Cache.ReadAsync(42)).Kind);

        Assert.Equal(stored, await stack.Repository.GetAsync(42));
        Assert.Equal(1, stack.DatabaseReads);
        await stack.Cache.AssertValueAsync(42, stored, ttlSeconds: 300);

        Assert.Equal(stored, await stack.Repository.GetAsync(42));
        Assert.Equal(stored, await stack.Repository.GetAsync(42));
        Assert.Equal(1, stack.DatabaseReads);
    }

    [StackFact]
    public async Task Concurrent_misses_of_one_key_make_one_database_read()
    {
        await using var stack = await TestStack.StartAsync(table);
        var stored = new Preference(7, "sms", false, 3);
        await stack.Inner.SaveAsync(stored);

        var reads = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => stack.Repository.GetAsync(7).AsTask()));

        Assert.All(reads, read => Assert.Equal(stored, read));
        Assert.Equal(1, stack.DatabaseReads);
        await stack.Cache.AssertValueAsync(7, stored, ttlSeconds: 300);
    }

    [StackFact]
    public async Task Not_found_is_cached_for_NullTtl_seconds()
    {
        await using var stack = await TestStack.StartAsync(table);

        Assert.Null(await stack.Repository.GetAsync(404));
        var entry = await stack.Cache.ReadAsync(404);
        Assert.Equal(EntryKind.NotFound, entry.Kind);
        RedisView.AssertTimeToLive(entry, 10);

        Assert.Null(await stack.Repository.GetAsync(404));
        Assert.Equal(1, stack.DatabaseReads);
    }

    [StackFact]
    public async Task Undecodable_payload_under_our_tag_is_a_logged_miss_and_the_fill_overwrites_it()
    {
        await using var stack = await TestStack.StartAsync(table);
        var stored = new Preference(5, "push", true, 2);
        await stack.Inner.SaveAsync(stored);
        byte[] corrupt = [(byte)'V', 1, 1, 0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0, 0xc1, 0xc1];
        await stack.Cache.PutRawAsync(5, corrupt, TimeSpan.FromMinutes(10));

        Assert.Equal(stored, await stack.Repository.GetAsync(5));

        Assert.Equal(1, stack.DatabaseReads);
        Assert.Contains(stack.Logs.Messages, message => message.Contains("pref:5", StringComparison.Ordinal) && message.Contains("unusable", StringComparison.Ordinal));
        await stack.Cache.AssertValueAsync(5, stored, ttlSeconds: 300);
        Assert.Equal(stored, await stack.Repository.GetAsync(5));
        Assert.Equal(1, stack.DatabaseReads);
    }

    [StackFact]
    public async Task Foreign_bytes_under_our_key_are_a_logged_miss_and_the_fill_overwrites_them()
    {
        await using var stack = await TestStack.StartAsync(table);
        var stored = new Preference(6, "email", false, 4);
        await stack.Inner.SaveAsync(stored);
        await stack.Cache.PutRawAsync(6, "{\"userId\":6,\"channel\":\"sms\"}"u8.ToArray(), TimeSpan.FromMinutes(10));

        Assert.Equal(stored, await stack.Repository.GetAsync(6));

        Assert.Equal(1, stack.DatabaseReads);
        Assert.Contains(stack.Logs.Messages, message => message.Contains("pref:6", StringComparison.Ordinal) && message.Contains("did not write", StringComparison.Ordinal));
        await stack.Cache.AssertValueAsync(6, stored, ttlSeconds: 300);
    }

    [StackFact]
    public async Task Entry_of_another_schema_fingerprint_is_a_logged_miss_and_is_replaced()
    {
        await using var stack = await TestStack.StartAsync(table);
        var stored = new Preference(8, "webhook", true, 5);
        await stack.Inner.SaveAsync(stored);
        // A well-formed entry written by a build whose Preference had another layout.
        var otherBuild = RedisView.ValueBytes(new Preference(8, "stale", false, 1), RedisView.Fingerprint ^ 0x5A5A);
        await stack.Cache.PutRawAsync(8, otherBuild, TimeSpan.FromMinutes(10));

        Assert.Equal(stored, await stack.Repository.GetAsync(8));

        Assert.Equal(1, stack.DatabaseReads);
        Assert.Contains(stack.Logs.Messages, message => message.Contains("pref:8", StringComparison.Ordinal) && message.Contains("schema fingerprint", StringComparison.Ordinal));
        await stack.Cache.AssertValueAsync(8, stored, ttlSeconds: 300);
    }

    [StackFact]
    public async Task Entry_of_another_envelope_format_is_a_logged_miss()
    {
        await using var stack = await TestStack.StartAsync(table);
        var stored = new Preference(9, "sms", true, 6);
        await stack.Inner.SaveAsync(stored);
        var futureFormat = RedisView.ValueBytes(stored with { Channel = "future" }, RedisView.Fingerprint);
        futureFormat[RedisEntryFormat.VersionedValueHeaderLength] = 2; // the envelope's format byte, after the store's 'N' tag and version
        await stack.Cache.PutRawAsync(9, futureFormat, TimeSpan.FromMinutes(10));

        Assert.Equal(stored, await stack.Repository.GetAsync(9));

        Assert.Equal(1, stack.DatabaseReads);
        Assert.Contains(stack.Logs.Messages, message => message.Contains("pref:9", StringComparison.Ordinal) && message.Contains("envelope format", StringComparison.Ordinal));
        await stack.Cache.AssertValueAsync(9, stored, ttlSeconds: 300);
    }
}
