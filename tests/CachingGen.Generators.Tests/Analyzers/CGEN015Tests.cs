using Xunit;

namespace CachingGen.Generators.Tests.Analyzers;

/// <summary>CGEN015: a [Cached] method returns something other than the entity.</summary>
public sealed class CGEN015Tests
{
    [Fact]
    public Task Cached_list_is_reported_with_the_formatted_message()
        => Verify.AnalyzerAsync(AnalyzerSamples.Header + """
            [CachedRepository]
            public interface IRepo
            {
                [Cached] Task<IReadOnlyList<Preference>> {|#0:ListAsync|}();
            }
            """,
            Verify.Diagnostic("CGEN015").WithLocation(0)
                .WithMessage("'ListAsync' is marked [Cached] but returns 'System.Threading.Tasks.Task<System.Collections.Generic.IReadOnlyList<Sample.Preference>>', which is not an entity type with [CacheKey] members. Return Task<TEntity?> or ValueTask<TEntity?>; queries returning lists cannot be invalidated by key and are not cached."));

    [Fact]
    public Task Cached_scalar_and_plain_task_are_reported()
        => Verify.AnalyzerAsync(AnalyzerSamples.Header + """
            [CachedRepository]
            public interface IRepo
            {
                [Cached] Task<Preference?> GetAsync(long userId);
                [Cached] Task<int> {|#0:CountAsync|}();
                [Cached] Task {|#1:WarmAsync|}();
            }
            """,
            Verify.Diagnostic("CGEN015").WithLocation(0).WithArguments("CountAsync", "System.Threading.Tasks.Task<int>"),
            Verify.Diagnostic("CGEN015").WithLocation(1).WithArguments("WarmAsync", "System.Threading.Tasks.Task"));

    [Fact]
    public Task Near_miss_non_nullable_entity_and_uncached_list_are_fine()
        => Verify.NoDiagnosticsAsync(AnalyzerSamples.Header + """
            [CachedRepository]
            public interface IRepo
            {
                [Cached] ValueTask<Preference> GetAsync(long userId);
                Task<IReadOnlyList<Preference>> ListAsync();
            }
            """);
}
