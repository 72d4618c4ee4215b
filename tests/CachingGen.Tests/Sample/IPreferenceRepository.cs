using CachingGen;

namespace Sample;

/// <summary>The quickstart entity.</summary>
public sealed record Preference(long UserId, long Version, string Channel, bool Enabled)
{
    [CacheKey]
    public long UserId { get; init; } = UserId;
}

/// <summary>The quickstart interface that docs/design/expected-decorator.cs.txt decorates.</summary>
[CachedRepository(KeyPrefix = "pref")]
public interface IPreferenceRepository
{
    [Cached]
    ValueTask<Preference?> GetAsync(long userId, CancellationToken ct = default);

    [WriteThrough]
    Task SaveAsync(Preference preference, CancellationToken ct = default);

    [WriteAround(Ttl = 30)]
    Task SaveManyAsync(IReadOnlyList<Preference> preferences, CancellationToken ct = default);

    [WriteBack(IdempotencyKey = nameof(Preference.Version))]
    Task UpdateAsync(Preference preference, CancellationToken ct = default);

    [Evict]
    Task DeleteAsync(long userId, CancellationToken ct = default);

    Task<int> CountAsync(CancellationToken ct = default);
}
