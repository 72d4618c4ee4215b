using Xunit;

namespace CachingGen.Generators.Tests.Analyzers;

/// <summary>CGEN014: ref, out or in parameters on a caching method.</summary>
public sealed class CGEN014Tests
{
    [Fact]
    public Task By_reference_parameters_are_reported_on_the_parameter_with_the_formatted_message()
        => Verify.AnalyzerAsync(AnalyzerSamples.Header + """
            [CachedRepository]
            public interface IRepo
            {
                [Cached] Task<Preference?> GetAsync(in long {|#0:userId|});
                [Evict] Task DeleteAsync(ref long {|#1:userId|}, out int {|#2:removed|});
            }
            """,
            Verify.Diagnostic("CGEN014").WithLocation(0)
                .WithMessage("Parameter 'userId' of 'GetAsync' is passed by reference; a caching method's call may be replayed later or served from the cache, which by-reference arguments cannot follow. Pass it by value."),
            Verify.Diagnostic("CGEN014").WithLocation(1).WithArguments("userId", "DeleteAsync"),
            Verify.Diagnostic("CGEN014").WithLocation(2).WithArguments("removed", "DeleteAsync"));

    [Fact]
    public Task Near_miss_by_reference_parameters_on_a_pass_through_method_are_fine()
        => Verify.NoDiagnosticsAsync(AnalyzerSamples.Header + """
            [CachedRepository]
            public interface IRepo
            {
                [Cached] Task<Preference?> GetAsync(long userId);
                bool TryPeek(long userId, out Preference? preference);
            }
            """);
}
