using System.Collections.Concurrent;
using System.Text;
using CachingGen.Redis.Tests.Consistency;
using CachingGen.Runtime;
using CachingGen.Storage;
using CachingGen.WriteBack;
using Microsoft.Extensions.Logging.Abstractions;

namespace CachingGen.Redis.Tests;

/// <summary>
/// Two runtimes (two processes' worth of state: stores, logs, coordinators, flushers) share one Redis and one database.
/// Process B acknowledges a write-back of a key; process A's direct write of that key passed its drain check just
/// before (the append lands in the gap between that check and A's begin step). A's begin step finds the entry pinned,
/// so A drains the record first: the database sees B's write, then A's, never A's overtaken by B's. (Write-around and
/// evict have no cache step before their database write; docs/write-back.md, Limits.)
/// </summary>
public sealed class RedisCrossProcessDirectWriteTests
{
    private const int Shards = 2;
    private const string Key = "row:1";
    private static readonly RepositoryDescriptor Descriptor = new("CachingGen.Redis.Tests.IRowRepository", "row", RowFormatter.Options, HasWriteBack: true);
    private static readonly WriteBackPolicy UpdatePolicy = new("UpdateAsync", TimeSpan.FromMinutes(5));

    [RedisFact]
    public Task WriteThrough_never_overtakes_another_process_pending_write_back()
        => RunAsync((cache, database, ct) => cache.WriteThroughAsync(Key, new Row(1, "direct"), new WriteThroughPolicy("SaveAsync", TimeSpan.FromMinutes(5)), database,
            static (db, _) => db.ApplyAsync("direct"), ct), expectCached: "direct");

    [RedisTheory]
    [InlineData("write-around")]
    [InlineData("evict")]
    public async Task A_direct_write_flushes_another_process_pending_write_back_first(string strategy)
    {
        await using var pair = await ProcessPair.CreateAsync(drainTimeout: TimeSpan.FromSeconds(20));
        await pair.CacheB.WriteBackAsync(Key, new Row(1, "back"), "1", UpdatePolicy, Encoding.UTF8.GetBytes("back"), CancellationToken.None);

        await DirectWriteAsync(pair, strategy);

        Assert.Equal(new[] { "back", "direct" }, pair.Database.History);
        Assert.Equal(0, await pair.LogB.GetPendingCountAsync(Key, default));
        Assert.Null(await CachedValueAsync(pair));
    }

    [RedisTheory]
    [InlineData("write-around")]
    [InlineData("evict")]
    public async Task A_write_back_acknowledged_during_a_direct_write_stays_readable_until_its_flush(string strategy)
    {
        await using var pair = await ProcessPair.CreateAsync(drainTimeout: TimeSpan.FromSeconds(20));

        // Process B acknowledges a write-back of the key while A's direct write is writing the database (after A's
        // drain found nothing pending): the two are concurrent, and the flush will apply B's record after A's write.
        pair.Database.BeforeNextApply = () => pair.CacheB.WriteBackAsync(Key, new Row(1, "back"), "1", UpdatePolicy, Encoding.UTF8.GetBytes("back"), CancellationToken.None).AsTask();
        await DirectWriteAsync(pair, strategy);

        // A's invalidation left B's pinned entry alone: a read sees B's write, not the row A left in the database.
        Assert.Equal("back", await CachedValueAsync(pair));
        Assert.Equal(1, await pair.LogB.GetPendingCountAsync(Key, default));

        // The flush applies B's record after A's write, and the settled entry agrees with the database.
        await pair.FlushBAsync();
        Assert.Equal(new[] { "direct", "back" }, pair.Database.History);
        Assert.Equal("back", await CachedValueAsync(pair));
    }

