using System.IO.Hashing;
using System.Text;

namespace CachingGen.WriteBack;

/// <summary>Maps an entity key to its write-back shard. Stable across processes, platforms and restarts.</summary>
public static class WriteBackSharding
{
    /// <summary>The shard of <paramref name="entityKey"/> among <paramref name="shardCount"/> shards.</summary>
    public static int ShardOf(string entityKey, int shardCount)
    {
        ArgumentNullException.ThrowIfNull(entityKey);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(shardCount);
        if (shardCount == 1)
        {
            return 0;
        }

        var hash = XxHash3.HashToUInt64(Encoding.UTF8.GetBytes(entityKey));
        return (int)(hash % (ulong)shardCount);
    }
}
