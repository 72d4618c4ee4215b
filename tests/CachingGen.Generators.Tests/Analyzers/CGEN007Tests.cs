using Xunit;

namespace CachingGen.Generators.Tests.Analyzers;

/// <summary>CGEN007: more than one strategy on one method.</summary>
public sealed class CGEN007Tests
{
    [Fact]
    public Task Two_strategies_are_reported_with_the_formatted_message()
        => Verify.AnalyzerAsync(AnalyzerSamples.Header + """
            [CachedRepository]
            public interface IRepo
            {
                [Cached] Task<Preference?> GetAsync(long userId);
                [WriteThrough, Evict] Task {|#0:SaveAsync|}(Preference preference);
            }
            """,
            Verify.Diagnostic("CGEN007").WithLocation(0)
                .WithMessage("'SaveAsync' has several caching attributes (WriteThrough, Evict). Keep exactly one."));

    [Fact]
    public Task Near_miss_one_strategy_plus_an_unrelated_attribute_is_fine()
        => Verify.NoDiagnosticsAsync(AnalyzerSamples.Header + """
            [CachedRepository]
            public interface IRepo
            {
                [Cached] Task<Preference?> GetAsync(long userId);
                [WriteThrough, Obsolete("use UpsertAsync")] Task SaveAsync(Preference preference);
            }
            """);
}
