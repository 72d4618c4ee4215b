namespace CachingGen;

/// <summary>
/// Write-back: updates the cache and appends the write to the write-back log in one step, acknowledges, and
/// flushes to the database asynchronously. The idempotency key of one write is the entity's cache key plus the
/// value of the member named by <see cref="IdempotencyKey"/>, so a retried flush is recognised and applied once.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class WriteBackAttribute : Attribute
{
    /// <summary>The entity member (use <c>nameof</c>) whose value, with the cache key, identifies one write:
    /// typically a version or a client-generated operation id.</summary>
    public string? IdempotencyKey { get; set; }

    /// <summary>Time to live of the entry once its flush has committed, in seconds. Defaults to the repository's
    /// <see cref="CachedRepositoryAttribute.DefaultTtl"/>. Until then the entry is pinned (no TTL).</summary>
    public int Ttl { get; set; }
}
