using System.Collections.Concurrent;
using System.Diagnostics;
using CachingGen.Runtime;
using CachingGen.Storage;
using CachingGen.WriteBack;
using Microsoft.Extensions.Logging.Abstractions;
using static CachingGen.Redis.Tests.RedisTestEnvironment;

namespace CachingGen.Redis.Tests.Consistency;

/// <summary>The runtime over the real Redis while it is stopped and restarted: callers never see a Redis exception,
/// writes commit, and no stale entry is served after Redis returns (its data survives the restart).</summary>
[Collection(RedisServerCollection.Name)]
[Trait("Category", RedisServerCollection.SharedServerOutage)]
public sealed class RedisOutageRuntimeTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMilliseconds(250);

    private static async Task<bool> RedisAnswersAsync()
    {
        try
        {
            await Shared.GetDatabase().PingAsync();
            return true;
        }
        catch (StackExchange.Redis.RedisException)
        {
            return false;
        }
    }

    [RedisServerFact]
    public async Task Writes_during_an_outage_commit_and_no_stale_entry_is_served_after_redis_returns()
    {
        Assert.True(await EventuallyAsync(RedisAnswersAsync, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(100)), "Redis is not up");
        using var connection = Connect();
        var store = NewStore(connection, o => o.OperationTimeout = Timeout);
        var options = new CachingGenOptions { InvalidationRetryBaseDelay = TimeSpan.FromMilliseconds(50), InvalidationRetryMaxDelay = TimeSpan.FromMilliseconds(500) };
        await using var runtime = new CachingGenRuntime(store, new InMemoryWriteBackLog(store), new InMemoryWriteBackTransactionFactory(), [],
            Microsoft.Extensions.Options.Options.Create(options), TimeProvider.System, NullLoggerFactory.Instance);
        var database = new DictionaryRowRepository();
        var repository = new CachedRowRepository(database, runtime);
        var key = CachedRowRepository.KeyOf(1);

        await repository.SaveAsync(new Row(1, "before"), CancellationToken.None);
        await repository.SaveAsync(new Row(2, "other"), CancellationToken.None);
        Assert.Equal("before", (await repository.GetAsync(1, CancellationToken.None))!.Value);
        Assert.Equal(0, database.Gets);

        try
        {
            RunServicesScript("stop-redis");

            // Reads and writes go on without Redis, each bounded by the store's timeout.
            var watch = Stopwatch.StartNew();
            await repository.SaveAsync(new Row(1, "during"), CancellationToken.None);
            await repository.MigrateAsync(new Row(2, "migrated"), CancellationToken.None);
            Assert.Equal("during", database.Rows[1]);
            Assert.Equal("migrated", database.Rows[2]);
            Assert.Equal("during", (await repository.GetAsync(1, CancellationToken.None))!.Value);
            Assert.Equal("migrated", (await repository.GetAsync(2, CancellationToken.None))!.Value);
            Assert.True(watch.Elapsed < 4 * RedisTestEnvironment.FailFastBound, $"four calls took {watch.Elapsed.TotalMilliseconds:0} ms during the outage");
            Assert.True(runtime.PendingInvalidations.Contains(key));
            Assert.True(runtime.PendingInvalidations.Contains(CachedRowRepository.KeyOf(2)));
        }
        finally
        {
            RunServicesScript("start-redis");
        }

        // Redis kept its data across the restart: row 1 still holds "before" there until the retry invalidates it.
        Assert.True(await EventuallyAsync(RedisAnswersAsync, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(50)), "Redis did not come back");
        var reads = new ConcurrentBag<string?>();
        var migratedReads = new ConcurrentBag<string?>();
        var drained = await EventuallyAsync(
            async () =>
            {
                reads.Add((await repository.GetAsync(1, CancellationToken.None))?.Value);
                migratedReads.Add((await repository.GetAsync(2, CancellationToken.None))?.Value);
                return runtime.PendingInvalidations.Count == 0;
            },
            TimeSpan.FromSeconds(30),
            TimeSpan.FromMilliseconds(20));
        Assert.True(drained, "the pending invalidation was not applied within 30 s of Redis returning");
        Assert.All(reads, value => Assert.Equal("during", value));
        Assert.All(migratedReads, value => Assert.Equal("migrated", value));

        // The repaired write-around invalidation kept its 30 s fill TTL: the next read fills for 30 s, not the read's
        // 10 minutes.
        Assert.Equal("migrated", (await repository.GetAsync(2, CancellationToken.None))!.Value);
        await runtime.WaitForPendingFillsAsync();
        var migratedTimeToLive = await Shared.GetDatabase().KeyTimeToLiveAsync(store.GetRedisKey(CachedRowRepository.KeyOf(2)));
        Assert.NotNull(migratedTimeToLive);
        Assert.InRange(migratedTimeToLive.Value, TimeSpan.FromSeconds(1), CachedRowRepository.MigratePolicy.FillTimeToLive);

        var raw = RedisEntryFormat.Parse(await Shared.GetDatabase().StringGetAsync(store.GetRedisKey(key)));
        if (raw.Found)
        {
            Assert.True(CacheEnvelope.TryDecode<Row>(raw.Value, 0, RowFormatter.Options, out var cached, out _));
            Assert.Equal("during", cached!.Value);
        }

        // Back to normal: the next read fills, the one after hits.
        Assert.Equal("during", (await repository.GetAsync(1, CancellationToken.None))!.Value);
        await runtime.WaitForPendingFillsAsync();
        var gets = database.Gets;
        Assert.Equal("during", (await repository.GetAsync(1, CancellationToken.None))!.Value);
        Assert.Equal(gets, database.Gets);
    }

    private sealed class DictionaryRowRepository : IRowRepository
    {
        private int _gets;

        public ConcurrentDictionary<long, string> Rows { get; } = new();

        public int Gets => Volatile.Read(ref _gets);

        public ValueTask<Row?> GetAsync(long id, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _gets);
            return new ValueTask<Row?>(Rows.TryGetValue(id, out var value) ? new Row(id, value) : null);
        }

        public ValueTask SaveAsync(Row row, CancellationToken cancellationToken)
        {
            Rows[row.Id] = row.Value;
            return ValueTask.CompletedTask;
        }
    }
}
