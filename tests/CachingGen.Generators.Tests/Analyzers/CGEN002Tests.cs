using Xunit;

namespace CachingGen.Generators.Tests.Analyzers;

/// <summary>CGEN002: the entity has no [CacheKey] member.</summary>
public sealed class CGEN002Tests
{
    private const string Thing = """
        using CachingGen;
        namespace Sample;
        public sealed record Thing(long Id, string Name);

        """;

    [Fact]
    public Task Cached_read_of_a_keyless_entity_is_reported_with_the_formatted_message()
        => Verify.AnalyzerAsync(Thing + """
            [CachedRepository]
            public interface IRepo
            {
                [Cached] Task<Thing?> {|#0:GetAsync|}(long id);
            }
            """,
            Verify.Diagnostic("CGEN002").WithLocation(0)
                .WithMessage("Entity type 'Sample.Thing' used by 'GetAsync' has no [CacheKey] member. Mark the member(s) that identify an entity with [CacheKey] (for a record parameter: [property: CacheKey])."));

    [Fact]
    public Task Write_through_of_a_keyless_entity_is_reported()
        => Verify.AnalyzerAsync(Thing + """
            [CachedRepository]
            public interface IRepo
            {
                [WriteThrough] Task {|#0:SaveAsync|}(Thing thing);
            }
            """,
            Verify.Diagnostic("CGEN002").WithLocation(0).WithArguments("Sample.Thing", "SaveAsync"));

    [Fact]
    public Task Near_miss_key_on_the_record_parameter_or_a_property_is_fine()
        => Verify.NoDiagnosticsAsync("""
            using CachingGen;
            namespace Sample;
            public sealed record Thing([property: CacheKey] long Id, string Name);
            public sealed class Other { [CacheKey] public long Id { get; set; } }
            [CachedRepository]
            public interface IRepo
            {
                [Cached] Task<Thing?> GetAsync(long id);
            }
            [CachedRepository]
            public interface IOtherRepo
            {
                [Cached] Task<Other?> GetAsync(long id);
            }
            """);
}
