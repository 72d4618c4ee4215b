using Xunit;

namespace CachingGen.Generators.Tests.Analyzers;

/// <summary>
/// The canonical sample is clean: no compiler diagnostic, no error or warning, only the one piece of advice it asks
/// for on purpose by mixing write-back with direct writes on one entity (CGEN022, info).
/// </summary>
public sealed class CanonicalSampleTests
{
    [Fact]
    public Task Canonical_sample_has_only_the_mixed_strategy_advice()
        => Verify.AnalyzerAsync(AnalyzerSamples.Canonical,
            Verify.Diagnostic("CGEN022").WithSpan(5, 18, 5, 39)
                .WithArguments("IPreferenceRepository", "pref", "UpdateAsync", "SaveAsync, SaveManyAsync, DeleteAsync"));
}
