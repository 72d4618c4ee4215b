using Microsoft.CodeAnalysis;
using Xunit;

namespace CachingGen.Generators.Tests.Analyzers;

/// <summary>CGEN013: write-back without an idempotency key (a warning), and its severity configured by .editorconfig.</summary>
public sealed class CGEN013Tests
{
    private const string Source = AnalyzerSamples.Header + """
        [CachedRepository]
        public interface IRepo
        {
            [WriteBack] Task {|#0:UpdateAsync|}(Preference preference, CancellationToken ct = default);
        }
        """;

    [Fact]
    public Task Write_back_without_idempotency_key_is_a_warning_with_the_formatted_message()
        => Verify.AnalyzerAsync(Source,
            Verify.Diagnostic("CGEN013").WithLocation(0).WithSeverity(DiagnosticSeverity.Warning)
                .WithMessage("'UpdateAsync' is marked [WriteBack] without IdempotencyKey: a caller that retries the call enqueues the write twice and it is applied twice. Set IdempotencyKey = nameof(...) to a version or operation-id member of 'Sample.Preference'."));

    [Fact]
    public async Task Editorconfig_can_raise_it_to_an_error()
    {
        var diagnostics = await EditorconfigRun.AnalyzeAsync(Source.Replace("{|#0:UpdateAsync|}", "UpdateAsync", StringComparison.Ordinal), "CGEN013", "error");
        var diagnostic = Assert.Single(diagnostics);
        Assert.Equal("CGEN013", diagnostic.Id);
        Assert.True(EditorconfigRun.IsBuildError(diagnostic), diagnostic.ToString());
        Assert.StartsWith("/src/Test0.cs(7,22): error CGEN013:", diagnostic.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public Task Editorconfig_can_silence_it()
    {
        var test = new AnalyzerTest(Source.Replace("{|#0:UpdateAsync|}", "UpdateAsync", StringComparison.Ordinal));
        test.TestState.AnalyzerConfigFiles.Add(("/.editorconfig", """
            root = true

            [*.cs]
            dotnet_diagnostic.CGEN013.severity = none
            """));
        return test.RunAsync();
    }

    [Fact]
    public Task Pragma_suppresses_it()
        => Verify.NoDiagnosticsAsync(Source.Replace("{|#0:UpdateAsync|}", "UpdateAsync", StringComparison.Ordinal)
            .Replace("[CachedRepository]", "#pragma warning disable CGEN013\n[CachedRepository]", StringComparison.Ordinal));

    [Fact]
    public Task Near_miss_with_idempotency_key_or_a_key_only_write_back_is_fine()
        => Verify.NoDiagnosticsAsync(AnalyzerSamples.Header + """
            [CachedRepository]
            public interface IRepo
            {
                [WriteBack(IdempotencyKey = nameof(Preference.Version))] Task UpdateAsync(Preference preference, CancellationToken ct = default);
            }
            """);
}
