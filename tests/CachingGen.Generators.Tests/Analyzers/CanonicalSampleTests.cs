using Xunit;

namespace CachingGen.Generators.Tests.Analyzers;

/// <summary>The canonical sample is clean: no CachingGen diagnostic and no compiler diagnostic.</summary>
public sealed class CanonicalSampleTests
{
    [Fact]
    public Task Canonical_sample_has_no_diagnostics() => Verify.NoDiagnosticsAsync(AnalyzerSamples.Canonical);
}