    [RedisTheory]
    [InlineData("write-around")]
    [InlineData("evict")]
    public async Task A_direct_write_invalidates_an_entry_still_pinned_after_its_records_were_flushed(string strategy)
    {
        await using var pair = await ProcessPair.CreateAsync(drainTimeout: TimeSpan.FromSeconds(20));

        // Process B flushed its record (applied and acknowledged) but its settle never came: the entry is pinned with
        // nothing pending. It is older than A's write and must not survive it.
        await pair.CacheB.WriteBackAsync(Key, new Row(1, "back"), "1", UpdatePolicy, Encoding.UTF8.GetBytes("back"), CancellationToken.None);
        var shard = WriteBackSharding.ShardOf(Key, Shards);
        var read = await pair.LogB.ReadAsync(shard, 10, default);
        await pair.Database.ApplyRecordAsync(Assert.Single(read).Record);
        await pair.LogB.AcknowledgeAsync(shard, read, default);
        Assert.Equal(0, await pair.LogB.GetPendingCountAsync(Key, default));
        Assert.Equal("back", await CachedValueAsync(pair));

        await DirectWriteAsync(pair, strategy);

        Assert.Equal(new[] { "back", "direct" }, pair.Database.History);
        Assert.Null(await CachedValueAsync(pair));
    }

    private static ValueTask DirectWriteAsync(ProcessPair pair, string strategy) => strategy == "evict"
        ? pair.CacheA.EvictAsync([Key], new EvictPolicy("DeleteAsync"), pair.Database, static (db, _) => db.ApplyAsync("direct"), CancellationToken.None)
        : pair.CacheA.WriteAroundAsync([Key], new WriteAroundPolicy("MigrateAsync", TimeSpan.FromSeconds(30), Invalidate: true), pair.Database,
            static (db, _) => db.ApplyAsync("direct"), CancellationToken.None);

    private static async Task<string?> CachedValueAsync(ProcessPair pair)
    {
        var lookup = await pair.StoreA.GetAsync(Key, default);
        if (!lookup.Found)
        {
            return null;
        }

        Assert.True(CacheEnvelope.TryDecode<Row>(lookup.Value, pair.CacheA.SchemaFingerprint, RowFormatter.Options, out var row, out _));
        return row!.Value;
    }

    [RedisFact]
    public async Task A_write_through_that_cannot_drain_the_other_process_record_fails_naming_the_key_and_the_fix()
    {
        await using var pair = await ProcessPair.CreateAsync(drainTimeout: TimeSpan.FromMilliseconds(600));
        // Process B owns the key's shard (its lease) and is not flushing: A can only wait for it.
        var lease = pair.StoreA.GetRedisKey(Key)[..^Key.Length] + "lease";
        await RedisTestEnvironment.Shared.GetDatabase().StringSetAsync(lease, "process-b", TimeSpan.FromMinutes(1));
        pair.HookAppendBeforeFirstBegin();
        var error = await Assert.ThrowsAsync<TimeoutException>(async () =>
            await pair.CacheA.WriteThroughAsync(Key, new Row(1, "direct"), new WriteThroughPolicy("SaveAsync", TimeSpan.FromMinutes(5)), pair.Database,
                static (db, _) => db.ApplyAsync("direct"), CancellationToken.None));
        Assert.Contains(Key, error.Message, StringComparison.Ordinal);
        Assert.Contains("DirectWriteDrainTimeout", error.Message, StringComparison.Ordinal);
        Assert.Empty(pair.Database.History);

        // The record is still pending and its pinned entry untouched: nothing was lost or overtaken.
        Assert.Equal(1, await pair.LogB.GetPendingCountAsync(Key, default));
        var lookup = await pair.StoreB.GetAsync(Key, default);
        Assert.True(lookup.Found);
        await RedisTestEnvironment.Shared.GetDatabase().KeyDeleteAsync(lease);
    }

