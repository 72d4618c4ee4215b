using CachingGen.Generators.Analyzers;
using CachingGen.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Testing;

namespace CachingGen.Generators.Tests.Analyzers;

/// <summary>
/// <see cref="RepositoryAnalyzer"/> under Microsoft.CodeAnalysis.Testing, offline: no reference-assembly package is
/// downloaded (<c>ReferenceAssemblies.Net.Net80</c> needs one); the project gets the same references as
/// <see cref="GeneratorHarness"/> (the running runtime's trusted platform assemblies, CachingGen, MessagePack) and
/// the compilation options the generator tests use (C# 12, nullable enabled). Every test source also gets
/// <see cref="GlobalUsings"/>, so samples read like an SDK project with implicit usings.
/// </summary>
public sealed class AnalyzerTest : CSharpAnalyzerTest<RepositoryAnalyzer, DefaultVerifier>
{
    /// <summary>The implicit usings of an SDK project, as a second source file.</summary>
    public const string GlobalUsings = """
        global using System;
        global using System.Collections.Generic;
        global using System.Threading;
        global using System.Threading.Tasks;
        """;

    /// <summary>A target framework with no package: nothing to resolve, the references come from <see cref="GeneratorHarness.References"/>.</summary>
    private static readonly ReferenceAssemblies Offline = new("net10.0");

    /// <summary>Creates a test of <paramref name="source"/> (markup allowed) expecting <paramref name="expected"/> besides the markup.</summary>
    public AnalyzerTest(string source, params DiagnosticResult[] expected)
    {
        TestCode = source;
        ReferenceAssemblies = Offline;
        TestState.Sources.Add(("GlobalUsings.cs", GlobalUsings));
        TestState.AdditionalReferences.AddRange(GeneratorHarness.References);
        ExpectedDiagnostics.AddRange(expected);
    }

    /// <inheritdoc/>
    protected override ParseOptions CreateParseOptions() => GeneratorHarness.ParseOptions.WithDocumentationMode(DocumentationMode.Parse);

    /// <inheritdoc/>
    protected override CompilationOptions CreateCompilationOptions()
        => ((CSharpCompilationOptions)base.CreateCompilationOptions())
            .WithNullableContextOptions(NullableContextOptions.Enable)
            .WithSpecificDiagnosticOptions(new Dictionary<string, ReportDiagnostic>
            {
                ["CS1701"] = ReportDiagnostic.Suppress,
                ["CS1702"] = ReportDiagnostic.Suppress,
            });
}

/// <summary>Short entry points for the per-ID test classes.</summary>
public static class Verify
{
    /// <summary>A diagnostic of <paramref name="id"/> with the descriptor's default severity.</summary>
    public static DiagnosticResult Diagnostic(string id)
        => CSharpAnalyzerVerifier<RepositoryAnalyzer, DefaultVerifier>.Diagnostic(id);

    /// <summary>Runs the analyzer over <paramref name="source"/> and checks the markup plus <paramref name="expected"/>, and nothing else.</summary>
    public static Task AnalyzerAsync(string source, params DiagnosticResult[] expected)
        => new AnalyzerTest(source, expected).RunAsync();

    /// <summary>Runs the analyzer over <paramref name="source"/> and checks it reports nothing at all.</summary>
    public static Task NoDiagnosticsAsync(string source) => new AnalyzerTest(source).RunAsync();
}

/// <summary>Sources shared by the analyzer tests.</summary>
public static class AnalyzerSamples
{
    /// <summary>The canonical valid sample: one entity, every strategy; must produce no diagnostics at all.</summary>
    public const string Canonical = CanonicalSample.Source;

    /// <summary>The canonical entity and the usings, for samples that declare their own repository.</summary>
    public const string Header = CanonicalSample.Header;
}
