using Microsoft.CodeAnalysis;
using Xunit;

namespace CachingGen.Generators.Tests.Analyzers;

/// <summary>CGEN023: two repositories of one compilation that share a key space unsafely (a compilation-end warning).</summary>
public sealed class CGEN023Tests
{
    private const string TwoPrefixes = AnalyzerSamples.Header + """
        [CachedRepository(KeyPrefix = "pref")]
        public interface {|#0:IPreferenceRepository|}
        {
            [Cached] Task<Preference?> GetAsync(long userId);
            [WriteThrough] Task SaveAsync(Preference preference);
        }

        [CachedRepository(KeyPrefix = "preferences")]
        public interface {|#1:IPreferenceReader|}
        {
            [Cached] Task<Preference?> GetAsync(long userId);
        }
        """;

    [Fact]
    public Task One_entity_under_two_prefixes_is_reported_on_both_interfaces()
        => Verify.AnalyzerAsync(TwoPrefixes,
            Verify.Diagnostic("CGEN023").WithLocation(1).WithSeverity(DiagnosticSeverity.Warning)
                .WithMessage("[CachedRepository] 'Sample.IPreferenceReader' and 'Sample.IPreferenceRepository' both cache 'Sample.Preference', under different key prefixes ('preferences' and 'pref'). A write through one leaves the other's cached copy of the same row stale: two cache entries for one row. Give both the same KeyPrefix, or cache the entity through one repository."),
            Verify.Diagnostic("CGEN023").WithLocation(0)
                .WithMessage("[CachedRepository] 'Sample.IPreferenceRepository' and 'Sample.IPreferenceReader' both cache 'Sample.Preference', under different key prefixes ('preferences' and 'pref'). A write through one leaves the other's cached copy of the same row stale: two cache entries for one row. Give both the same KeyPrefix, or cache the entity through one repository."));

    [Fact]
    public Task One_prefix_for_two_entity_types_is_reported_across_files()
    {
        var test = new AnalyzerTest(AnalyzerSamples.Header + """
            [CachedRepository(KeyPrefix = "user")]
            public interface {|#0:IPreferenceRepository|}
            {
                [Cached] Task<Preference?> GetAsync(long userId);
            }
            """,
            Verify.Diagnostic("CGEN023").WithLocation(0)
                .WithMessage("[CachedRepository] 'Sample.IPreferenceRepository' and 'Sample.IProfileRepository' use the same key prefix 'user' for different entity types ('Sample.Preference' and 'Sample.Profile'). Equal keys collide, so one cache key would hold two shapes and each repository would read the other's entries as corrupt. Give each entity type its own KeyPrefix."),
            Verify.Diagnostic("CGEN023").WithSpan("/0/Test2.cs", 5, 18, 5, 36)
                .WithMessage("[CachedRepository] 'Sample.IProfileRepository' and 'Sample.IPreferenceRepository' use the same key prefix 'user' for different entity types ('Sample.Preference' and 'Sample.Profile'). Equal keys collide, so one cache key would hold two shapes and each repository would read the other's entries as corrupt. Give each entity type its own KeyPrefix."));
        test.TestState.Sources.Add(("/0/Test2.cs", """
            using CachingGen;
            namespace Sample;
            public sealed record Profile([property: CacheKey] long UserId, string Name);
            [CachedRepository(KeyPrefix = "user")]
            public interface IProfileRepository
            {
                [Cached] Task<Profile?> GetAsync(long userId);
            }
            """));
        return test.RunAsync();
    }

    [Fact]
    public Task Near_miss_shared_prefix_for_one_entity_distinct_prefixes_and_read_only_copies_are_fine()
        => Verify.NoDiagnosticsAsync(AnalyzerSamples.Header + """
            public sealed record Profile([property: CacheKey] long UserId, string Name);
            public sealed record Tag([property: CacheKey] long Id, string Label);

            [CachedRepository]
            public interface IPreferenceRepository { [Cached] Task<Preference?> GetAsync(long userId); [WriteThrough] Task SaveAsync(Preference preference); }

            [CachedRepository]
            public interface IPreferenceAdmin { [Cached] Task<Preference?> GetAsync(long userId); [Evict] Task DeleteAsync(long userId); }

            [CachedRepository(KeyPrefix = "profile")]
            public interface IProfileRepository { [Cached] Task<Profile?> GetAsync(long userId); [WriteThrough] Task SaveAsync(Profile profile); }

            [CachedRepository(KeyPrefix = "tag1")]
            public interface ITagReaderOne { [Cached] Task<Tag?> GetAsync(long id); }

            [CachedRepository(KeyPrefix = "tag2")]
            public interface ITagReaderTwo { [Cached] Task<Tag?> GetAsync(long id); }
            """);

    [Fact]
    public async Task Editorconfig_can_raise_it_to_an_error_or_silence_it()
    {
        var plain = TwoPrefixes.Replace("{|#0:IPreferenceRepository|}", "IPreferenceRepository", StringComparison.Ordinal)
            .Replace("{|#1:IPreferenceReader|}", "IPreferenceReader", StringComparison.Ordinal);
        var raised = await EditorconfigRun.AnalyzeAsync(plain, "CGEN023", "error");
        Assert.Equal(2, raised.Length);
        Assert.All(raised, d => Assert.True(EditorconfigRun.IsBuildError(d), d.ToString()));
        Assert.Empty(await EditorconfigRun.AnalyzeAsync(plain, "CGEN023", "none"));
    }
}
