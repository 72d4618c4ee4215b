using System.Collections.Concurrent;
using System.Globalization;
using CachingGen.Runtime;
using CachingGen.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CachingGen.WriteBack;

/// <summary>A record that the flusher gave up on, with its error.</summary>
/// <param name="Pending">The record as it was last read from the log.</param>
/// <param name="Error">Why it could not be applied.</param>
/// <param name="DeadLetteredAt">When it was dead-lettered.</param>
public sealed record WriteBackDeadLetter(PendingWriteBack Pending, string Error, DateTimeOffset DeadLetteredAt);

/// <summary>
/// An in-process write-back log, sharded with <see cref="WriteBackSharding.ShardOf"/>, ordered per shard (so per
/// key) in acknowledgement order, with a dead-letter list. It is NOT durable: acknowledged records that are not
/// flushed yet are lost when the process dies, and it says so with a warning when it is created.
/// </summary>
public sealed class InMemoryWriteBackLog : IWriteBackLog
{
    private readonly ICacheStore _store;
    private readonly TimeProvider _time;
    private readonly Shard[] _shards;
    private readonly ConcurrentQueue<WriteBackDeadLetter> _deadLetters = new();
    private long _sequence;

    /// <summary>Creates an empty log that stores pinned entries in <paramref name="store"/>.</summary>
    /// <param name="store">The cache store the pinned entries of appended writes go to.</param>
    /// <param name="shardCount">The number of shards.</param>
    /// <param name="logger">Receives the start-up warning that the log is not durable.</param>
    /// <param name="timeProvider">The clock of dead-letter times; <see cref="TimeProvider.System"/> when null.</param>
    public InMemoryWriteBackLog(ICacheStore store, int shardCount = 4, ILogger<InMemoryWriteBackLog>? logger = null, TimeProvider? timeProvider = null)
    {
        _store = store ?? throw new ArgumentNullException(nameof(store));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(shardCount);
        _time = timeProvider ?? TimeProvider.System;
        _shards = new Shard[shardCount];
        for (var i = 0; i < shardCount; i++)
        {
            _shards[i] = new Shard();
        }

        Log.InMemoryLogNotDurable(logger ?? (ILogger)NullLogger.Instance);
    }

    /// <inheritdoc />
    public bool IsDurable => false;

    /// <inheritdoc />
    public int ShardCount => _shards.Length;

    /// <summary>The records that were dead-lettered, oldest first.</summary>
    public IReadOnlyList<WriteBackDeadLetter> DeadLetters => _deadLetters.ToArray();

    /// <inheritdoc />
    public async ValueTask AppendAsync(WriteBackRecord record, CacheEntry pinnedEntry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (!string.Equals(record.EntityKey, pinnedEntry.Key, StringComparison.Ordinal))
        {
            throw new ArgumentException($"The pinned entry's key '{pinnedEntry.Key}' is not the record's entity key '{record.EntityKey}'.", nameof(pinnedEntry));
        }

        await _store.SetManyAsync(new[] { pinnedEntry }, cancellationToken).ConfigureAwait(false);

        // The cache entry is stored: from here on the append completes regardless of cancellation.
        var shard = _shards[WriteBackSharding.ShardOf(record.EntityKey, _shards.Length)];
        lock (shard.Gate)
        {
            var sequence = Interlocked.Increment(ref _sequence);
            shard.Records.Add(sequence, new Entry(record));
            shard.PendingByKey[record.EntityKey] = shard.PendingByKey.TryGetValue(record.EntityKey, out var count) ? count + 1 : 1;
        }
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<PendingWriteBack>> ReadAsync(int shard, int maxCount, CancellationToken cancellationToken)
        => ReadAsync(shard, maxCount, null, cancellationToken);

    /// <inheritdoc />
    public bool ReadsAfterPosition => true;

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<PendingWriteBack>> ReadAsync(int shard, int maxCount, string? after, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxCount);
        cancellationToken.ThrowIfCancellationRequested();
        var afterSequence = -1L;
        if (after is not null && !long.TryParse(after, NumberStyles.None, CultureInfo.InvariantCulture, out afterSequence))
        {
            throw new ArgumentException($"'{after}' is not a position of the in-memory write-back log.", nameof(after));
        }

        var state = ShardAt(shard);
        var result = new List<PendingWriteBack>(Math.Min(maxCount, 64));
        lock (state.Gate)
        {
            foreach (var pair in state.Records)
            {
                if (result.Count == maxCount)
                {
                    break;
                }

                if (pair.Key <= afterSequence)
                {
                    continue;
                }

                pair.Value.Deliveries++;
                result.Add(new PendingWriteBack(shard, pair.Key.ToString(CultureInfo.InvariantCulture), pair.Value.Record, pair.Value.Deliveries) { FailedAttempts = pair.Value.FailedAttempts });
            }
        }

        return new ValueTask<IReadOnlyList<PendingWriteBack>>(result);
    }

