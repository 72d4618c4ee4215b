namespace CachingGen;

/// <summary>
/// Marks the member of an entity that versions its database row: a number (or a timestamp) that grows with every
/// committed change of the row, including a row created again after a delete (an optimistic-concurrency version
/// column, a row version, an "updated at" timestamp written by every update).
/// </summary>
/// <remarks>
/// With a version, cache entries of the entity carry it, and a <see cref="WriteThroughAttribute"/> write updates the
/// cache in one step after the database write: a compare-and-set that stores the written entity only over an
/// older version of it, so a late writer can never put back a value older than what is cached. Without a version a
/// write-through needs a second cache step before the database write (a write marker). Supported types:
/// <see cref="long"/>, <see cref="int"/>, <see cref="uint"/>, <see cref="DateTime"/> (its ticks) and
/// <see cref="DateTimeOffset"/> (its UTC ticks). Narrower integers (<see cref="short"/>, <see cref="ushort"/>,
/// <see cref="sbyte"/>, <see cref="byte"/>) are refused (CGEN031): they wrap around after a few hundred or tens of
/// thousands of changes, and after the wrap every write would look older than the cached value. See docs/strategies.md.
/// </remarks>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field | AttributeTargets.Parameter, AllowMultiple = false, Inherited = true)]
public sealed class CacheVersionAttribute : Attribute
{
}
