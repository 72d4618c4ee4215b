using Microsoft.CodeAnalysis;
using Xunit;

namespace CachingGen.Generators.Tests.Analyzers;

/// <summary>CGEN026: a time to live longer than 30 days (a warning; more than 366 days is CGEN004).</summary>
public sealed class CGEN026Tests
{
    private const string Source = AnalyzerSamples.Header + """
        [CachedRepository(DefaultTtl = 4000000)]
        public interface {|#0:IRepo|}
        {
            [{|#1:Cached(Ttl = 3000000)|}] Task<Preference?> GetAsync(long userId);
            [WriteThrough] Task SaveAsync(Preference preference);
        }
        """;

    [Fact]
    public Task Very_long_ttls_are_reported_on_the_attribute_and_the_interface()
        => Verify.AnalyzerAsync(Source,
            Verify.Diagnostic("CGEN026").WithLocation(0).WithSeverity(DiagnosticSeverity.Warning)
                .WithMessage("DefaultTtl = 4000000 on 'IRepo' is 46.3 days: an entry that lives that long outlives deploys, schema changes and any missed invalidation. Use at most 2592000 seconds (30 days), or check the unit (seconds, not milliseconds)."),
            Verify.Diagnostic("CGEN026").WithLocation(1).WithArguments("Ttl", "3000000", "GetAsync", "34.7"));

    [Fact]
    public Task Near_miss_thirty_days_exactly_is_fine()
        => Verify.NoDiagnosticsAsync(AnalyzerSamples.Header + """
            [CachedRepository(DefaultTtl = 2592000)]
            public interface IRepo
            {
                [Cached(Ttl = 2592000, NullTtl = 2592000)] Task<Preference?> GetAsync(long userId);
                [WriteThrough] Task SaveAsync(Preference preference);
            }
            """);

    [Fact]
    public async Task Editorconfig_can_raise_it_to_an_error_or_silence_it()
    {
        var plain = Source.Replace("{|#0:IRepo|}", "IRepo", StringComparison.Ordinal)
            .Replace("{|#1:Cached(Ttl = 3000000)|}", "Cached(Ttl = 3000000)", StringComparison.Ordinal);
        var raised = await EditorconfigRun.AnalyzeAsync(plain, "CGEN026", "error");
        Assert.Equal(2, raised.Length);
        Assert.All(raised, d => Assert.True(EditorconfigRun.IsBuildError(d), d.ToString()));
        Assert.Empty(await EditorconfigRun.AnalyzeAsync(plain, "CGEN026", "none"));
    }
}
