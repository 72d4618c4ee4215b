using CachingGen;
using CachingGen.Redis;
using CachingGen.Storage;
using CachingGen.WriteBack;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace WriteBackFlusher;

/// <summary>The registration every role of the sample shares (and the crash tests reuse): Redis cache and durable
/// write-back log, MySQL ledger, the counter repository.</summary>
/// <remarks>Settings (command line <c>--name value</c> or environment): <c>redis</c>, <c>mysql</c> (connection
/// strings), <c>namespace</c> (Redis key namespace), <c>shards</c>, <c>batch</c>, <c>durability</c>
/// (Acknowledged | Fsync | Replicated), <c>table</c>, <c>ledger</c> (the idempotency ledger table), <c>lease-ms</c>, <c>retry-base-ms</c>, <c>retry-max-ms</c>,
/// <c>max-attempts</c>, <c>poison-id</c>, and the chaos setting <c>crash-before-ack</c> (a probability: the flusher
/// SIGKILLs itself after a batch's database commit and before its XACK).</remarks>
public static class CounterServices
{
    public static CachingGenBuilder AddCounters(this IServiceCollection services, IConfiguration settings, bool runFlusher)
    {
        var redis = settings["redis"] ?? throw new ArgumentException("Missing setting 'redis' (for example --redis 127.0.0.1:6379).");
        var mysql = settings["mysql"] ?? throw new ArgumentException("Missing setting 'mysql' (a MySqlConnector connection string).");
        var builder = services
            .AddCachingGen(options =>
            {
                options.RunWriteBackFlusher = runFlusher;
                options.ShardCount = settings.GetValue("shards", 4);
                options.BatchSize = settings.GetValue("batch", 100);
                options.PollInterval = TimeSpan.FromMilliseconds(settings.GetValue("poll-ms", 200));
                options.RetryBaseDelay = TimeSpan.FromMilliseconds(settings.GetValue("retry-base-ms", 1000));
                options.RetryMaxDelay = TimeSpan.FromMilliseconds(settings.GetValue("retry-max-ms", 300_000));
                options.MaxAttempts = settings.GetValue("max-attempts", 10);
                options.DrainTimeout = TimeSpan.FromSeconds(settings.GetValue("drain-seconds", 30));
            })
            .UseRedis(redis, options =>
            {
                options.KeyNamespace = settings["namespace"];
                options.OperationTimeout = TimeSpan.FromSeconds(5);
            })
            .UseRedisWriteBackLog(options =>
            {
                options.Durability = settings.GetValue("durability", WriteBackDurability.Acknowledged);
                options.LeaseDuration = TimeSpan.FromMilliseconds(settings.GetValue("lease-ms", 10_000));
            })
            .UseMySqlWriteBack(mysql, options => options.LedgerTable = settings["ledger"] ?? options.LedgerTable)
            .AddCachedCounterRepository<MySqlCounterRepository>();
        services.Configure<CounterOptions>(options =>
        {
            options.Table = settings["table"] ?? options.Table;
            options.PoisonId = settings.GetValue<long?>("poison-id");
        });

        var crash = settings.GetValue("crash-before-ack", 0.0);
        if (crash > 0)
        {
            services.RemoveAll<IWriteBackLog>();
            services.AddSingleton<IWriteBackLog>(provider => new CrashBeforeAcknowledgeLog(provider.GetRequiredService<RedisWriteBackLog>(), crash));
        }

        return builder;
    }
}

/// <summary>Chaos for the crash tests: after a batch's database commit, with the given probability, the process kills
/// itself (SIGKILL) instead of acknowledging the batch, so the next owner must replay it and skip it by the ledger.</summary>
internal sealed class CrashBeforeAcknowledgeLog(IWriteBackLog inner, double probability) : IWriteBackLog
{
    public bool IsDurable => inner.IsDurable;

    public int ShardCount => inner.ShardCount;

    public ValueTask AppendAsync(WriteBackRecord record, CacheEntry pinnedEntry, CancellationToken cancellationToken) => inner.AppendAsync(record, pinnedEntry, cancellationToken);

    public ValueTask<IReadOnlyList<PendingWriteBack>> ReadAsync(int shard, int maxCount, CancellationToken cancellationToken) => inner.ReadAsync(shard, maxCount, cancellationToken);

    public ValueTask<IReadOnlyList<PendingWriteBack>> ReadAsync(int shard, int maxCount, string? after, CancellationToken cancellationToken) => inner.ReadAsync(shard, maxCount, after, cancellationToken);

    public bool ReadsAfterPosition => inner.ReadsAfterPosition;

    public ValueTask AcknowledgeAsync(int shard, IReadOnlyList<PendingWriteBack> records, CancellationToken cancellationToken)
    {
        MaybeCrash(records);
        return inner.AcknowledgeAsync(shard, records, cancellationToken);
    }

    public ValueTask AcknowledgeAndSettleAsync(int shard, IReadOnlyList<PendingWriteBack> records, IReadOnlyList<(string EntityKey, TimeSpan? TimeToLive)> keys, CancellationToken cancellationToken)
    {
        MaybeCrash(records);
        return inner.AcknowledgeAndSettleAsync(shard, records, keys, cancellationToken);
    }

    public ValueTask SettleManyAsync(IReadOnlyList<(string EntityKey, TimeSpan? TimeToLive)> keys, CancellationToken cancellationToken) => inner.SettleManyAsync(keys, cancellationToken);

    private void MaybeCrash(IReadOnlyList<PendingWriteBack> records)
    {
        if (Random.Shared.NextDouble() < probability)
        {
            Console.Error.WriteLine($"chaos: killing the flusher after the commit of {records.Count} record(s), before their XACK");
            Console.Error.Flush();
            System.Diagnostics.Process.GetCurrentProcess().Kill();
        }
    }

    public ValueTask DeadLetterAsync(PendingWriteBack record, string error, CancellationToken cancellationToken) => inner.DeadLetterAsync(record, error, cancellationToken);

    public ValueTask<int> RecordFailedAttemptAsync(PendingWriteBack record, CancellationToken cancellationToken) => inner.RecordFailedAttemptAsync(record, cancellationToken);

    public ValueTask<long> GetPendingCountAsync(string entityKey, CancellationToken cancellationToken) => inner.GetPendingCountAsync(entityKey, cancellationToken);

    public ValueTask<long> GetBacklogAsync(int shard, CancellationToken cancellationToken) => inner.GetBacklogAsync(shard, cancellationToken);

    public ValueTask SettleAsync(string entityKey, TimeSpan? timeToLive, CancellationToken cancellationToken) => inner.SettleAsync(entityKey, timeToLive, cancellationToken);

    public bool OwnsShard(int shard) => inner.OwnsShard(shard);

    public int OwnershipChanges(int shard) => inner.OwnershipChanges(shard);

    public ValueTask<DateTimeOffset?> GetOldestPendingAsync(int shard, CancellationToken cancellationToken) => inner.GetOldestPendingAsync(shard, cancellationToken);
}
