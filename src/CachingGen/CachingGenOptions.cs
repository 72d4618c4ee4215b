namespace CachingGen;

/// <summary>Options of the CachingGen runtime, its in-memory stores and the write-back flusher.</summary>
public sealed class CachingGenOptions
{
    /// <summary>The number of write-back shards (parallel, independently ordered flush queues). Default 4.</summary>
    public int ShardCount { get; set; } = 4;

    /// <summary>The maximum number of records one flush transaction applies. Default 100.</summary>
    public int BatchSize { get; set; } = 100;

    /// <summary>How long an idle flusher waits before looking at the log again when no append woke it. Default 1 s.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How many times a failing record is tried before it is dead-lettered. Default 10.</summary>
    public int MaxAttempts { get; set; } = 10;

    /// <summary>The delay before the first retry of a failed record; it doubles with each attempt. Default 1 s.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest delay between two attempts of a record. Default 5 minutes.</summary>
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Whether retry delays are randomized (between half and all of the exponential delay). Default true.</summary>
    public bool RetryJitter { get; set; } = true;

    /// <summary>How long a graceful shutdown keeps flushing pending write-back records. Default 30 s.</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The shortest life of an invalidation tombstone in the in-memory store. Default 60 s.</summary>
    public TimeSpan TombstoneLifetime { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The time to live given to a flushed write-back entry whose record names no time to live (records the
    /// runtime appends always carry their method's). Default 5 minutes.</summary>
    public TimeSpan DefaultWriteBackTimeToLive { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The number of striped gates that keep direct writes and write-back appends of one key apart. Default 1024.</summary>
    public int KeyGateCount { get; set; } = 1024;

    /// <summary>The longest life of a write-through's write marker (see <c>ICacheStore.BeginWritesAsync</c>): a writer
    /// that crashes between its two cache steps blocks fills of its keys for at most this long. Choose it longer than
    /// the slowest database write. Default 30 s.</summary>
    public TimeSpan WriteLease { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The first delay before keys whose invalidation failed during a cache store outage are retried; it
    /// doubles up to <see cref="InvalidationRetryMaxDelay"/> while the store stays unavailable. Default 100 ms.</summary>
    public TimeSpan InvalidationRetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest delay between two retries of pending invalidations. Default 5 s.</summary>
    public TimeSpan InvalidationRetryMaxDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a direct write ([WriteThrough], [WriteAround], [Evict]) of a key waits for that key's pending
    /// write-back records to be flushed (by this process or by the flusher process that owns the key's shard) before
    /// it fails with <see cref="TimeoutException"/> without touching the database. Default 30 s.</summary>
    public TimeSpan DirectWriteDrainTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Write-back methods whose consecutive writes of one key may be coalesced: when a flush batch holds several records
    /// of one key and the next record of that key is a call of the same method, the earlier one is not replayed (its
    /// idempotency key is still recorded in the ledger). Only for methods whose call replaces the whole state the
    /// key's earlier calls wrote, such as <c>UpdateAsync(entity)</c>; never for increments or appends. Entries are
    /// <c>{repository}.{method signature}</c> as stored in the records, e.g.
    /// <c>Sample.IPreferenceRepository.UpdateAsync(Sample.Preference)</c>. Empty by default. The method-level opt-in,
    /// <c>[WriteBack(Coalesce = true)]</c>, needs no entry here; this list adds methods (for example of a build whose
    /// attributes you cannot change).
    /// </summary>
    public ISet<string> CoalescedWriteBackMethods { get; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>
    /// Whether concurrent reads of one key share the cache store's lookups. Default true. A reader that arrives while a
    /// lookup of its key is in flight waits for it: on a miss it joins the load that lookup started (a stampede of
    /// 1,000 readers costs two GETs, not 1,000: the second, sent as the load starts, lets the readers that arrived
    /// mid-lookup take the loaded value without waiting for its fill); on a hit it shares the next lookup with every
    /// reader that waited, because an answer sent before it started may be older than a write acknowledged before it
    /// started. So a hot key costs the store about one GET per round trip instead of one per reader, and a reader that
    /// arrived mid-lookup waits up to one extra round trip. Turn it off when that latency matters more than the store's load. The in-memory store
    /// never shares (it answers at once).
    /// </summary>
    public bool ShareConcurrentLookups { get; set; } = true;

    /// <summary>Whether <c>AddCachingGen</c> registers the write-back flusher as a hosted service. Default true.</summary>
    public bool RunWriteBackFlusher { get; set; } = true;

    /// <summary>Whether repositories with <see cref="WriteBackAttribute"/> methods may run on a write-back log that is
    /// not durable (the in-memory log), which loses acknowledged, unflushed writes when the process stops. Default
    /// false: the runtime then refuses to start such a repository. Set it for tests and demos, or call
    /// <see cref="CachingGenBuilder.UseInMemoryWriteBackLog"/>, which sets it.</summary>
    public bool AllowNonDurableWriteBack { get; set; }

    internal void Validate()
    {
        if (ShardCount <= 0) throw new ArgumentOutOfRangeException(nameof(ShardCount), ShardCount, "ShardCount must be positive.");
        if (BatchSize <= 0) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "BatchSize must be positive.");
        if (MaxAttempts <= 0) throw new ArgumentOutOfRangeException(nameof(MaxAttempts), MaxAttempts, "MaxAttempts must be positive.");
        if (KeyGateCount <= 0) throw new ArgumentOutOfRangeException(nameof(KeyGateCount), KeyGateCount, "KeyGateCount must be positive.");
        if (PollInterval <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(PollInterval), PollInterval, "PollInterval must be positive.");
        if (RetryBaseDelay < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(RetryBaseDelay), RetryBaseDelay, "RetryBaseDelay must not be negative.");
        if (RetryMaxDelay < RetryBaseDelay) throw new ArgumentOutOfRangeException(nameof(RetryMaxDelay), RetryMaxDelay, "RetryMaxDelay must not be shorter than RetryBaseDelay.");
        if (DrainTimeout < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(DrainTimeout), DrainTimeout, "DrainTimeout must not be negative.");
        if (TombstoneLifetime < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(TombstoneLifetime), TombstoneLifetime, "TombstoneLifetime must not be negative.");
        if (WriteLease <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(WriteLease), WriteLease, "WriteLease must be positive.");
        if (InvalidationRetryBaseDelay <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(InvalidationRetryBaseDelay), InvalidationRetryBaseDelay, "InvalidationRetryBaseDelay must be positive.");
        if (InvalidationRetryMaxDelay < InvalidationRetryBaseDelay) throw new ArgumentOutOfRangeException(nameof(InvalidationRetryMaxDelay), InvalidationRetryMaxDelay, "InvalidationRetryMaxDelay must not be shorter than InvalidationRetryBaseDelay.");
        if (DirectWriteDrainTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(DirectWriteDrainTimeout), DirectWriteDrainTimeout, "DirectWriteDrainTimeout must be positive.");
        if (DefaultWriteBackTimeToLive <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(DefaultWriteBackTimeToLive), DefaultWriteBackTimeToLive, "DefaultWriteBackTimeToLive must be positive.");
    }
}
