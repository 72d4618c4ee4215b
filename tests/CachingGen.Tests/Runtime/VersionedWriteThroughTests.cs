using CachingGen.Generated;
using CachingGen.Runtime;
using CachingGen.Storage;
using CachingGen.Tests.Support;
using Sample;

namespace CachingGen.Tests.Runtime;

/// <summary>
/// Write-through of an entity with a [CacheVersion] member: the database write, then one compare-and-set that stores
/// the entity only over an older version of it (no write marker before the database write).
/// </summary>
public sealed class VersionedWriteThroughTests
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly ReadPolicy Read = new("GetAsync", TimeSpan.FromSeconds(300), null);
    private static readonly ReadPolicy ReadCachingNotFound = new("GetAsync", TimeSpan.FromSeconds(300), TimeSpan.FromSeconds(60));
    private static readonly WriteThroughPolicy Write = new("SaveAsync", TimeSpan.FromSeconds(120));

    private static RepositoryDescriptor Descriptor(bool hasWriteBack)
        => new("Tests.IVersionedPreferences", "vpref", CachingGenFormatterResolver.Options, hasWriteBack);

    private static EntityCache<Preference> VersionedCache(Harness h, bool hasWriteBack = false)
    {
        var cache = h.Runtime.GetEntityCache<Preference>(Descriptor(hasWriteBack), static preference => preference.Version);
        Assert.True(cache.IsVersioned);
        return cache;
    }

    private static string Key(long userId) => CacheKey.Create("vpref", userId);

    private static ValueTask<Preference?> GetAsync(EntityCache<Preference> cache, FakePreferenceDatabase database, long userId, ReadPolicy? policy = null)
        => cache.ReadThroughAsync(Key(userId), policy ?? Read, (Database: database, UserId: userId), static (state, ct) => state.Database.GetAsync(state.UserId, ct), None);

    private static ValueTask SaveAsync(EntityCache<Preference> cache, FakePreferenceDatabase database, Preference preference)
        => cache.WriteThroughAsync(Key(preference.UserId), preference, Write, (Database: database, Preference: preference), static (state, ct) => new ValueTask(state.Database.SaveAsync(state.Preference, ct)), None);

    private static async Task<Preference?> CachedAsync(Harness h, long userId)
    {
        await h.Runtime.WaitForPendingFillsAsync();
        if (!h.MemoryStore.TryInspect(Key(userId), out var bytes, out _))
        {
            return null;
        }

        Assert.True(CacheEnvelope.TryDecode<Preference>(bytes, CachingGenFormatterResolver.PreferenceFingerprint, CachingGenFormatterResolver.Options, out var value, out var reason), reason);
        return value;
    }

    private static async Task CacheRowAsync(Harness h, EntityCache<Preference> cache, Preference row)
    {
        h.Database.Seed(row);
        Assert.Equal(row, await GetAsync(cache, h.Database, row.UserId));
        Assert.Equal(row, await CachedAsync(h, row.UserId));
        h.Journal.Clear();
        h.Store.Reset();
    }

    [Fact]
    public async Task A_write_over_an_older_cached_version_stores_the_new_one_in_one_step_after_the_database()
    {
        await using var h = new Harness();
        var cache = VersionedCache(h);
        await CacheRowAsync(h, cache, new Preference(1, 1, "email", true));

        await SaveAsync(cache, h.Database, new Preference(1, 2, "sms", true));

        Assert.Equal(["db:save:1", "cache:set-if-newer:vpref:1@2=Stored"], h.Journal.Snapshot());
        Assert.Equal(0, h.Store.Begins + h.Store.Completes);
        Assert.True(h.MemoryStore.TryInspect(Key(1), out _, out var expiresAt));
        Assert.Equal(h.Time.GetUtcNow() + Write.TimeToLive, expiresAt);
        var gets = h.Database.Gets;
        Assert.Equal("sms", (await GetAsync(cache, h.Database, 1))!.Channel);
        Assert.Equal(gets, h.Database.Gets);
    }

    [Fact]
    public async Task A_write_of_an_uncached_key_leaves_a_tombstone_and_the_next_read_fills_it_from_the_database()
    {
        await using var h = new Harness();
        var cache = VersionedCache(h);

        await SaveAsync(cache, h.Database, new Preference(1, 1, "email", true));

        Assert.Equal(["db:save:1", "cache:set-if-newer:vpref:1@1=Invalidated"], h.Journal.Snapshot());
        Assert.Null(await CachedAsync(h, 1));
        Assert.Equal("email", (await GetAsync(cache, h.Database, 1))!.Channel);
        Assert.Equal(1, h.Database.Gets);
        Assert.Equal("email", (await CachedAsync(h, 1))!.Channel);
        Assert.Contains("cache:fill:vpref:1@1", h.Journal.Snapshot());
    }

    [Fact]
    public async Task A_late_writer_never_puts_back_an_older_version_than_the_cached_one()
    {
        // The naive write-through's race: W1 commits v2, W2 commits v3 and updates the cache, W1's cache step comes last.
        await using var h = new Harness();
        var cache = VersionedCache(h);
        await CacheRowAsync(h, cache, new Preference(1, 1, "email", true));
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        h.Database.AfterWrite = async (_, preference, _) =>
        {
            if (preference?.Version == 2)
            {
                reached.SetResult();
                await held.Task;
            }
        };

        var first = SaveAsync(cache, h.Database, new Preference(1, 2, "w1", true)).AsTask();
        await reached.Task;
        await SaveAsync(cache, h.Database, new Preference(1, 3, "w2", true));
        held.SetResult();
        await first;

        Assert.Equal(["db:save:1", "db:save:1", "cache:set-if-newer:vpref:1@3=Stored", "cache:set-if-newer:vpref:1@2=NewerKept"], h.Journal.Snapshot());
        Assert.Equal("w2", (await CachedAsync(h, 1))!.Channel);
        Assert.Equal("w2", h.Database.Rows[1].Channel);
    }

    [Fact]
    public async Task A_read_that_loaded_before_a_write_cannot_fill_after_it()
    {
        await using var h = new Harness();
        var cache = VersionedCache(h);
        h.Database.Seed(new Preference(1, 1, "old", true));
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var loaded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        h.Database.AfterRead = async (_, _) =>
        {
            if (loaded.TrySetResult())
            {
                await held.Task;
            }
        };

        var slowRead = GetAsync(cache, h.Database, 1).AsTask();
        await loaded.Task;
        await SaveAsync(cache, h.Database, new Preference(1, 2, "new", true));
        held.SetResult();
        Assert.Equal("old", (await slowRead)!.Channel); // it started before the write was acknowledged

        Assert.Null(await CachedAsync(h, 1));
        Assert.Equal("new", (await GetAsync(cache, h.Database, 1))!.Channel);
        Assert.Equal("new", (await CachedAsync(h, 1))!.Channel);
    }

    [Fact]
    public async Task A_read_that_starts_after_the_write_never_joins_a_load_that_started_during_it()
    {
        // A load that started while the database write ran may have read the row before it: once the write returns, a
        // new reader must look the key up (and load the new row) rather than wait for that load's older value.
        await using var h = new Harness();
        var cache = VersionedCache(h);
        h.Database.Seed(new Preference(1, 1, "old", true));
        var writing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var loaded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        h.Database.BeforeWrite = async (_, _, _) =>
        {
            writing.SetResult();
            await loaded.Task;
        };
        h.Database.AfterRead = async (_, _) =>
        {
            if (loaded.TrySetResult())
            {
                await held.Task;
            }
        };

        var write = SaveAsync(cache, h.Database, new Preference(1, 2, "new", true)).AsTask();
        await writing.Task;
        var slowRead = GetAsync(cache, h.Database, 1).AsTask();
        await write;

        var lateRead = await GetAsync(cache, h.Database, 1).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("new", lateRead!.Channel);
        held.SetResult();
        Assert.Equal("old", (await slowRead)!.Channel); // it started before the write was acknowledged
    }

    [Fact]
    public async Task A_cached_not_found_has_no_version_and_a_write_replaces_it_by_a_tombstone()
    {
        // The row may have been deleted after the write committed (the write's cache step is late): a "not found"
        // cannot tell, so the write invalidates instead of storing.
        await using var h = new Harness();
        var cache = VersionedCache(h);
        Assert.Null(await GetAsync(cache, h.Database, 1, ReadCachingNotFound));
        await h.Runtime.WaitForPendingFillsAsync();
        Assert.True(h.MemoryStore.TryInspect(Key(1), out _, out _));
        h.Journal.Clear();

        await SaveAsync(cache, h.Database, new Preference(1, 1, "email", true));

        Assert.Equal(["db:save:1", "cache:set-if-newer:vpref:1@1=Invalidated"], h.Journal.Snapshot());
        Assert.Equal("email", (await GetAsync(cache, h.Database, 1, ReadCachingNotFound))!.Channel);
    }

    [Fact]
    public async Task A_failed_database_write_invalidates_the_key_and_surfaces_the_database_exception()
    {
        await using var h = new Harness();
        var cache = VersionedCache(h);
        await CacheRowAsync(h, cache, new Preference(1, 1, "email", true));
        h.Database.BeforeWrite = (_, _, _) => throw new InvalidOperationException("constraint violated");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => SaveAsync(cache, h.Database, new Preference(1, 2, "sms", true)).AsTask());

        Assert.Equal("constraint violated", error.Message);
        Assert.Equal(["cache:invalidate:vpref:1"], h.Journal.Snapshot());
        Assert.Null(await CachedAsync(h, 1));
    }

    [Fact]
    public async Task A_bulk_write_sends_one_batch_after_the_database_and_decides_every_key_on_its_own()
    {
        await using var h = new Harness();
        var cache = VersionedCache(h);
        await CacheRowAsync(h, cache, new Preference(1, 1, "a", true));
        await CacheRowAsync(h, cache, new Preference(2, 5, "b", true));
        Preference[] written = [new(1, 2, "a2", true), new(2, 4, "b-older", true), new(3, 1, "c", true)];

        await cache.WriteThroughManyAsync(written, static p => Key(p.UserId), Write, (Database: h.Database, Rows: written),
            static (state, ct) => new ValueTask(state.Database.SaveManyAsync(state.Rows, ct)), None);

        Assert.Equal(1, h.Store.VersionedWrites);
        Assert.Equal("cache:set-if-newer:vpref:1@2=Stored,vpref:2@4=NewerKept,vpref:3@1=Invalidated", h.Journal.Snapshot()[^1]);
        Assert.Equal("a2", (await CachedAsync(h, 1))!.Channel);
        Assert.Equal("b", (await CachedAsync(h, 2))!.Channel);
        Assert.Null(await CachedAsync(h, 3));
    }

    [Fact]
    public async Task An_outage_of_the_cache_step_keeps_the_write_and_reads_go_to_the_database_until_the_key_is_invalidated()
    {
        FlakyCacheStore? flaky = null;
        await using var h = new Harness(wrapStore: store => flaky = new FlakyCacheStore(store));
        var cache = VersionedCache(h);
        await CacheRowAsync(h, cache, new Preference(1, 1, "old", true));
        flaky!.FailWhen = static operation => operation == "set-if-newer";

        await SaveAsync(cache, h.Database, new Preference(1, 2, "new", true));

        Assert.Equal("new", h.Database.Rows[1].Channel);
        Assert.Equal("old", (await CachedAsync(h, 1))!.Channel); // the stale entry is still there...
        Assert.Equal("new", (await GetAsync(cache, h.Database, 1))!.Channel); // ...but this process reads around it
    }

    [Fact]
    public async Task On_a_repository_with_write_back_a_stale_pin_left_by_a_put_off_settle_is_settled_away()
    {
        // A pinned entry whose record was flushed but whose settle was put off holds a value older than the database:
        // the versioned step keeps every pin, and the log's settle (no record pending) invalidates this one.
        await using var h = new Harness();
        var cache = VersionedCache(h, hasWriteBack: true);
        h.Database.Seed(new Preference(1, 1, "flushed-long-ago", true));
        await h.Store.SetManyAsync([new CacheEntry(Key(1), CacheEnvelope.Encode(h.Database.Rows[1], CachingGenFormatterResolver.PreferenceFingerprint, CachingGenFormatterResolver.Options), null)], None);
        h.Journal.Clear();

        await SaveAsync(cache, h.Database, new Preference(1, 2, "new", true));

        Assert.Contains("cache:set-if-newer:vpref:1@2=PinnedKept", h.Journal.Snapshot());
        Assert.Null(await CachedAsync(h, 1));
        Assert.Equal("new", (await GetAsync(cache, h.Database, 1))!.Channel);
    }

    [Fact]
    public async Task A_repository_cannot_be_described_once_with_and_once_without_a_version()
    {
        await using var h = new Harness();
        _ = VersionedCache(h);
        var error = Assert.Throws<InvalidOperationException>(() => h.Runtime.GetEntityCache<Preference>(Descriptor(hasWriteBack: false)));
        Assert.Contains("[CacheVersion]", error.Message);
    }

    [Fact]
    public async Task A_version_the_database_write_assigns_is_the_one_cached()
    {
        // A mutable entity whose version the inner repository sets while saving (as an ORM's concurrency token).
        await using var h = new Harness();
        var descriptor = new RepositoryDescriptor("Tests.IDocuments", "doc", DocumentFormatter.Options, HasWriteBack: false);
        var cache = h.Runtime.GetEntityCache<Document>(descriptor, static document => document.Version);
        var key = CacheKey.Create("doc", 1);
        var row = new Document { Id = 1, Text = "first", Version = 1 };
        Assert.Equal("first", (await cache.ReadThroughAsync(key, Read, row, static (stored, _) => new ValueTask<Document?>(stored), None))!.Text);
        await h.Runtime.WaitForPendingFillsAsync();

        var edited = new Document { Id = 1, Text = "second", Version = 1 };
        await cache.WriteThroughAsync(key, edited, Write, edited, static (document, _) =>
        {
            document.Version = 2;
            return ValueTask.CompletedTask;
        }, None);

        Assert.Contains("cache:set-if-newer:doc:1@2=Stored", h.Journal.Snapshot());
        var cached = await cache.ReadThroughAsync(key, Read, row, static (_, _) => throw new InvalidOperationException("expected a hit"), None);
        Assert.Equal(("second", 2L), (cached!.Text, cached.Version));
    }

    public sealed class Document
    {
        public long Id { get; set; }

        public string Text { get; set; } = "";

        public long Version { get; set; }
    }

    private sealed class DocumentFormatter : MessagePack.Formatters.IMessagePackFormatter<Document?>, MessagePack.IFormatterResolver
    {
        public static readonly MessagePack.MessagePackSerializerOptions Options = MessagePack.MessagePackSerializerOptions.Standard.WithResolver(new DocumentFormatter());

        public MessagePack.Formatters.IMessagePackFormatter<T>? GetFormatter<T>() => typeof(T) == typeof(Document) ? (MessagePack.Formatters.IMessagePackFormatter<T>)(object)this : null;

        public void Serialize(ref MessagePack.MessagePackWriter writer, Document? value, MessagePack.MessagePackSerializerOptions options)
        {
            writer.WriteArrayHeader(3);
            writer.Write(value!.Id);
            writer.Write(value.Text);
            writer.Write(value.Version);
        }

        public Document? Deserialize(ref MessagePack.MessagePackReader reader, MessagePack.MessagePackSerializerOptions options)
        {
            reader.ReadArrayHeader();
            return new Document { Id = reader.ReadInt64(), Text = reader.ReadString()!, Version = reader.ReadInt64() };
        }
    }
}
