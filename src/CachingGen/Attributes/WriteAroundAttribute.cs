namespace CachingGen;

/// <summary>
/// Write-around: writes the database only. The cached entries of the written keys are invalidated (one batched
/// step for a bulk call) so no reader sees the old value, and the next read miss fills the entry with
/// <see cref="Ttl"/>. Collections of entities are bulk writes: the keys come from each element.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class WriteAroundAttribute : Attribute
{
    /// <summary>Time to live, in seconds, of the entry that the next read miss fills after this write.
    /// Must be positive. Default 30.</summary>
    public int Ttl { get; set; } = 30;

    /// <summary>When false, the write does no cache work at all (the pure write-around of the article): stale
    /// entries live until their own TTL ends. Default true.</summary>
    public bool Invalidate { get; set; } = true;
}
