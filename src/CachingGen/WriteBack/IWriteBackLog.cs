using CachingGen.Storage;

namespace CachingGen.WriteBack;

/// <summary>
/// The write-back log: where an acknowledged write-back call lives until its flush to the database commits.
/// </summary>
/// <remarks>
/// An implementation must make <see cref="AppendAsync"/> one step with the cache update: once it returns, both the
/// pinned cache entry and the record exist, or (when it throws) neither is acknowledged. Records of one entity key
/// always land in the same shard, in acknowledgement order.
/// </remarks>
public interface IWriteBackLog
{
    /// <summary>Whether an acknowledged record survives a crash of this process. The in-memory log is not durable.</summary>
    bool IsDurable { get; }

    /// <summary>The number of shards; shard of a key = <see cref="WriteBackSharding.ShardOf"/>.</summary>
    int ShardCount { get; }

    /// <summary>Stores the pinned cache entry of the written entity and appends the record, as one step.</summary>
    ValueTask AppendAsync(WriteBackRecord record, CacheEntry pinnedEntry, CancellationToken cancellationToken);

    /// <summary>Reads up to <paramref name="maxCount"/> of the oldest unacknowledged records of a shard, in order,
    /// without removing them. Records already handed out and not acknowledged are handed out again.</summary>
    ValueTask<IReadOnlyList<PendingWriteBack>> ReadAsync(int shard, int maxCount, CancellationToken cancellationToken);

    /// <summary>
    /// Like <see cref="ReadAsync(int, int, CancellationToken)"/>, but only the unacknowledged records after position
    /// <paramref name="after"/> (a <see cref="PendingWriteBack.Position"/> this log handed out; null reads from the
    /// oldest). The flusher reads past the records of keys that are backing off after a failure this way, so a key
    /// with a long backlog of records waiting behind its failing one cannot hold up the shard's other keys. A log
    /// that just took a shard over from another owner reads from the oldest regardless (the records it took over may
    /// be older). Used only when <see cref="ReadsAfterPosition"/> is true; the default ignores <paramref name="after"/>.
    /// </summary>
    ValueTask<IReadOnlyList<PendingWriteBack>> ReadAsync(int shard, int maxCount, string? after, CancellationToken cancellationToken)
        => ReadAsync(shard, maxCount, cancellationToken);

    /// <summary>Whether <see cref="ReadAsync(int, int, string?, CancellationToken)"/> honours its position. A log (or a
    /// decorator of one) that does not is read from the oldest record every time, and there a failing key with more
    /// records than the flusher's read window holds up its shard until its failing record is dead-lettered.</summary>
    bool ReadsAfterPosition => false;

    /// <summary>How many times this process has taken <paramref name="shard"/> over or lost it. While it did not own the
    /// shard, another flusher may have applied or dead-lettered records this one saw fail, so the flusher forgets
    /// what it knew of the shard's records when the number changes. A single-process log never changes it.</summary>
    int OwnershipChanges(int shard) => 0;

    /// <summary>Removes applied records from the log.</summary>
    ValueTask AcknowledgeAsync(int shard, IReadOnlyList<PendingWriteBack> records, CancellationToken cancellationToken);

    /// <summary>Moves a record that can never be applied to the dead-letter store, with its error, and removes it
    /// from the shard so it blocks nothing else.</summary>
    ValueTask DeadLetterAsync(PendingWriteBack record, string error, CancellationToken cancellationToken);

    /// <summary>Records that applying <paramref name="record"/> failed, and returns how many apply attempts of it have
    /// failed so far, across every flusher that owned its shard: the count lives with the record's pending state, so
    /// <c>MaxAttempts</c> holds when ownership moves. Returns 0 when the record is no longer pending (it was
    /// acknowledged or dead-lettered meanwhile).</summary>
    ValueTask<int> RecordFailedAttemptAsync(PendingWriteBack record, CancellationToken cancellationToken);

    /// <summary>The number of unacknowledged records of one entity key.</summary>
    ValueTask<long> GetPendingCountAsync(string entityKey, CancellationToken cancellationToken);

    /// <summary>The number of unacknowledged records in a shard.</summary>
    ValueTask<long> GetBacklogAsync(int shard, CancellationToken cancellationToken);

    /// <summary>Ends the pin of a key whose records were applied (<paramref name="timeToLive"/>: the cached entry gets
    /// it) or dead-lettered (null: the entry is invalidated), unless a newer record of the key is pending (its own
    /// flush settles the key). A log shared by several processes must make the check and the change one step, so an
    /// append racing with it in another process is never unpinned.</summary>
    ValueTask SettleAsync(string entityKey, TimeSpan? timeToLive, CancellationToken cancellationToken);

    /// <summary>Settles the keys of one flushed batch, each as <see cref="SettleAsync"/> does. A remote log settles
    /// them in one round trip per shard; this default settles one key after another. When it throws, any of the keys
    /// may be left unsettled.</summary>
    async ValueTask SettleManyAsync(IReadOnlyList<(string EntityKey, TimeSpan? TimeToLive)> keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        foreach (var (entityKey, timeToLive) in keys)
        {
            await SettleAsync(entityKey, timeToLive, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Acknowledges the applied <paramref name="records"/> of <paramref name="shard"/>, as
    /// <see cref="AcknowledgeAsync"/>, and settles <paramref name="keys"/> (keys of that shard), as
    /// <see cref="SettleManyAsync"/>, after the acknowledgement. A remote log does both in one round trip; this default
    /// does one after the other. When it throws, the records may or may not be acknowledged and the keys may be left
    /// unsettled.</summary>
    async ValueTask AcknowledgeAndSettleAsync(int shard, IReadOnlyList<PendingWriteBack> records, IReadOnlyList<(string EntityKey, TimeSpan? TimeToLive)> keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        await AcknowledgeAsync(shard, records, cancellationToken).ConfigureAwait(false);
        if (keys.Count > 0)
        {
            await SettleManyAsync(keys, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Whether this process may flush <paramref name="shard"/> now. A log shared by several flusher
    /// processes gives each shard one owner at a time; <see cref="ReadAsync(int, int, CancellationToken)"/> of a shard owned elsewhere returns
    /// nothing. A single-process log owns every shard.</summary>
    bool OwnsShard(int shard) => true;

    /// <summary>When the oldest unacknowledged record of a shard was appended; null when the shard is empty (or the
    /// log cannot tell).</summary>
    ValueTask<DateTimeOffset?> GetOldestPendingAsync(int shard, CancellationToken cancellationToken) => new((DateTimeOffset?)null);
}
