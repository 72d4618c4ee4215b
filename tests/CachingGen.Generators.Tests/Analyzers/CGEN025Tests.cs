using Microsoft.CodeAnalysis;
using Xunit;

namespace CachingGen.Generators.Tests.Analyzers;

/// <summary>CGEN025: a write-around that does not invalidate, in a repository whose entries live long (info).</summary>
public sealed class CGEN025Tests
{
    private const string Source = AnalyzerSamples.Header + """
        [CachedRepository]
        public interface IRepo
        {
            [Cached(Ttl = 3600)] Task<Preference?> GetAsync(long userId);
            [{|#0:WriteAround(Ttl = 30, Invalidate = false)|}] Task TouchAsync(long userId);
        }
        """;

    [Fact]
    public Task Write_around_without_invalidation_is_reported_with_the_stale_window()
        => Verify.AnalyzerAsync(Source,
            Verify.Diagnostic("CGEN025").WithLocation(0).WithSeverity(DiagnosticSeverity.Info)
                .WithMessage("'TouchAsync' is [WriteAround(Invalidate = false)]: after it writes the database, a cached entry of the key stays readable, stale, for up to 3600 seconds (the longest time to live in 'IRepo', from 'GetAsync'). Let it invalidate, or keep the entries of this repository short-lived."));

    [Fact]
    public Task Default_ttls_count_too()
        => Verify.AnalyzerAsync(AnalyzerSamples.Header + """
            [CachedRepository]
            public interface IRepo
            {
                [Cached] Task<Preference?> GetAsync(long userId);
                [{|#0:WriteAround(Invalidate = false)|}] Task TouchAsync(long userId);
            }
            """,
            Verify.Diagnostic("CGEN025").WithLocation(0).WithArguments("TouchAsync", "300", "IRepo", "GetAsync"));

    [Fact]
    public Task Near_miss_short_lived_entries_or_invalidating_write_arounds_are_fine()
        => Verify.NoDiagnosticsAsync(AnalyzerSamples.Header + """
            [CachedRepository]
            public interface IShortLived
            {
                [Cached(Ttl = 60)] Task<Preference?> GetAsync(long userId);
                [WriteAround(Ttl = 60, Invalidate = false)] Task TouchAsync(long userId);
            }

            [CachedRepository]
            public interface IInvalidating
            {
                [Cached(Ttl = 3600)] Task<Preference?> GetAsync(long userId);
                [WriteAround(Ttl = 30, Invalidate = true)] Task TouchAsync(long userId);
                [WriteAround] Task SaveManyAsync(IReadOnlyList<Preference> preferences);
            }
            """);

    [Fact]
    public async Task Editorconfig_can_raise_it_to_an_error_or_silence_it()
    {
        var plain = Source.Replace("{|#0:WriteAround(Ttl = 30, Invalidate = false)|}", "WriteAround(Ttl = 30, Invalidate = false)", StringComparison.Ordinal);
        var diagnostic = Assert.Single(await EditorconfigRun.AnalyzeAsync(plain, "CGEN025", "error"));
        Assert.True(EditorconfigRun.IsBuildError(diagnostic), diagnostic.ToString());
        Assert.Empty(await EditorconfigRun.AnalyzeAsync(plain, "CGEN025", "none"));
    }
}
