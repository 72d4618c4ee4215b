namespace CachingGen;

/// <summary>
/// Marks a repository interface for which CachingGen generates a caching decorator named
/// <c>Cached{Name}</c> (the interface name without its leading <c>I</c>) in the interface's namespace.
/// </summary>
[AttributeUsage(AttributeTargets.Interface, AllowMultiple = false, Inherited = false)]
public sealed class CachedRepositoryAttribute : Attribute
{
    /// <summary>The first segment of every cache key of this repository: <c>{KeyPrefix}:{key}</c>.
    /// Defaults to the entity type's name in lower case.</summary>
    public string? KeyPrefix { get; set; }

    /// <summary>Time to live, in seconds, of entries written by strategies that do not name their own
    /// <c>Ttl</c> (<see cref="WriteThroughAttribute"/>, <see cref="WriteBackAttribute"/>). Default 300.</summary>
    public int DefaultTtl { get; set; } = 300;
}
