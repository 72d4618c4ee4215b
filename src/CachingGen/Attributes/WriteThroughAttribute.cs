namespace CachingGen;

/// <summary>
/// Write-through: writes the database through the inner repository, then updates the cache in the same call.
/// A failed database write leaves the cache untouched and the exception reaches the caller.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class WriteThroughAttribute : Attribute
{
    /// <summary>Time to live of the written entry, in seconds. Defaults to the repository's
    /// <see cref="CachedRepositoryAttribute.DefaultTtl"/>.</summary>
    public int Ttl { get; set; }
}
