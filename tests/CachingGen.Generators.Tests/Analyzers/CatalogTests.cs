using System.Collections.Immutable;
using System.Reflection;
using System.Runtime.CompilerServices;
using CachingGen.Generators.Analyzers;
using CachingGen.Generators.Diagnostics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Xunit;

namespace CachingGen.Generators.Tests.Analyzers;

/// <summary>
/// The diagnostic catalog stays whole: every ID has a descriptor the analyzer supports, a help link to its page, the
/// page itself, a row in the docs index and an AnalyzerReleases entry with the same category and severity; and every
/// analyzer in the assembly skips generated code and runs concurrently.
/// </summary>
public sealed class CatalogTests
{
    [Fact]
    public void Every_descriptor_is_supported_documented_and_tracked_in_the_releases()
    {
        var root = RepositoryRoot();
        var index = File.ReadAllText(Path.Combine(root, "docs", "diagnostics", "README.md"));
        var releases = File.ReadAllText(Path.Combine(root, "src", "CachingGen.Generators", "AnalyzerReleases.Unshipped.md"))
            + File.ReadAllText(Path.Combine(root, "src", "CachingGen.Generators", "AnalyzerReleases.Shipped.md"));
        var supported = new RepositoryAnalyzer().SupportedDiagnostics;

        Assert.Equal(DiagnosticDescriptors.All.Length, DiagnosticDescriptors.All.Select(d => d.Id).Distinct().Count());
        for (var i = 0; i < DiagnosticDescriptors.All.Length; i++)
        {
            var descriptor = DiagnosticDescriptors.All[i];
            Assert.Equal("CGEN" + (i + 1).ToString("000", System.Globalization.CultureInfo.InvariantCulture), descriptor.Id);
            Assert.Contains(descriptor, supported);
            Assert.Equal(DiagnosticDescriptors.HelpLinkRoot + descriptor.Id + ".md", descriptor.HelpLinkUri);
            var page = File.ReadAllText(Path.Combine(root, "docs", "diagnostics", descriptor.Id + ".md"));
            Assert.StartsWith("# " + descriptor.Id + ": " + descriptor.Title, page, StringComparison.Ordinal);
            Assert.Contains("**Severity:** " + descriptor.DefaultSeverity + " · **Category:** `" + descriptor.Category + "`", page, StringComparison.Ordinal);
            // What, why it is risky, a bad and a good example, how to suppress (issue 5's page outline).
            Assert.Contains("## What\n", page, StringComparison.Ordinal);
            Assert.Matches(@"(?m)^## Why ", page);
            Assert.Matches(@"(?m)^## Bad\b", page);
            Assert.Contains("## Good\n", page, StringComparison.Ordinal);
            Assert.Contains("## How to suppress", page, StringComparison.Ordinal);
            Assert.Contains($"| {descriptor.Id} | {descriptor.DefaultSeverity} | {descriptor.Category} | {descriptor.Title} | [{descriptor.Id}]({descriptor.Id}.md) |", index, StringComparison.Ordinal);
            Assert.Contains($"{descriptor.Id} | {descriptor.Category} | {descriptor.DefaultSeverity} | {descriptor.Title}", releases, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Every_analyzer_skips_generated_code_and_runs_concurrently()
    {
        var analyzers = typeof(RepositoryAnalyzer).Assembly.GetTypes()
            .Where(t => typeof(DiagnosticAnalyzer).IsAssignableFrom(t) && !t.IsAbstract && t.GetCustomAttribute<DiagnosticAnalyzerAttribute>() is not null)
            .ToList();
        Assert.NotEmpty(analyzers);
        foreach (var type in analyzers)
        {
            var context = new RecordingContext();
            ((DiagnosticAnalyzer)Activator.CreateInstance(type)!).Initialize(context);
            Assert.True(context.Concurrent, type.Name + " does not call EnableConcurrentExecution()");
            Assert.Equal(GeneratedCodeAnalysisFlags.None, context.GeneratedCode);
        }
    }

    private static string RepositoryRoot([CallerFilePath] string thisFile = "")
    {
        var directory = new DirectoryInfo(Path.GetDirectoryName(thisFile)!);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "CachingGen.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("CachingGen.sln not found above " + thisFile);
    }

    /// <summary>Records what an analyzer configures; registrations are accepted and ignored.</summary>
    private sealed class RecordingContext : AnalysisContext
    {
        public bool Concurrent { get; private set; }

        public GeneratedCodeAnalysisFlags? GeneratedCode { get; private set; }

        public override void EnableConcurrentExecution() => Concurrent = true;

        public override void ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags analysisMode) => GeneratedCode = analysisMode;

        public override void RegisterCompilationStartAction(Action<CompilationStartAnalysisContext> action)
        {
        }

        public override void RegisterCompilationAction(Action<CompilationAnalysisContext> action)
        {
        }

        public override void RegisterSemanticModelAction(Action<SemanticModelAnalysisContext> action)
        {
        }

        public override void RegisterSymbolAction(Action<SymbolAnalysisContext> action, ImmutableArray<SymbolKind> symbolKinds)
        {
        }

        public override void RegisterCodeBlockStartAction<TLanguageKindEnum>(Action<CodeBlockStartAnalysisContext<TLanguageKindEnum>> action)
        {
        }

        public override void RegisterCodeBlockAction(Action<CodeBlockAnalysisContext> action)
        {
        }

        public override void RegisterSyntaxTreeAction(Action<SyntaxTreeAnalysisContext> action)
        {
        }

        public override void RegisterSyntaxNodeAction<TLanguageKindEnum>(Action<SyntaxNodeAnalysisContext> action, ImmutableArray<TLanguageKindEnum> syntaxKinds)
        {
        }
    }
}
