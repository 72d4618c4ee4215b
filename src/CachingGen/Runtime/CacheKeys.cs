using System.ComponentModel;

namespace CachingGen.Runtime;

/// <summary>Collects the keys of the entities of a bulk call.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class CacheKeys
{
    /// <summary>The key of every entity, in order.</summary>
    public static string[] Of<TEntity>(IReadOnlyList<TEntity> entities, Func<TEntity, string> keyOf)
    {
        ArgumentNullException.ThrowIfNull(entities);
        ArgumentNullException.ThrowIfNull(keyOf);
        if (entities.Count == 0)
        {
            return Array.Empty<string>();
        }

        var keys = new string[entities.Count];
        for (var i = 0; i < keys.Length; i++)
        {
            keys[i] = keyOf(entities[i]);
        }

        return keys;
    }

    /// <summary>The key of every entity of a sequence that is not a list (materialized once, in order).</summary>
    public static string[] Of<TEntity>(IEnumerable<TEntity> entities, Func<TEntity, string> keyOf)
    {
        ArgumentNullException.ThrowIfNull(entities);
        ArgumentNullException.ThrowIfNull(keyOf);
        if (entities is IReadOnlyList<TEntity> list)
        {
            return Of(list, keyOf);
        }

        var keys = new List<string>();
        foreach (var entity in entities)
        {
            keys.Add(keyOf(entity));
        }

        return keys.ToArray();
    }
}
