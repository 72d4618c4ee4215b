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

    /// <summary>The multi-row method (use <c>nameof</c>) of the same interface that the flusher may call once with a run of
    /// this method's writes instead of replaying them one by one: one database statement per run, which is what makes
    /// a flusher drain far faster than single-row writes. Only for a method with one data parameter, the entity.</summary>
    /// <remarks>
    /// <para>The named method takes one collection of the entity type that an array converts to
    /// (<c>IReadOnlyList&lt;T&gt;</c>, recommended, or <c>IReadOnlyCollection&lt;T&gt;</c>, <c>IEnumerable&lt;T&gt;</c>,
    /// <c>IList&lt;T&gt;</c>, <c>ICollection&lt;T&gt;</c>, <c>T[]</c>), optionally a <c>CancellationToken</c>, and returns
    /// <c>Task</c> or <c>ValueTask</c>. It must have the same effect as calling this method once per element, in order
    /// (for example one multi-row <c>INSERT ... ON DUPLICATE KEY UPDATE</c>). The decorator treats it by its own
    /// attribute, if any (without one it passes straight through, like any unannotated member); the flusher always calls
    /// the inner repository's.</para>
    /// <para>A run holds consecutive records of this method within one flush batch and never two records of one key, so
    /// the order of one key's writes holds whatever order the database applies the rows of one statement in. The run's
    /// idempotency keys commit in the same transaction as the call; records the ledger shows applied are left out. When
    /// the call fails, the flusher applies the batch one record at a time, so a record that always fails is retried and
    /// dead-lettered alone. Errors CGEN028 to CGEN030 check the method at compile time.</para>
    /// </remarks>
    public string? ApplyManyWith { get; set; }
}
