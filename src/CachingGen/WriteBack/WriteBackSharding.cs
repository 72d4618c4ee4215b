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

        // Keys are short: hash their UTF-8 bytes on the stack (this runs on every write-back append and direct write).
        var length = Encoding.UTF8.GetMaxByteCount(entityKey.Length);
        var bytes = length <= 512 ? stackalloc byte[512] : new byte[length];
        var hash = XxHash3.HashToUInt64(bytes[..Encoding.UTF8.GetBytes(entityKey, bytes)]);
        return (int)(hash % (ulong)shardCount);
    }
}
