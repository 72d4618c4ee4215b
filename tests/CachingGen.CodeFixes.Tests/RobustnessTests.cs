using System.Collections.Immutable;
using System.Reflection;
using CachingGen.Generators.Analyzers;
using CachingGen.Generators.Diagnostics;
using CachingGen.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Xunit;

namespace CachingGen.CodeFixes.Tests;

/// <summary>
/// Every code fix of the assembly is exported for C#, fixes only catalog IDs, and never throws: on odd but compiling
/// shapes and on code that is half typed, every offered action computes its change.
/// </summary>
public sealed class RobustnessTests
{
    private static readonly IReadOnlyList<CodeFixProvider> Fixes = typeof(AddIdempotencyKeyCodeFix).Assembly.GetTypes()
        .Where(t => typeof(CodeFixProvider).IsAssignableFrom(t) && !t.IsAbstract)
        .Select(t => (CodeFixProvider)Activator.CreateInstance(t)!)
        .ToList();

    [Fact]
    public void Every_fix_is_exported_for_CSharp_supports_fix_all_and_fixes_catalog_ids()
    {
        Assert.Equal(5, Fixes.Count);
        var catalog = DiagnosticDescriptors.All.Select(d => d.Id).ToHashSet();
        foreach (var fix in Fixes)
        {
            var export = fix.GetType().GetCustomAttribute<ExportCodeFixProviderAttribute>();
            Assert.NotNull(export);
            Assert.Contains(LanguageNames.CSharp, export!.Languages);
            Assert.Same(WellKnownFixAllProviders.BatchFixer, fix.GetFixAllProvider());
            Assert.All(fix.FixableDiagnosticIds, id => Assert.Contains(id, catalog));
        }
    }

    public static TheoryData<string, string> OddSources => new()
    {
        { "computed and converted values", """
            [CachedRepository(DefaultTtl = 60 * 60 * 24 * 400)]
            public interface IRepo
            {
                [Cached(Ttl = 0 + 0, NullTtl = -(1))] Task<Preference?> GetAsync(long userId);
                [WriteAround(Ttl = (int)4000000L, Invalidate = !true)] Task TouchAsync(long userId);
                [WriteBack(Ttl = 3_000_000)] Task UpdateAsync(Preference preference);
            }
            """ },
        { "strategies in every list shape", """
            [CachedRepository]
            public interface IRepo
            {
                [Cached] Task<Preference?> GetAsync(long userId);
                /// <summary>Doc.</summary>
                [WriteBack, WriteThrough][Evict]
                [Obsolete, WriteAround]
                void Save(Preference preference);
                [Cached] ref Preference Broken(long userId);
            }
            """ },
        { "entity members in base types", """
            public abstract class Versioned { public long Version { get; set; } public Guid RequestId { get; init; } }
            public sealed class Note : Versioned { [CacheKey] public long Id { get; set; } }
            [CachedRepository]
            public interface INotes
            {
                [Cached] Task<Note?> GetAsync(long id);
                [WriteBack] Task UpdateAsync(Note note);
                [WriteBack] Task UpdateOtherAsync(Note? note, CancellationToken ct);
            }
            """ },
        { "half typed", """
            [CachedRepository(DefaultTtl = 0
            public interface IRepo
            {
                [Cached(Ttl = 0, NullTtl = -5)] Preference? Get(long userId
                [WriteBack, Evict] Task UpdateAsync(Preference preference);
                [WriteBack] Task SaveAsync(Preference preference, int[ scores);
                [WriteAround(Invalidate = false, Ttl = 99999999)] Task TouchAsync(long userId);
            """ },
    };

    [Theory]
    [MemberData(nameof(OddSources))]
    public async Task Every_offered_action_computes_its_change(string name, string body)
    {
        using var workspace = new AdhocWorkspace();
        var projectId = ProjectId.CreateNewId();
        var documentId = DocumentId.CreateNewId(projectId);
        var solution = workspace.CurrentSolution
            .AddProject(ProjectInfo.Create(projectId, VersionStamp.Default, "Test", "Test", LanguageNames.CSharp,
                compilationOptions: new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable),
                parseOptions: GeneratorHarness.ParseOptions,
                metadataReferences: GeneratorHarness.References))
            .AddDocument(documentId, "Test0.cs", CanonicalSample.Header + body)
            .AddDocument(DocumentId.CreateNewId(projectId), "GlobalUsings.cs", CodeFixTest<TtlCodeFix>.GlobalUsings);
        var document = solution.GetDocument(documentId)!;
        var compilation = (await document.Project.GetCompilationAsync())!;
        var diagnostics = await compilation.WithAnalyzers(ImmutableArray.Create<DiagnosticAnalyzer>(new RepositoryAnalyzer())).GetAnalyzerDiagnosticsAsync();

        var applied = 0;
        foreach (var diagnostic in diagnostics)
        {
            foreach (var fix in Fixes.Where(f => f.FixableDiagnosticIds.Contains(diagnostic.Id)))
            {
                var actions = new List<CodeAction>();
                await fix.RegisterCodeFixesAsync(new CodeFixContext(document, diagnostic, (action, _) => actions.Add(action), CancellationToken.None));
                foreach (var action in actions)
                {
                    var operations = await action.GetOperationsAsync(CancellationToken.None);
                    var changed = operations.OfType<ApplyChangesOperation>().Single().ChangedSolution.GetDocument(documentId)!;
                    Assert.NotEqual((await document.GetTextAsync()).ToString(), (await changed.GetTextAsync()).ToString());
                    applied++;
                }
            }
        }

        Assert.True(applied > 0, name + ": no fix was exercised; diagnostics: " + string.Join(", ", diagnostics.Select(d => d.Id)));
    }
}
