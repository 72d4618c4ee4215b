using System.Collections.Immutable;
using CachingGen.Generators.Analyzers;
using CachingGen.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Testing;

namespace CachingGen.CodeFixes.Tests;

/// <summary>
/// A code fix under Microsoft.CodeAnalysis.Testing with <see cref="RepositoryAnalyzer"/> reporting, offline (the
/// references of <see cref="GeneratorHarness"/>, C# 12, nullable enabled, SDK-style implicit usings). Besides the
/// one-fix-at-a-time check the library also applies Fix All in document, project and solution scope and compares
/// with <c>BatchFixedCode</c> (or <c>FixedCode</c> when that is not set).
/// </summary>
public sealed class CodeFixTest<TCodeFix> : CSharpCodeFixTest<RepositoryAnalyzer, TCodeFix, DefaultVerifier>
    where TCodeFix : CodeFixProvider, new()
{
    /// <summary>The implicit usings of an SDK project, as a second source file.</summary>
    public const string GlobalUsings = """
        global using System;
        global using System.Collections.Generic;
        global using System.Threading;
        global using System.Threading.Tasks;
        """;

    private static readonly ReferenceAssemblies Offline = new("net10.0");

    /// <summary>A test of <paramref name="source"/> fixed into <paramref name="fixedSource"/> with the action of <paramref name="equivalenceKey"/>.</summary>
    public CodeFixTest(string source, string fixedSource, string equivalenceKey)
    {
        TestCode = source;
        FixedCode = fixedSource;
        CodeActionEquivalenceKey = equivalenceKey;
        ReferenceAssemblies = Offline;
        TestState.Sources.Add(("GlobalUsings.cs", GlobalUsings));
        FixedState.Sources.Add(("GlobalUsings.cs", GlobalUsings));
        TestState.AdditionalReferences.AddRange(GeneratorHarness.References);
        FixedState.AdditionalReferences.AddRange(GeneratorHarness.References);
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

/// <summary>Short entry points for the code-fix test classes.</summary>
public static class Verify
{
    /// <summary>A diagnostic of <paramref name="id"/> with the descriptor's default severity.</summary>
    public static DiagnosticResult Diagnostic(string id)
        => new(id, CachingGen.Generators.Diagnostics.DiagnosticDescriptors.All.Single(d => d.Id == id).DefaultSeverity);

    /// <summary>Checks that the action with <paramref name="equivalenceKey"/> turns <paramref name="source"/> into
    /// <paramref name="fixedSource"/>, one diagnostic at a time and with Fix All.</summary>
    public static Task FixAsync<TCodeFix>(string source, string fixedSource, string equivalenceKey, params DiagnosticResult[] expected)
        where TCodeFix : CodeFixProvider, new()
    {
        var test = new CodeFixTest<TCodeFix>(source, fixedSource, equivalenceKey);
        test.ExpectedDiagnostics.AddRange(expected);
        return test.RunAsync();
    }

    /// <summary>
    /// The titles of the actions <typeparamref name="TCodeFix"/> offers for the first diagnostic it can fix in
    /// <paramref name="source"/>, in the order it offers them (the order a light bulb shows).
    /// </summary>
    public static async Task<IReadOnlyList<string>> OfferedActionsAsync<TCodeFix>(string source)
        where TCodeFix : CodeFixProvider, new()
    {
        var fix = new TCodeFix();
        using var workspace = new AdhocWorkspace();
        var projectId = ProjectId.CreateNewId();
        var documentId = DocumentId.CreateNewId(projectId);
        var solution = workspace.CurrentSolution
            .AddProject(ProjectInfo.Create(projectId, VersionStamp.Default, "Test", "Test", LanguageNames.CSharp,
                compilationOptions: new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable),
                parseOptions: GeneratorHarness.ParseOptions.WithDocumentationMode(DocumentationMode.Parse),
                metadataReferences: GeneratorHarness.References))
            .AddDocument(documentId, "Test0.cs", source)
            .AddDocument(DocumentId.CreateNewId(projectId), "GlobalUsings.cs", CodeFixTest<TCodeFix>.GlobalUsings);
        var document = solution.GetDocument(documentId)!;
        var compilation = (await document.Project.GetCompilationAsync())!;
        var diagnostics = await compilation
            .WithAnalyzers(ImmutableArray.Create<DiagnosticAnalyzer>(new RepositoryAnalyzer()))
            .GetAnalyzerDiagnosticsAsync();
        var diagnostic = diagnostics.OrderBy(d => d.Location.SourceSpan.Start).First(d => fix.FixableDiagnosticIds.Contains(d.Id));

        var actions = new List<CodeAction>();
        await fix.RegisterCodeFixesAsync(new CodeFixContext(document, diagnostic, (action, _) => actions.Add(action), CancellationToken.None));
        return actions.Select(a => a.Title).ToList();
    }
}
