using Microsoft.CodeAnalysis;
using Xunit;

namespace CachingGen.Generators.Tests.Analyzers;

/// <summary>CGEN022: write-back and direct writes on one key space (info).</summary>
public sealed class CGEN022Tests
{
    private const string Source = AnalyzerSamples.Header + """
        [CachedRepository(KeyPrefix = "pref")]
        public interface {|#0:IRepo|}
        {
            [Cached] Task<Preference?> GetAsync(long userId);
            [WriteBack(IdempotencyKey = nameof(Preference.Version))] Task UpdateAsync(Preference preference);
            [WriteThrough] Task SaveAsync(Preference preference);
            [Evict] Task DeleteAsync(long userId);
        }
        """;

    private static string Plain => Source.Replace("{|#0:IRepo|}", "IRepo", StringComparison.Ordinal);

    [Fact]
    public Task Write_back_with_direct_writes_is_reported_on_the_interface_as_info()
        => Verify.AnalyzerAsync(Source,
            Verify.Diagnostic("CGEN022").WithLocation(0).WithSeverity(DiagnosticSeverity.Info)
                .WithMessage("'IRepo' writes the key space 'pref:' with [WriteBack] (UpdateAsync) and with direct writes (SaveAsync, DeleteAsync). A direct write of a key that has pending write-back records first waits until they are flushed to the database (a flush barrier). Prefer one write strategy per entity unless the direct writes are rare."));

    [Fact]
    public Task Near_miss_one_write_strategy_per_repository_is_fine()
        => Verify.NoDiagnosticsAsync(AnalyzerSamples.Header + """
            [CachedRepository(KeyPrefix = "pref")]
            public interface IWriteBackOnly
            {
                [Cached] Task<Preference?> GetAsync(long userId);
                [WriteBack(IdempotencyKey = nameof(Preference.Version))] Task UpdateAsync(Preference preference);
                Task DeleteAsync(long userId);
            }

            [CachedRepository(KeyPrefix = "pref")]
            public interface IDirectOnly
            {
                [Cached] Task<Preference?> GetAsync(long userId);
                [WriteThrough] Task SaveAsync(Preference preference);
                [Evict] Task DeleteAsync(long userId);
            }
            """);

    [Fact]
    public async Task Editorconfig_can_raise_it_to_an_error()
    {
        var diagnostic = Assert.Single(await EditorconfigRun.AnalyzeAsync(Plain, "CGEN022", "error"));
        Assert.Equal("CGEN022", diagnostic.Id);
        Assert.True(EditorconfigRun.IsBuildError(diagnostic), diagnostic.ToString());
    }

    [Fact]
    public async Task Editorconfig_can_silence_it()
        => Assert.Empty(await EditorconfigRun.AnalyzeAsync(Plain, "CGEN022", "none"));
}
