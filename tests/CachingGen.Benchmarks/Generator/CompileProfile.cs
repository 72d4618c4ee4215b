using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using CachingGen.Generators.Analyzers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace CachingGen.Benchmarks.Generator;

/// <summary>
/// <c>-- --profile-compile [interfaces]</c>: binds every generated file of the synthetic project on its own and prints
/// the slowest ones, to show where the compile time the generators add goes; then the stages of the compile-time
/// benchmark, with what each allocates (a measure of the compiler's work that the machine's foreign load does not move).
/// </summary>
public static class CompileProfile
{
    public static void Run(int interfaces)
    {
        var project = new SyntheticProject(interfaces, annotated: true);
        ProfileGenerators(project);
        ProfileStages(interfaces, project);
        GeneratorBenchmarks.CreateDriver().RunGeneratorsAndUpdateCompilation(project.CreateCompilation(), out var generated, out _);
        var userTrees = new HashSet<SyntaxTree>(project.Trees);

        // Declarations first, so each file's time below is its own method bodies.
        generated.GetDeclarationDiagnostics();
        var timings = new List<(string File, double Milliseconds, int Lines, long Allocated)>();
        foreach (var tree in generated.SyntaxTrees)
        {
            var allocated = GC.GetTotalAllocatedBytes(precise: true);
            var clock = Stopwatch.StartNew();
            generated.GetSemanticModel(tree).GetDiagnostics();
            timings.Add((Path.GetFileName(tree.FilePath), clock.Elapsed.TotalMilliseconds, tree.GetText().Lines.Count, GC.GetTotalAllocatedBytes(precise: true) - allocated));
        }

        string Sum(IEnumerable<(string File, double Milliseconds, int Lines, long Allocated)> rows) => rows.Sum(r => r.Milliseconds).ToString("0", CultureInfo.InvariantCulture) + " ms, " + (rows.Sum(r => r.Allocated) / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture) + " MB allocated";
        var user = timings.Where(t => userTrees.Any(u => Path.GetFileName(u.FilePath) == t.File)).ToList();
        var mine = timings.Except(user).ToList();
        Console.WriteLine($"[profile] {interfaces} interfaces: binding user files {Sum(user)}, generated files {Sum(mine)} ({mine.Count} files)");
        foreach (var group in mine.GroupBy(t => KindOf(t.File)).OrderByDescending(g => g.Sum(t => t.Milliseconds)))
        {
            Console.WriteLine($"[profile]   {group.Key}: {group.Count()} files, {Sum(group)}, {group.Sum(t => t.Lines)} lines");
        }

        foreach (var slow in mine.OrderByDescending(t => t.Milliseconds).Take(8))
        {
            Console.WriteLine($"[profile]   slowest: {slow.File} {slow.Milliseconds:0} ms, {slow.Allocated / 1048576.0:0.0} MB, {slow.Lines} lines");
        }
    }

    /// <summary>The compile-time benchmark's stages, twice (the first round includes the JIT). The analysis pass binds
    /// every method body again (CompilationWithAnalyzers gets the compiler's diagnostics to raise its events); the
    /// compiler's diagnostics alone show how much of it is that.</summary>
    private static void ProfileStages(int interfaces, SyntheticProject project)
    {
        var plain = new SyntheticProject(interfaces, annotated: false);
        for (var round = 1; round <= 2; round++)
        {
            Stage(round, "plain project emitted", () => plain.CreateCompilation().Emit(Stream.Null));
            Compilation generated = null!;
            Stage(round, "both generators", () => GeneratorBenchmarks.CreateDriver().RunGeneratorsAndUpdateCompilation(project.CreateCompilation(), out generated, out _));
            Stage(round, "project with generated code emitted", () => generated.Emit(Stream.Null));
            Stage(round, "analysis pass", () => generated.WithAnalyzers(ImmutableArray.Create<DiagnosticAnalyzer>(new RepositoryAnalyzer()))
                .GetAnalyzerDiagnosticsAsync().GetAwaiter().GetResult());
            Stage(round, "compiler diagnostics alone (new compilation)", () => generated.RemoveAllSyntaxTrees().AddSyntaxTrees(generated.SyntaxTrees).GetDiagnostics());
        }
    }

    private static void Stage(int round, string name, Action stage)
    {
        GC.Collect();
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var clock = Stopwatch.StartNew();
        stage();
        Console.WriteLine($"[profile] stages round {round}: {name} {clock.Elapsed.TotalMilliseconds:0} ms, {(GC.GetTotalAllocatedBytes(precise: true) - allocated) / 1048576.0:0.0} MB allocated");
    }

    /// <summary>Each generator's own time (Roslyn's timing info) in a cold run and in the incremental run after an
    /// unrelated edit, three times each.</summary>
    private static void ProfileGenerators(SyntheticProject project)
    {
        var compilation = project.CreateCompilation();
        for (var round = 1; round <= 3; round++)
        {
            var clock = Stopwatch.StartNew();
            var cold = GeneratorBenchmarks.CreateDriver().RunGenerators(project.CreateCompilation());
            var coldTime = clock.Elapsed;
            var warm = GeneratorBenchmarks.CreateDriver().RunGenerators(compilation);
            clock.Restart();
            var incremental = warm.RunGenerators(compilation.ReplaceSyntaxTree(project.UnrelatedTree, SyntheticProject.UnrelatedEdit(round)));
            var incrementalTime = clock.Elapsed;
            Console.WriteLine($"[profile] generators round {round}: cold {coldTime.TotalMilliseconds:0} ms ({Times(cold)}); incremental {incrementalTime.TotalMilliseconds:0} ms ({Times(incremental)})");
        }
    }

    private static string Times(GeneratorDriver driver)
        => string.Join(", ", driver.GetTimingInfo().GeneratorTimes.Select(t => $"{t.Generator.GetGeneratorType().Name} {t.ElapsedTime.TotalMilliseconds:0} ms"));

    private static string KindOf(string file)
    {
        if (file.Contains("Formatter.g", StringComparison.Ordinal))
        {
            return "formatters";
        }

        return file.Contains("Resolver", StringComparison.Ordinal) ? "resolver" : "decorators";
    }
}
