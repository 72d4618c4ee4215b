using System.Collections.Concurrent;
using System.Text;
using CachingGen.Redis.Tests.Consistency;
using CachingGen.Runtime;
using CachingGen.WriteBack;
using Microsoft.Extensions.Logging.Abstractions;

namespace CachingGen.Redis.Tests;

/// <summary>
/// A key whose records keep failing, with far more of them pending than the flusher's read window (16 x BatchSize),
/// on the real Redis log: while the key backs off, the flusher reads past its records and flushes the shard's other
/// keys; once the row is fixed, a flusher started after the first one stopped applies the key's records in their
/// order. (Reading from the oldest record right after a take-over is tested on the log itself, in
/// RedisWriteBackLogTests.)
/// </summary>
public sealed class RedisWriteBackFailingKeyTests
{
    private const int Shards = 1;
    private const int FailingRecords = 100;
    private static readonly RepositoryDescriptor Descriptor = new("CachingGen.Redis.Tests.IRowRepository", "row", RowFormatter.Options, HasWriteBack: true);
    private static readonly WriteBackPolicy UpdatePolicy = new("UpdateAsync", TimeSpan.FromMinutes(5));

    [RedisFact]
    public async Task A_backing_off_key_with_a_long_backlog_does_not_hold_up_the_shards_other_keys()
    {
        var keyNamespace = RedisTestEnvironment.UniqueNamespace();
        var database = new Database { FailingKey = "row:13" };
        var first = Process.Create(keyNamespace, "first", database, retryDelay: TimeSpan.FromMinutes(10));
        for (var version = 1; version <= FailingRecords; version++)
        {
            await first.Cache.WriteBackAsync("row:13", new Row(13, "v" + version), version.ToString(System.Globalization.CultureInfo.InvariantCulture), UpdatePolicy, Encoding.UTF8.GetBytes("v" + version), CancellationToken.None);
        }

        for (var id = 1; id <= 10; id++)
        {
            await first.Cache.WriteBackAsync("row:" + id, new Row(id, "other"), "1", UpdatePolicy, Encoding.UTF8.GetBytes("other"), CancellationToken.None);
        }

        // The failing key's first record fails once and backs off for ten minutes; the other keys flush meanwhile.
        using (var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
        {
            try
            {
                await first.Runtime.WriteBack.FlushKeyAsync("row:10", deadline.Token);
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested)
            {
                await first.DisposeAsync();
                Assert.Fail("the shard's other keys waited for the failing key's retry");
            }
        }

        for (var id = 1; id <= 10; id++)
        {
            Assert.Equal(new[] { "other" }, database.HistoryOf("row:" + id));
        }

        Assert.Empty(database.HistoryOf("row:13"));
        Assert.Equal(1, database.Failures);
        Assert.Equal(FailingRecords, await first.Log.GetPendingCountAsync("row:13", default));
        Assert.Equal(FailingRecords, await first.Log.GetBacklogAsync(0, default));
        await first.DisposeAsync();

        // The row is fixed; another flusher takes the shard over and applies the key's records in their order.
        database.FailingKey = null;
        var second = Process.Create(keyNamespace, "second", database, retryDelay: TimeSpan.Zero);
        await using (second)
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await second.Runtime.WriteBack.FlushAsync(deadline.Token);
            Assert.Equal(Enumerable.Range(1, FailingRecords).Select(v => "v" + v), database.HistoryOf("row:13"));
            Assert.Equal(0, await second.Log.GetBacklogAsync(0, default));
            Assert.Empty(await second.Log.ReadDeadLettersAsync(0, 10, default));
        }
    }

    private sealed class Database
    {
        private readonly ConcurrentDictionary<string, ConcurrentQueue<string>> _history = new(StringComparer.Ordinal);
        private int _failures;

        public volatile string? FailingKey;

        public int Failures => Volatile.Read(ref _failures);

        public string[] HistoryOf(string key) => _history.TryGetValue(key, out var values) ? values.ToArray() : [];

        public ValueTask ApplyAsync(WriteBackRecord record)
        {
            if (string.Equals(record.EntityKey, FailingKey, StringComparison.Ordinal))
            {
                Interlocked.Increment(ref _failures);
                throw new InvalidOperationException("the row violates a constraint");
            }

            _history.GetOrAdd(record.EntityKey, _ => new ConcurrentQueue<string>()).Enqueue(Encoding.UTF8.GetString(record.Arguments.Span));
            return ValueTask.CompletedTask;
        }
    }

    private sealed class Dispatcher(Database database) : IWriteBackDispatcher
    {
        public string Repository => Descriptor.Name;

        public ValueTask ApplyAsync(WriteBackRecord record, IServiceProvider? services, CancellationToken cancellationToken) => database.ApplyAsync(record);
    }

    private sealed class Process(CachingGenRuntime runtime, RedisWriteBackLog log, RedisCacheStore store) : IAsyncDisposable
    {
        public CachingGenRuntime Runtime { get; } = runtime;

        public RedisWriteBackLog Log { get; } = log;

        public EntityCache<Row> Cache { get; } = runtime.GetEntityCache<Row>(Descriptor);

        public static Process Create(string keyNamespace, string consumer, Database database, TimeSpan retryDelay)
        {
            var store = RedisTestEnvironment.NewStore(configure: o => { o.KeyNamespace = keyNamespace; o.WriteBackShardCount = Shards; });
            var log = new RedisWriteBackLog(RedisTestEnvironment.Shared, store, Shards, new RedisWriteBackOptions { RefuseUnsafeServer = false, ConsumerName = consumer });
            var options = new CachingGenOptions
            {
                ShardCount = Shards,
                BatchSize = 4,
                MaxAttempts = 3,
                RetryBaseDelay = retryDelay,
                RetryMaxDelay = retryDelay,
                RetryJitter = false,
                DrainTimeout = TimeSpan.FromSeconds(1),
            };
            var runtime = new CachingGenRuntime(store, log, new InMemoryWriteBackTransactionFactory(), [new Dispatcher(database)],
                Microsoft.Extensions.Options.Options.Create(options), TimeProvider.System, NullLoggerFactory.Instance);
            return new Process(runtime, log, store);
        }

        public async ValueTask DisposeAsync()
        {
            await Runtime.DisposeAsync();
            await Log.DisposeAsync();
            store.Dispose();
        }
    }
}
