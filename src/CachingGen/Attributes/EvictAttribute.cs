namespace CachingGen;

/// <summary>Evict: deletes through the inner repository first, then removes the cached entry of the key.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class EvictAttribute : Attribute
{
}
