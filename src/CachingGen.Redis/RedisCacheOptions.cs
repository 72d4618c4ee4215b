using CachingGen.Storage;

namespace CachingGen.Redis;

/// <summary>Options of <see cref="RedisCacheStore"/>, bound through <c>IOptions&lt;RedisCacheOptions&gt;</c> by
/// <see cref="RedisCachingGenBuilderExtensions"/>.</summary>
public sealed class RedisCacheOptions
{
    /// <summary>The default <see cref="OperationTimeout"/>: 250 ms.</summary>
    public static readonly TimeSpan DefaultOperationTimeout = TimeSpan.FromMilliseconds(250);

    /// <summary>The default <see cref="TombstoneLifetime"/>: 60 s.</summary>
    public static readonly TimeSpan DefaultTombstoneLifetime = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The longest time one store operation (a read, a fill, a whole bulk batch, an expiry) may take before it fails
    /// with <see cref="CachingGen.Storage.CacheStoreUnavailableException"/>. Default 250 ms. It bounds the wait of the caller; a command
    /// already sent may still be applied by the server later. Reads and fills may wait up to an eighth of it longer
    /// (at most 50 ms): their deadlines are checked by one timer per store instead of one per call.
    /// </summary>
    public TimeSpan OperationTimeout { get; set; } = DefaultOperationTimeout;

    /// <summary>
    /// The shortest life of an invalidation tombstone. A tombstone lives <c>max(fillTimeToLive, TombstoneLifetime)</c>;
    /// a read-through fill whose miss is older than that may be accepted. Default 60 s.
    /// </summary>
    public TimeSpan TombstoneLifetime { get; set; } = DefaultTombstoneLifetime;

    /// <summary>
    /// Text prepended to every cache key, e.g. <c>myapp:</c>, so several applications or environments can share one
    /// Redis. Null or empty for none. It takes part in the hash slot computation: a namespace containing a hash tag
    /// such as <c>{myapp}:</c> puts every key of the store into ONE slot (one cluster node); avoid braces unless
    /// that is what you want.
    /// </summary>
    public string? KeyNamespace { get; set; }

    /// <summary>
    /// The number of write-back shards whose Redis Cluster hash tag every cache key carries (<c>{cg-wb:S}</c> after
    /// the namespace), so a write-back entity's entry and its shard's log stream are in one slot. 0 (default): no
    /// tag. <c>UseRedisWriteBackLog</c> sets it to <c>CachingGenOptions.ShardCount</c>; every process sharing the
    /// Redis must use the same value, since it changes where keys live.
    /// </summary>
    public int WriteBackShardCount { get; set; }

    /// <summary>The Redis database number; -1 (default) uses the connection's default database. Redis Cluster has
    /// only database 0.</summary>
    public int Database { get; set; } = -1;

    internal void Validate()
    {
        if (OperationTimeout <= TimeSpan.Zero || OperationTimeout.TotalMilliseconds > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(OperationTimeout), OperationTimeout, "OperationTimeout must be positive (and at most int.MaxValue milliseconds).");
        }

        if (TombstoneLifetime <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(TombstoneLifetime), TombstoneLifetime, "TombstoneLifetime must be positive.");
        }

        if (WriteBackShardCount < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(WriteBackShardCount), WriteBackShardCount, "WriteBackShardCount must be 0 (no write-back hash tags) or the write-back shard count.");
        }

        if (Database < -1)
        {
            throw new ArgumentOutOfRangeException(nameof(Database), Database, "Database must be -1 (the connection's default) or a database number.");
        }
    }
}
