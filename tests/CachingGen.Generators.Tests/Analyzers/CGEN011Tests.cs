using Xunit;

namespace CachingGen.Generators.Tests.Analyzers;

/// <summary>CGEN011: a generic or inaccessible repository interface.</summary>
public sealed class CGEN011Tests
{
    [Fact]
    public Task Generic_interface_is_reported_with_the_formatted_message()
        => Verify.AnalyzerAsync(AnalyzerSamples.Header + """
            [CachedRepository]
            public interface {|#0:IRepo|}<TTag>
            {
                [Cached] Task<Preference?> GetAsync(long userId);
            }
            """,
            Verify.Diagnostic("CGEN011").WithLocation(0)
                .WithMessage("[CachedRepository] 'IRepo' is generic. Declare one non-generic interface per entity type; it may inherit a generic base interface (interface IPreferenceRepository : IRepository<Preference>)."));

    [Fact]
    public Task Private_nested_interface_is_reported()
        => Verify.AnalyzerAsync(AnalyzerSamples.Header + """
            public class Outer
            {
                [CachedRepository]
                private interface {|#0:IRepo|}
                {
                    [Cached] Task<Preference?> GetAsync(long userId);
                }
            }
            """,
            Verify.Diagnostic("CGEN011").WithLocation(0)
                .WithArguments("IRepo", "is not accessible outside its containing type", "Make the interface and its containing types public or internal."));

    [Fact]
    public Task Near_miss_internal_nested_interface_is_fine()
        => Verify.NoDiagnosticsAsync(AnalyzerSamples.Header + """
            public static class Outer
            {
                [CachedRepository]
                internal interface IRepo
                {
                    [Cached] Task<Preference?> GetAsync(long userId);
                }
            }
            """);
}
