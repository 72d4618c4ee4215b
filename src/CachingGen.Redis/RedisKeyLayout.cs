using System.Globalization;
using System.Text;
using CachingGen.WriteBack;
using StackExchange.Redis;

namespace CachingGen.Redis;

/// <summary>
/// Where cache keys and write-back log keys live in Redis. One place, shared by <see cref="RedisCacheStore"/> and
/// <see cref="RedisWriteBackLog"/>, so the cache entry of a write-back entity and its shard's stream always share a
/// Redis Cluster hash tag and the append script can touch both.
/// </summary>
/// <remarks>
/// Without write-back shards a cache key is stored at <c>KeyNamespace + cacheKey</c>. With N shards
/// (<see cref="RedisCacheOptions.WriteBackShardCount"/>) it is stored at <c>KeyNamespace + "{cg-wb:S}" + cacheKey</c>,
/// where S = <see cref="WriteBackSharding.ShardOf"/>(cacheKey, N); the shard's log keys are
/// <c>KeyNamespace + "{cg-wb:S}" + "log" | "pending" | "lease" | "dead"</c>. Redis Cluster hashes only the text
/// between the braces, so every key of one shard is in one slot and cache keys spread over N slots.
/// </remarks>
internal sealed class RedisKeyLayout
{
    private readonly string _namespace;
    private readonly RedisKey[] _shardPrefixes;
    private readonly RedisKey _plainPrefix;

    public RedisKeyLayout(string? keyNamespace, int writeBackShardCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(writeBackShardCount);
        _namespace = keyNamespace ?? string.Empty;
        _plainPrefix = _namespace.Length == 0 ? default : Utf8Key(_namespace);
        ShardCount = writeBackShardCount;
        _shardPrefixes = new RedisKey[writeBackShardCount];
        for (var shard = 0; shard < writeBackShardCount; shard++)
        {
            _shardPrefixes[shard] = Utf8Key(ShardPrefix(shard));
        }
    }

    /// <summary>The number of write-back shards whose hash tags cache keys carry; 0 for none.</summary>
    public int ShardCount { get; }

    /// <summary>The Redis key of a cache key, as text.</summary>
    public string CacheKeyText(string cacheKey)
        => ShardCount == 0 ? string.Concat(_namespace, cacheKey) : string.Concat(ShardPrefix(WriteBackSharding.ShardOf(cacheKey, ShardCount)), cacheKey);

    /// <summary>The Redis key of a cache key.</summary>
    public RedisKey CacheKey(string cacheKey)
    {
        if (ShardCount == 0)
        {
            return _namespace.Length == 0 ? new RedisKey(cacheKey) : new RedisKey(cacheKey).Prepend(_plainPrefix);
        }

        return new RedisKey(cacheKey).Prepend(_shardPrefixes[WriteBackSharding.ShardOf(cacheKey, ShardCount)]);
    }

    /// <summary>The Redis key of a cache key whose shard the caller already computed.</summary>
    public RedisKey CacheKey(string cacheKey, int shard) => new RedisKey(cacheKey).Prepend(_shardPrefixes[shard]);

    /// <summary>The stream of a shard's pending records.</summary>
    public RedisKey Log(int shard) => _shardPrefixes[shard].Append("log");

    /// <summary>The hash of a shard's pending-record counts per entity key.</summary>
    public RedisKey Pending(int shard) => _shardPrefixes[shard].Append("pending");

    /// <summary>The hash of the shard's failed apply attempts per pending record (stream id), kept across owners.</summary>
    public RedisKey Attempts(int shard) => _shardPrefixes[shard].Append("attempts");

    /// <summary>The shard's ownership lease (the id of the flusher that owns it).</summary>
    public RedisKey Lease(int shard) => _shardPrefixes[shard].Append("lease");

    /// <summary>The stream of the shard's dead letters.</summary>
    public RedisKey DeadLetters(int shard) => _shardPrefixes[shard].Append("dead");

    /// <summary>A prefix held as UTF-8 bytes: prepending it to a key then costs nothing, where a prefix held as text is
    /// encoded into a new array for every key (every read's GET).</summary>
    private static RedisKey Utf8Key(string text) => Encoding.UTF8.GetBytes(text);

    private string ShardPrefix(int shard) => string.Create(CultureInfo.InvariantCulture, $"{_namespace}{{cg-wb:{shard}}}");
}
