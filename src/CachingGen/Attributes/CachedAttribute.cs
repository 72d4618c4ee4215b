namespace CachingGen;

/// <summary>
/// Read-through: a hit returns the cached entity; a miss calls the inner repository once per key, however
/// many callers miss at the same moment, stores the result for <see cref="Ttl"/> seconds and returns it.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class CachedAttribute : Attribute
{
    /// <summary>Time to live of a filled entry, in seconds. Must be positive. Default 300.</summary>
    public int Ttl { get; set; } = 300;

    /// <summary>When positive, a "not found" (null) result is cached for this many seconds; 0 (the default)
    /// never caches "not found".</summary>
    public int NullTtl { get; set; }
}
