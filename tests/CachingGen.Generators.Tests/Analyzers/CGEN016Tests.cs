using Xunit;

namespace CachingGen.Generators.Tests.Analyzers;

/// <summary>CGEN016: a caching method that is generic.</summary>
public sealed class CGEN016Tests
{
    [Fact]
    public Task Generic_cached_method_is_reported_with_the_formatted_message()
        => Verify.AnalyzerAsync(AnalyzerSamples.Header + """
            [CachedRepository]
            public interface IRepo
            {
                [Cached] Task<Preference?> GetAsync(long userId);
                [Evict] Task {|#0:DeleteAsync|}<TReason>(long userId);
            }
            """,
            Verify.Diagnostic("CGEN016").WithLocation(0)
                .WithMessage("'DeleteAsync' is generic; caching methods must not declare type parameters (the cache needs one concrete entity type). Remove the type parameters or the caching attribute."));

    [Fact]
    public Task Near_miss_generic_pass_through_method_is_fine()
        => Verify.NoDiagnosticsAsync(AnalyzerSamples.Header + """
            [CachedRepository]
            public interface IRepo
            {
                [Cached] Task<Preference?> GetAsync(long userId);
                Task<T?> QueryAsync<T>(string sql);
            }
            """);
}
