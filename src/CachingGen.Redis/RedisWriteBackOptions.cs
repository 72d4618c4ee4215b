namespace CachingGen.Redis;

/// <summary>What an acknowledged <c>[WriteBack]</c> call has survived when it returns. docs/write-back.md states,
/// per level, what each kind of crash can lose.</summary>
public enum WriteBackDurability
{
    /// <summary>In Redis memory and the AOF, which Redis fsyncs about once a second (<c>appendfsync everysec</c>): a
    /// crash of the Redis process or the machine can lose the last second of acknowledged writes.</summary>
    Acknowledged,

    /// <summary>In the AOF, fsynced before the reply (<c>appendfsync always</c>, checked at start-up): survives a crash
    /// of Redis or of the machine; costs one fsync per Redis event-loop turn.</summary>
    Fsync,

    /// <summary>In the memory of <see cref="RedisWriteBackOptions.ReplicaCount"/> replicas as well (Redis <c>WAIT</c>):
    /// survives the loss of the primary's machine when a replica is promoted.</summary>
    Replicated,
}

/// <summary>What a <c>[WriteBack]</c> call does when its shard's backlog is at <see cref="RedisWriteBackOptions.MaxBacklogPerShard"/>.</summary>
public enum WriteBackBackPressure
{
    /// <summary>Wait (polling) until the flusher makes room, for at most <see cref="RedisWriteBackOptions.BackPressureTimeout"/>, then fail.</summary>
    Wait,

    /// <summary>Fail at once with <see cref="WriteBackBackPressureException"/>.</summary>
    Fail,
}

/// <summary>Options of <see cref="RedisWriteBackLog"/>, bound through <c>IOptions&lt;RedisWriteBackOptions&gt;</c>.</summary>
public sealed class RedisWriteBackOptions
{
    /// <summary>The durability of an acknowledged write. Default <see cref="WriteBackDurability.Acknowledged"/>.</summary>
    public WriteBackDurability Durability { get; set; } = WriteBackDurability.Acknowledged;

    /// <summary>With <see cref="WriteBackDurability.Replicated"/>: how many replicas must hold a write before it is
    /// acknowledged. Default 1.</summary>
    public int ReplicaCount { get; set; } = 1;

    /// <summary>With <see cref="WriteBackDurability.Replicated"/>: how long to wait for the replicas; a call whose write
    /// did not reach them in time fails with <see cref="WriteBackDurabilityException"/> (its record may still be
    /// flushed: retry it with the same idempotency key). Default 1 s.</summary>
    public TimeSpan ReplicationTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Whether start-up fails when the server cannot give the promised durability (no AOF, an
    /// <c>appendfsync</c> that does not match <see cref="Durability"/>) or may evict pinned entries (an
    /// <c>allkeys-*</c> <c>maxmemory-policy</c>). When false the problems are logged as errors and the log runs
    /// anyway. Default true.</summary>
    public bool RefuseUnsafeServer { get; set; } = true;

    /// <summary>How long a flusher owns a shard without renewing its lease (each read renews it). When an owner dies
    /// another flusher takes the shard over, with its pending records, after at most this long. Default 10 s.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>This flusher's consumer name in the shards' consumer groups; unique per process by default
    /// (<c>machine:pid:random</c>).</summary>
    public string? ConsumerName { get; set; }

    /// <summary>The most records one shard may hold before <c>[WriteBack]</c> calls of its keys wait or fail
    /// (<see cref="BackPressure"/>). 0: unbounded. Default 100,000.</summary>
    public long MaxBacklogPerShard { get; set; } = 100_000;

    /// <summary>What a call does when its shard is full. Default <see cref="WriteBackBackPressure.Wait"/>.</summary>
    public WriteBackBackPressure BackPressure { get; set; } = WriteBackBackPressure.Wait;

    /// <summary>How long a call waits for room with <see cref="WriteBackBackPressure.Wait"/>. Default 5 s.</summary>
    public TimeSpan BackPressureTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The longest one log operation may take before it fails with
    /// <see cref="CachingGen.Storage.CacheStoreUnavailableException"/>. Default 5 s.</summary>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromSeconds(5);

    internal void Validate()
    {
        if (ReplicaCount <= 0) throw new ArgumentOutOfRangeException(nameof(ReplicaCount), ReplicaCount, "ReplicaCount must be positive.");
        if (ReplicationTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(ReplicationTimeout), ReplicationTimeout, "ReplicationTimeout must be positive.");
        if (LeaseDuration < TimeSpan.FromMilliseconds(100)) throw new ArgumentOutOfRangeException(nameof(LeaseDuration), LeaseDuration, "LeaseDuration must be at least 100 ms.");
        if (MaxBacklogPerShard < 0) throw new ArgumentOutOfRangeException(nameof(MaxBacklogPerShard), MaxBacklogPerShard, "MaxBacklogPerShard must be 0 (unbounded) or positive.");
        if (BackPressureTimeout < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(BackPressureTimeout), BackPressureTimeout, "BackPressureTimeout must not be negative.");
        if (OperationTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(OperationTimeout), OperationTimeout, "OperationTimeout must be positive.");
        if (ConsumerName is { } name && (name.Length == 0 || name.Length > 200)) throw new ArgumentException("ConsumerName must be 1 to 200 characters.", nameof(ConsumerName));
    }
}

/// <summary>A <c>[WriteBack]</c> call was refused because its shard's backlog is at
/// <see cref="RedisWriteBackOptions.MaxBacklogPerShard"/> (the database or the flusher cannot keep up). Nothing was
/// written: neither the cache nor the log.</summary>
public sealed class WriteBackBackPressureException : Exception
{
    /// <summary>Creates the exception.</summary>
    public WriteBackBackPressureException() : base("The write-back backlog is full.") { }

    /// <summary>Creates the exception with <paramref name="message"/>.</summary>
    public WriteBackBackPressureException(string message) : base(message) { }

    /// <summary>Creates the exception with <paramref name="message"/> and its cause.</summary>
    public WriteBackBackPressureException(string message, Exception? innerException) : base(message, innerException) { }
}

/// <summary>A <c>[WriteBack]</c> write reached Redis but not the promised durability (too few replicas in time). Its
/// outcome is unknown: the record may still be flushed. Retry with the same idempotency key; a duplicate is skipped.</summary>
public sealed class WriteBackDurabilityException : Exception
{
    /// <summary>Creates the exception.</summary>
    public WriteBackDurabilityException() : base("The write-back write did not reach the promised durability.") { }

    /// <summary>Creates the exception with <paramref name="message"/>.</summary>
    public WriteBackDurabilityException(string message) : base(message) { }

    /// <summary>Creates the exception with <paramref name="message"/> and its cause.</summary>
    public WriteBackDurabilityException(string message, Exception? innerException) : base(message, innerException) { }
}
