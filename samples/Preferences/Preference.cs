using CachingGen;

namespace Preferences;

/// <summary>One user's notification preference: the entity of the article this project grew from.</summary>
/// <param name="UserId">The user (the cache key).</param>
/// <param name="Channel">Where notifications go: email, sms, push... At most 32 characters (the column's size).</param>
/// <param name="Enabled">Whether notifications are sent at all.</param>
/// <param name="Version">Grows with every change; the database keeps the row with the highest version. As the cache
/// version, it makes write-through one compare-and-set after the database write: a cached entry is replaced only by a
/// newer version (docs/strategies.md).</param>
public sealed record Preference([property: CacheKey] long UserId, string Channel, bool Enabled, [property: CacheVersion] long Version);

/// <summary>
/// The notification-preference repository, one write strategy per method. CachingGen generates
/// <c>CachedPreferenceRepository</c> and <c>AddCachedPreferenceRepository&lt;TInner&gt;()</c> from it.
/// </summary>
[CachedRepository(KeyPrefix = "pref", DefaultTtl = 300)]
public interface IPreferenceRepository
{
    /// <summary>Read-through: cached for five minutes; "no such user" is cached for ten seconds.</summary>
    [Cached(Ttl = 300, NullTtl = 10)]
    ValueTask<Preference?> GetAsync(long userId, CancellationToken ct = default);

    /// <summary>A user changes a preference: database and cache together (the read-heavy default).</summary>
    [WriteThrough]
    Task SaveAsync(Preference preference, CancellationToken ct = default);

    /// <summary>Bulk write-through: the database, then every entry in one pipelined batch.</summary>
    [WriteThrough]
    Task SaveManyAsync(IReadOnlyList<Preference> preferences, CancellationToken ct = default);

    /// <summary>A migration's write: database only; the key is invalidated and the next read fills it for 30 s.</summary>
    [WriteAround(Ttl = 30)]
    Task MigrateAsync(Preference preference, CancellationToken ct = default);

    /// <summary>A migration's bulk write: database only, one invalidation batch, fills for 30 s.</summary>
    [WriteAround(Ttl = 30)]
    Task MigrateManyAsync(IReadOnlyList<Preference> preferences, CancellationToken ct = default);

    /// <summary>The article's pure write-around: database only, no cache work at all. An entry cached before lives
    /// (stale) until its own TTL ends; for rows nobody has read recently, e.g. a backfill of new users.</summary>
    [WriteAround(Ttl = 30, Invalidate = false)]
    Task ImportAsync(Preference preference, CancellationToken ct = default);

    /// <summary>Bulk pure write-around: database only, no cache work at all.</summary>
    [WriteAround(Ttl = 30, Invalidate = false)]
    Task ImportManyAsync(IReadOnlyList<Preference> preferences, CancellationToken ct = default);

    /// <summary>Database first, then the cached entry goes.</summary>
    [Evict]
    Task DeleteAsync(long userId, CancellationToken ct = default);

    /// <summary>Bulk delete: database first, then every entry goes in one batch.</summary>
    [Evict]
    Task DeleteManyAsync(IReadOnlyList<long> userIds, CancellationToken ct = default);

    /// <summary>No attribute: passes straight through to the database.</summary>
    Task<long> CountAsync(CancellationToken ct = default);
}
