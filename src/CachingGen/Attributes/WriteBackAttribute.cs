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

    /// <summary>Whether the flusher may coalesce consecutive writes of one key by this method: when a flush batch holds
    /// several records of a key and the key's next record is a call of the same method, the earlier one is not replayed
    /// (its idempotency key is still recorded in the ledger). Only for a method whose call replaces the whole state the
    /// key's earlier calls of it wrote, such as <c>UpdateAsync(entity)</c>; never for increments, appends or any write
    /// whose effect depends on the earlier ones. Default false.</summary>
    public bool Coalesce { get; set; }
}
