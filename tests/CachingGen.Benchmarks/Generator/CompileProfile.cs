using System.Diagnostics;
using System.Globalization;
using Microsoft.CodeAnalysis;

namespace CachingGen.Benchmarks.Generator;

/// <summary>
/// <c>-- --profile-compile [interfaces]</c>: binds every generated file of the synthetic project on its own and prints
/// the slowest ones, to show where the compile time the generators add goes.
/// </summary>
public static class CompileProfile
{
    public static void Run(int interfaces)
    {
        var project = new SyntheticProject(interfaces, annotated: true);
        ProfileGenerators(project);
        GeneratorBenchmarks.CreateDriver().RunGeneratorsAndUpdateCompilation(project.CreateCompilation(), out var generated, out _);
        var userTrees = new HashSet<SyntaxTree>(project.Trees);

        // Declarations first, so each file's time below is its own method bodies.
        generated.GetDeclarationDiagnostics();
        var timings = new List<(string File, double Milliseconds, int Lines)>();
        foreach (var tree in generated.SyntaxTrees)
        {
            var clock = Stopwatch.StartNew();
            generated.GetSemanticModel(tree).GetDiagnostics();
            timings.Add((Path.GetFileName(tree.FilePath), clock.Elapsed.TotalMilliseconds, tree.GetText().Lines.Count));
        }

        string Sum(IEnumerable<(string File, double Milliseconds, int Lines)> rows) => rows.Sum(r => r.Milliseconds).ToString("0", CultureInfo.InvariantCulture);
        var user = timings.Where(t => userTrees.Any(u => Path.GetFileName(u.FilePath) == t.File)).ToList();
        var mine = timings.Except(user).ToList();
        Console.WriteLine($"[profile] {interfaces} interfaces: binding user files {Sum(user)} ms, generated files {Sum(mine)} ms ({mine.Count} files)");
        foreach (var group in mine.GroupBy(t => KindOf(t.File)).OrderByDescending(g => g.Sum(t => t.Milliseconds)))
        {
            Console.WriteLine($"[profile]   {group.Key}: {group.Count()} files, {Sum(group)} ms, {group.Sum(t => t.Lines)} lines");
        }

        foreach (var slow in mine.OrderByDescending(t => t.Milliseconds).Take(8))
        {
            Console.WriteLine($"[profile]   slowest: {slow.File} {slow.Milliseconds:0} ms, {slow.Lines} lines");
        }
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