    private static async Task RunAsync(Func<EntityCache<Row>, SharedDatabase, CancellationToken, ValueTask> directWrite, string expectCached)
    {
        await using var pair = await ProcessPair.CreateAsync(drainTimeout: TimeSpan.FromSeconds(20));
        pair.HookAppendBeforeFirstBegin();

        await directWrite(pair.CacheA, pair.Database, CancellationToken.None);

        Assert.True(pair.Hooked, "process B's write-back was acknowledged before process A's begin step");
        Assert.Equal(new[] { "back", "direct" }, pair.Database.History);
        Assert.Equal(0, await pair.LogB.GetPendingCountAsync(Key, default));
        var lookup = await pair.StoreA.GetAsync(Key, default);
        Assert.True(lookup.Found);
        Assert.True(CacheEnvelope.TryDecode<Row>(lookup.Value, pair.CacheA.SchemaFingerprint, RowFormatter.Options, out var row, out _));
        Assert.Equal(expectCached, row!.Value);
    }

    /// <summary>The database both processes write: the history of row 1's values in commit order.</summary>
    private sealed class SharedDatabase
    {
        private readonly ConcurrentQueue<string> _history = new();

        public string[] History => _history.ToArray();

        /// <summary>Runs once, just before the next write is applied.</summary>
        public Func<Task>? BeforeNextApply { get; set; }

        public async ValueTask ApplyAsync(string value)
        {
            if (BeforeNextApply is { } hook)
            {
                BeforeNextApply = null;
                await hook();
            }

            _history.Enqueue(value);
        }

        public ValueTask ApplyRecordAsync(WriteBackRecord record)
            => ApplyAsync(Encoding.UTF8.GetString(record.Arguments.Span));
    }

    private sealed class Dispatcher(SharedDatabase database) : IWriteBackDispatcher
    {
        public string Repository => Descriptor.Name;

        public ValueTask ApplyAsync(WriteBackRecord record, IServiceProvider? services, CancellationToken cancellationToken) => database.ApplyRecordAsync(record);
    }

    /// <summary>Runs <see cref="OnBegin"/> once, just before the inner store's first begin step.</summary>
    private sealed class HookedStore(ICacheStore inner) : ICacheStore
    {
        public Func<Task>? OnBegin { get; set; }

        public ValueTask<CacheLookup> GetAsync(string key, CancellationToken cancellationToken) => inner.GetAsync(key, cancellationToken);

        public ValueTask<bool> TryFillAsync(string key, ReadOnlyMemory<byte> value, TimeSpan timeToLive, long fillToken, CancellationToken cancellationToken)
            => inner.TryFillAsync(key, value, timeToLive, fillToken, cancellationToken);

        public ValueTask<bool> TryFillVersionedAsync(string key, ReadOnlyMemory<byte> value, long version, TimeSpan timeToLive, long fillToken, CancellationToken cancellationToken)
            => inner.TryFillVersionedAsync(key, value, version, timeToLive, fillToken, cancellationToken);

        public ValueTask<VersionedWriteOutcome[]> SetIfNewerAsync(IReadOnlyList<VersionedEntry> entries, CancellationToken cancellationToken) => inner.SetIfNewerAsync(entries, cancellationToken);

        public ValueTask SetManyAsync(IReadOnlyList<CacheEntry> entries, CancellationToken cancellationToken) => inner.SetManyAsync(entries, cancellationToken);

        public ValueTask InvalidateAsync(IReadOnlyList<string> keys, TimeSpan? fillTimeToLive, CancellationToken cancellationToken)
            => inner.InvalidateAsync(keys, fillTimeToLive, cancellationToken);

        public async ValueTask<long[]> BeginWritesAsync(IReadOnlyList<string> keys, TimeSpan lease, CancellationToken cancellationToken)
        {
            if (Interlocked.Exchange(ref _hook, null) is { } hook)
            {
                await hook().ConfigureAwait(false);
            }

            return await inner.BeginWritesAsync(keys, lease, cancellationToken).ConfigureAwait(false);
        }

        public ValueTask<WriteCompletionOutcome[]> CompleteWritesAsync(IReadOnlyList<WriteCompletion> completions, CancellationToken cancellationToken)
            => inner.CompleteWritesAsync(completions, cancellationToken);

        public ValueTask<bool> ExpireAsync(string key, TimeSpan timeToLive, CancellationToken cancellationToken) => inner.ExpireAsync(key, timeToLive, cancellationToken);

