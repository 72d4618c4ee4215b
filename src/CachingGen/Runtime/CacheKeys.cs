using System.ComponentModel;

namespace CachingGen.Runtime;

/// <summary>Collects the keys of the entities of a bulk call.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class CacheKeys
{
    /// <summary>The key of every entity, in order.</summary>
    public static string[] Of<TEntity>(IReadOnlyList<TEntity> entities, Func<TEntity, string> keyOf) => throw new NotImplementedException();

    /// <summary>The key of every entity of a sequence that is not a list (materialized once, in order).</summary>
    public static string[] Of<TEntity>(IEnumerable<TEntity> entities, Func<TEntity, string> keyOf) => throw new NotImplementedException();
}
