using Xunit;

namespace CachingGen.Generators.Tests.Analyzers;

/// <summary>CGEN008: more than one entity type in one repository.</summary>
public sealed class CGEN008Tests
{
    [Fact]
    public Task Two_entities_are_reported_on_the_interface_with_the_formatted_message()
        => Verify.AnalyzerAsync(AnalyzerSamples.Header + """
            public sealed record Channel([property: CacheKey] string Name);
            [CachedRepository(KeyPrefix = "pref")]
            public interface {|#0:IRepo|}
            {
                [Cached] Task<Preference?> GetAsync(long userId);
                [WriteThrough] Task SaveChannelAsync(Channel channel);
            }
            """,
            Verify.Diagnostic("CGEN008").WithLocation(0)
                .WithMessage("[CachedRepository] 'IRepo' caches several entity types (Sample.Preference, Sample.Channel); they would share the key space 'pref:'. Split the interface so each caches one entity type."));

    [Fact]
    public Task Without_a_key_prefix_the_message_says_so()
        => Verify.AnalyzerAsync(AnalyzerSamples.Header + """
            public sealed record Channel([property: CacheKey] string Name);
            [CachedRepository]
            public interface {|#0:IRepo|}
            {
                [Cached] Task<Channel?> GetChannelAsync(string name);
                [Cached] Task<Preference?> GetAsync(long userId);
            }
            """,
            Verify.Diagnostic("CGEN008").WithLocation(0).WithArguments("IRepo", "Sample.Channel, Sample.Preference", "?"));

    [Fact]
    public Task Near_miss_two_repositories_one_entity_each_are_fine()
        => Verify.NoDiagnosticsAsync(AnalyzerSamples.Header + """
            public sealed record Channel([property: CacheKey] string Name);
            [CachedRepository] public interface IPreferences { [Cached] Task<Preference?> GetAsync(long userId); }
            [CachedRepository] public interface IChannels { [Cached] Task<Channel?> GetAsync(string name); [WriteThrough] Task SaveAsync(Channel channel); }
            """);
}
