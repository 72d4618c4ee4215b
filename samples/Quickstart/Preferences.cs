using CachingGen;

namespace Quickstart;

/// <summary>A user's notification preference: the entity of the article this project grew from.</summary>
public sealed record Preference([property: CacheKey] long UserId, string Channel, bool Enabled, long Version);

/// <summary>The repository, annotated with one write strategy per method. CachingGen generates <c>CachedPreferenceRepository</c>.</summary>
[CachedRepository(KeyPrefix = "pref")]
public interface IPreferenceRepository
{
    /// <summary>Read-through, cached for five minutes.</summary>
    [Cached(Ttl = 300)]
    ValueTask<Preference?> GetAsync(long userId, CancellationToken ct = default);

    /// <summary>Database and cache together: the read-heavy default.</summary>
    [WriteThrough]
    Task SaveAsync(Preference preference, CancellationToken ct = default);

    /// <summary>Bulk writes skip the cache; the next read fills it for 30 seconds.</summary>
    [WriteAround(Ttl = 30)]
    Task SaveManyAsync(IReadOnlyList<Preference> preferences, CancellationToken ct = default);

    /// <summary>Cache plus write-back log now, database later.</summary>
    [WriteBack(IdempotencyKey = nameof(Preference.Version))]
    Task UpdateAsync(Preference preference, CancellationToken ct = default);

    /// <summary>Database first, then the cached entry goes.</summary>
    [Evict]
    Task DeleteAsync(long userId, CancellationToken ct = default);

    /// <summary>No attribute: passes straight through.</summary>
    Task<int> CountAsync(CancellationToken ct = default);
}
