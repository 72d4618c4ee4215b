namespace CachingGen;

/// <summary>
/// Marks the member (or members, for a composite key, in declaration order) of an entity that form its cache key.
/// Read methods name the same key through their parameters, in the same order.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field | AttributeTargets.Parameter, AllowMultiple = false, Inherited = true)]
public sealed class CacheKeyAttribute : Attribute
{
}