    /// <inheritdoc />
    public ValueTask AcknowledgeAsync(int shard, IReadOnlyList<PendingWriteBack> records, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(records);
        var state = ShardAt(shard);
        lock (state.Gate)
        {
            foreach (var record in records)
            {
                Remove(state, record);
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask DeadLetterAsync(PendingWriteBack record, string error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        var state = ShardAt(record.Shard);
        lock (state.Gate)
        {
            if (Remove(state, record))
            {
                _deadLetters.Enqueue(new WriteBackDeadLetter(record, error ?? string.Empty, _time.GetUtcNow()));
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<int> RecordFailedAttemptAsync(PendingWriteBack record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        var state = ShardAt(record.Shard);
        lock (state.Gate)
        {
            return new ValueTask<int>(
                long.TryParse(record.Position, NumberStyles.None, CultureInfo.InvariantCulture, out var sequence) && state.Records.TryGetValue(sequence, out var entry)
                    ? ++entry.FailedAttempts
                    : 0);
        }
    }

    /// <inheritdoc />
    public ValueTask<long> GetPendingCountAsync(string entityKey, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entityKey);
        var state = _shards[WriteBackSharding.ShardOf(entityKey, _shards.Length)];
        lock (state.Gate)
        {
            return new ValueTask<long>(state.PendingByKey.TryGetValue(entityKey, out var count) ? count : 0);
        }
    }

    /// <inheritdoc />
    public ValueTask<long> GetBacklogAsync(int shard, CancellationToken cancellationToken)
    {
        var state = ShardAt(shard);
        lock (state.Gate)
        {
            return new ValueTask<long>(state.Records.Count);
        }
    }

    /// <inheritdoc />
    public ValueTask<DateTimeOffset?> GetOldestPendingAsync(int shard, CancellationToken cancellationToken)
    {
        var state = ShardAt(shard);
        lock (state.Gate)
        {
            return new ValueTask<DateTimeOffset?>(state.Records.Count == 0 ? null : state.Records.First().Value.Record.EnqueuedAt);
        }
    }

    /// <inheritdoc />
    public async ValueTask SettleAsync(string entityKey, TimeSpan? timeToLive, CancellationToken cancellationToken)
    {
        // In one process the coordinator's key gate keeps appends of the key out while this runs.
        if (await GetPendingCountAsync(entityKey, cancellationToken).ConfigureAwait(false) > 0)
        {
            return;
        }

        if (timeToLive is { } ttl)
        {
            await _store.ExpireAsync(entityKey, ttl, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await _store.InvalidateAsync(new[] { entityKey }, null, cancellationToken).ConfigureAwait(false);
        }
    }

    private Shard ShardAt(int shard)
    {
        if ((uint)shard >= (uint)_shards.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(shard), shard, $"The log has {_shards.Length} shard(s).");
        }

        return _shards[shard];
    }

    private static bool Remove(Shard state, PendingWriteBack record)
    {
        if (!long.TryParse(record.Position, NumberStyles.None, CultureInfo.InvariantCulture, out var sequence)
            || !state.Records.Remove(sequence, out var entry))
        {
            return false;
        }

        var key = entry.Record.EntityKey;
        if (state.PendingByKey.TryGetValue(key, out var count) && count > 1)
        {
            state.PendingByKey[key] = count - 1;
        }
        else
        {
            state.PendingByKey.Remove(key);
        }

        return true;
    }

    private sealed class Shard
    {
        public object Gate { get; } = new();

        public SortedDictionary<long, Entry> Records { get; } = new();

        public Dictionary<string, int> PendingByKey { get; } = new(StringComparer.Ordinal);
    }

    private sealed class Entry(WriteBackRecord record)
    {
        public WriteBackRecord Record { get; } = record;

        public int Deliveries { get; set; }

        public int FailedAttempts { get; set; }
    }
}