        public ValueTask<bool[]> InvalidateUnlessPinnedAsync(IReadOnlyList<string> keys, TimeSpan? fillTimeToLive, CancellationToken cancellationToken) => inner.InvalidateUnlessPinnedAsync(keys, fillTimeToLive, cancellationToken);

        private Func<Task>? _hook;

        public void Arm(Func<Task> hook) => _hook = hook;
    }

    private sealed class ProcessPair : IAsyncDisposable
    {
        private CachingGenRuntime _runtimeA = null!;
        private CachingGenRuntime _runtimeB = null!;
        private HookedStore _hookedA = null!;

        public SharedDatabase Database { get; } = new();

        public RedisCacheStore StoreA { get; private set; } = null!;

        public RedisCacheStore StoreB { get; private set; } = null!;

        public RedisWriteBackLog LogB { get; private set; } = null!;

        public EntityCache<Row> CacheA { get; private set; } = null!;

        public EntityCache<Row> CacheB { get; private set; } = null!;

        public bool Hooked { get; private set; }

        public static async Task<ProcessPair> CreateAsync(TimeSpan drainTimeout)
        {
            var pair = new ProcessPair();
            var keyNamespace = RedisTestEnvironment.UniqueNamespace();
            pair.StoreA = RedisTestEnvironment.NewStore(configure: o => { o.KeyNamespace = keyNamespace; o.WriteBackShardCount = Shards; });
            pair.StoreB = RedisTestEnvironment.NewStore(configure: o => { o.KeyNamespace = keyNamespace; o.WriteBackShardCount = Shards; });
            var logOptions = new RedisWriteBackOptions { RefuseUnsafeServer = false };
            var logA = new RedisWriteBackLog(RedisTestEnvironment.Shared, pair.StoreA, Shards, logOptions);
            pair.LogB = new RedisWriteBackLog(RedisTestEnvironment.Shared, pair.StoreB, Shards, logOptions);
            await logA.InitializeAsync();
            await pair.LogB.InitializeAsync();
            pair._hookedA = new HookedStore(pair.StoreA);
            pair._runtimeA = NewRuntime(pair._hookedA, logA, drainTimeout, pair.Database);
            pair._runtimeB = NewRuntime(pair.StoreB, pair.LogB, drainTimeout, pair.Database);
            pair.CacheA = pair._runtimeA.GetEntityCache<Row>(Descriptor);
            pair.CacheB = pair._runtimeB.GetEntityCache<Row>(Descriptor);
            return pair;
        }

        /// <summary>Process B acknowledges a write-back of the key after A's drain check and before A's begin step
        /// (B's flusher is not running: the record stays pending until someone flushes the shard).</summary>
        public void HookAppendBeforeFirstBegin() => _hookedA.Arm(async () =>
        {
            await CacheB.WriteBackAsync(Key, new Row(1, "back"), "1", UpdatePolicy, Encoding.UTF8.GetBytes("back"), CancellationToken.None);
            Assert.Equal(1, await LogB.GetPendingCountAsync(Key, default));
            Hooked = true;
        });

        /// <summary>Flushes process B's write-back records (its flusher is not running on its own).</summary>
        public Task FlushBAsync() => _runtimeB.WriteBack.FlushAsync();

        public async ValueTask DisposeAsync()
        {
            await _runtimeA.DisposeAsync();
            await _runtimeB.DisposeAsync();
            StoreA.Dispose();
            StoreB.Dispose();
        }

        private static CachingGenRuntime NewRuntime(ICacheStore store, IWriteBackLog log, TimeSpan drainTimeout, SharedDatabase database)
        {
            var options = new CachingGenOptions { ShardCount = Shards, DirectWriteDrainTimeout = drainTimeout, AllowNonDurableWriteBack = true };
            var runtime = new CachingGenRuntime(store, log, new InMemoryWriteBackTransactionFactory(), [new Dispatcher(database)],
                Microsoft.Extensions.Options.Options.Create(options), TimeProvider.System, NullLoggerFactory.Instance);
            return runtime;
        }
    }
}
