using System.Collections.Immutable;
using CachingGen.Generators.Analyzers;
using CachingGen.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Testing;
using Microsoft.CodeAnalysis.Text;

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

    /// <summary>
    /// Runs the analyzer over <paramref name="source"/> and checks it reports nothing besides <paramref name="otherIds"/>,
    /// advice that the sample triggers on purpose and that its own test class checks (such as CGEN022 on the
    /// canonical sample, which mixes write-back with direct writes).
    /// </summary>
    public static Task NoDiagnosticsExceptAsync(string source, params string[] otherIds)
    {
        var test = new AnalyzerTest(source);
        test.DisabledDiagnostics.AddRange(otherIds);
        return test.RunAsync();
    }
}

/// <summary>
/// Runs the analyzer through a real workspace with an <c>.editorconfig</c>, as a build does. Escalation needs this:
/// the compiler reports a warning raised by configuration as <see cref="Diagnostic.IsWarningAsError"/> (Severity
/// stays Warning, it fails the build), which the testing library's severity comparison does not look at.
/// </summary>
public static class EditorconfigRun
{
    /// <summary>The analyzer's diagnostics for <paramref name="source"/> (no markup; file /src/Test0.cs) under <c>[*.cs] dotnet_diagnostic.{id}.severity = {severity}</c>.</summary>
    public static async Task<ImmutableArray<Diagnostic>> AnalyzeAsync(string source, string id, string severity)
    {
        using var workspace = new AdhocWorkspace();
        var projectId = ProjectId.CreateNewId();
        var solution = workspace.CurrentSolution
            .AddProject(ProjectInfo.Create(projectId, VersionStamp.Default, "Test", "Test", LanguageNames.CSharp,
                filePath: "/src/Test.csproj",
                compilationOptions: new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable),
                parseOptions: GeneratorHarness.ParseOptions.WithDocumentationMode(DocumentationMode.Parse),
                metadataReferences: GeneratorHarness.References))
            .AddDocument(DocumentId.CreateNewId(projectId), "Test0.cs", source, filePath: "/src/Test0.cs")
            .AddDocument(DocumentId.CreateNewId(projectId), "GlobalUsings.cs", AnalyzerTest.GlobalUsings, filePath: "/src/GlobalUsings.cs")
            .AddAnalyzerConfigDocument(DocumentId.CreateNewId(projectId), ".editorconfig", SourceText.From($"""
                root = true

                [*.cs]
                dotnet_diagnostic.{id}.severity = {severity}
                """), filePath: "/src/.editorconfig");
        var project = solution.GetProject(projectId)!;
        var compilation = (await project.GetCompilationAsync())!;
        Xunit.Assert.Empty(compilation.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning));

        return await compilation
            .WithAnalyzers(ImmutableArray.Create<DiagnosticAnalyzer>(new RepositoryAnalyzer()), project.AnalyzerOptions)
            .GetAnalyzerDiagnosticsAsync();
    }

    /// <summary>Whether <paramref name="diagnostic"/> fails a build as an error (raised from a warning or not).</summary>
    public static bool IsBuildError(Diagnostic diagnostic) => diagnostic.Severity == DiagnosticSeverity.Error || diagnostic.IsWarningAsError;
}

/// <summary>Sources shared by the analyzer tests.</summary>
public static class AnalyzerSamples
{
    /// <summary>The canonical valid sample: one entity, every strategy; must produce no diagnostics at all.</summary>
    public const string Canonical = CanonicalSample.Source;

    /// <summary>The canonical entity and the usings, for samples that declare their own repository.</summary>
    public const string Header = CanonicalSample.Header;
}
