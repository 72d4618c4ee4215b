namespace CachingGen.Generators.Tests.Infrastructure;

/// <summary>The user's canonical sample from the foundation issue, verbatim, shared by every generator and analyzer test.</summary>
public static class CanonicalSample
{
    /// <summary>The usings and the entity: the start of samples that declare their own repository.</summary>
    public const string Header = """
        using CachingGen;
        namespace Sample;
        public sealed record Preference([property: CacheKey] long UserId, string Channel, bool Enabled, long Version);

        """;

    /// <summary>The whole sample: one entity, every strategy, one pass-through member.</summary>
    public const string Source = Header + """
        [CachedRepository(KeyPrefix = "pref")]
        public interface IPreferenceRepository
        {
            [Cached(Ttl = 300)] ValueTask<Preference?> GetAsync(long userId, CancellationToken ct = default);
            [WriteThrough] Task SaveAsync(Preference preference, CancellationToken ct = default);
            [WriteAround(Ttl = 30)] Task SaveManyAsync(IReadOnlyList<Preference> preferences, CancellationToken ct = default);
            [WriteBack(IdempotencyKey = nameof(Preference.Version))] Task UpdateAsync(Preference preference, CancellationToken ct = default);
            [Evict] Task DeleteAsync(long userId, CancellationToken ct = default);
            Task<int> CountAsync(CancellationToken ct = default);
        }
        """;
}
