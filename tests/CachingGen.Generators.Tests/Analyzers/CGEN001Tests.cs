using Xunit;

namespace CachingGen.Generators.Tests.Analyzers;

/// <summary>CGEN001: an annotated member is not asynchronous.</summary>
public sealed class CGEN001Tests
{
    [Fact]
    public Task Synchronous_cached_read_is_reported_with_the_formatted_message()
        => Verify.AnalyzerAsync(AnalyzerSamples.Header + """
            [CachedRepository]
            public interface IRepo
            {
                [Cached] Preference? {|#0:Get|}(long userId);
            }
            """,
            Verify.Diagnostic("CGEN001").WithLocation(0)
                .WithMessage("'Get' is marked [Cached] but returns 'Sample.Preference?'. Caching methods must return Task, ValueTask, Task<T> or ValueTask<T>; make the method async or remove the attribute."));

    [Fact]
    public Task Void_write_is_reported()
        => Verify.AnalyzerAsync(AnalyzerSamples.Header + """
            [CachedRepository]
            public interface IRepo
            {
                [Cached] Task<Preference?> GetAsync(long userId);
                [Evict] void {|#0:Delete|}(long userId);
            }
            """,
            Verify.Diagnostic("CGEN001").WithLocation(0).WithArguments("Delete", "Evict", "void"));

    [Fact]
    public Task Near_miss_ValueTask_and_unannotated_synchronous_members_are_fine()
        => Verify.NoDiagnosticsAsync(AnalyzerSamples.Header + """
            [CachedRepository]
            public interface IRepo
            {
                [Cached] ValueTask<Preference?> GetAsync(long userId);
                [Evict] ValueTask DeleteAsync(long userId);
                int Count();
            }
            """);
}
