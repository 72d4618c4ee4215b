using CachingGen.Storage;
using CachingGen.WriteBack;

namespace CachingGen.Tests.Support;

/// <summary>Wraps a log: can fail the next acknowledgement (a crash between commit and ack) and counts reads.</summary>
public sealed class FaultyWriteBackLog(IWriteBackLog inner) : IWriteBackLog
{
    private int _reads;

    public IWriteBackLog Inner { get; } = inner;

    public bool FailNextAcknowledge { get; set; }

    public int Reads => Volatile.Read(ref _reads);

    /// <summary>Overrides the inner log's durability, for tests of what the runtime does with a durable log.</summary>
    public bool? ClaimsDurable { get; init; }

    public bool IsDurable => ClaimsDurable ?? Inner.IsDurable;

    public int ShardCount => Inner.ShardCount;

    public ValueTask AppendAsync(WriteBackRecord record, CacheEntry pinnedEntry, CancellationToken cancellationToken) => Inner.AppendAsync(record, pinnedEntry, cancellationToken);

    public ValueTask<IReadOnlyList<PendingWriteBack>> ReadAsync(int shard, int maxCount, CancellationToken cancellationToken)
        => ReadAsync(shard, maxCount, null, cancellationToken);

    public ValueTask<IReadOnlyList<PendingWriteBack>> ReadAsync(int shard, int maxCount, string? after, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _reads);
        return Inner.ReadAsync(shard, maxCount, ForwardsPosition == false ? null : after, cancellationToken);
    }

    /// <summary>Null: as the inner log; false: pretend to be a decorator that does not forward the position.</summary>
    public bool? ForwardsPosition { get; set; }

    public bool ReadsAfterPosition => ClaimsToForwardPosition || (ForwardsPosition ?? Inner.ReadsAfterPosition);

    /// <summary>Says it honours the read position even when <see cref="ForwardsPosition"/> is false (a broken decorator).</summary>
    public bool ClaimsToForwardPosition { get; set; }

    /// <summary>Added to the inner log's ownership changes: simulates losing the shard to another flusher and taking it back.</summary>
    public int ExtraOwnershipChanges { get; set; }

    public int OwnershipChanges(int shard) => Inner.OwnershipChanges(shard) + ExtraOwnershipChanges;

    public ValueTask AcknowledgeAsync(int shard, IReadOnlyList<PendingWriteBack> records, CancellationToken cancellationToken)
    {
        if (FailNextAcknowledge)
        {
            FailNextAcknowledge = false;
            throw new IOException("simulated crash after the commit, before the acknowledgement");
        }

        return Inner.AcknowledgeAsync(shard, records, cancellationToken);
    }

    public ValueTask DeadLetterAsync(PendingWriteBack record, string error, CancellationToken cancellationToken) => Inner.DeadLetterAsync(record, error, cancellationToken);

    public ValueTask<int> RecordFailedAttemptAsync(PendingWriteBack record, CancellationToken cancellationToken) => Inner.RecordFailedAttemptAsync(record, cancellationToken);

    /// <summary>Runs after every pending-count read, with the key and the count read.</summary>
    public Action<string, long>? AfterPendingCount { get; set; }

    public async ValueTask<long> GetPendingCountAsync(string entityKey, CancellationToken cancellationToken)
    {
        var count = await Inner.GetPendingCountAsync(entityKey, cancellationToken);
        AfterPendingCount?.Invoke(entityKey, count);
        return count;
    }

    public ValueTask<long> GetBacklogAsync(int shard, CancellationToken cancellationToken) => Inner.GetBacklogAsync(shard, cancellationToken);

    /// <summary>While true, settles fail as they do when the cache store is down.</summary>
    public bool SettleUnavailable { get; set; }

    /// <summary>Every key settled so far, in order.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<string> Settled { get; } = new();

    private int _settleManyCalls;

    /// <summary>How many times <see cref="SettleManyAsync"/> was called (one round trip per shard on a remote log).</summary>
    public int SettleManyCalls => Volatile.Read(ref _settleManyCalls);

    /// <summary>When set, the next <see cref="SettleManyAsync"/> call waits for this task (holding its keys' gates)
    /// and clears it.</summary>
    public Task? HoldNextSettleMany { get; set; }

    public async ValueTask SettleManyAsync(IReadOnlyList<(string EntityKey, TimeSpan? TimeToLive)> keys, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _settleManyCalls);
        if (HoldNextSettleMany is { } hold)
        {
            HoldNextSettleMany = null;
            await hold.ConfigureAwait(false);
        }

        foreach (var (entityKey, timeToLive) in keys)
        {
            await SettleAsync(entityKey, timeToLive, cancellationToken).ConfigureAwait(false);
        }
    }

    public ValueTask SettleAsync(string entityKey, TimeSpan? timeToLive, CancellationToken cancellationToken)
    {
        if (SettleUnavailable)
        {
            return ValueTask.FromException(new CacheStoreUnavailableException("simulated outage during a settle"));
        }

        Settled.Enqueue(entityKey);
        return Inner.SettleAsync(entityKey, timeToLive, cancellationToken);
    }
}
