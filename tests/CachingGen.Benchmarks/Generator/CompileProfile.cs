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
        var timings = new List<(string File, double Milliseconds, int Lines, long Allocated)>();
        foreach (var tree in generated.SyntaxTrees)
        {
            var allocated = GC.GetTotalAllocatedBytes(precise: true);
            var clock = Stopwatch.StartNew();
            generated.GetSemanticModel(tree).GetDiagnostics();
            timings.Add((Path.GetFileName(tree.FilePath), clock.Elapsed.TotalMilliseconds, tree.GetText().Lines.Count, GC.GetTotalAllocatedBytes(precise: true) - allocated));
        }

        ProfileMembers(generated, generated.SyntaxTrees.Where(t => !userTrees.Contains(t) && KindOf(Path.GetFileName(t.FilePath)) == "decorators").Skip(1).First());
        ProfileMembers(generated, generated.SyntaxTrees.Where(t => !userTrees.Contains(t) && KindOf(Path.GetFileName(t.FilePath)) == "formatters").Skip(3).First());
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

    /// <summary>What binding each member of one generated file allocates (a measure of the compiler's work that the
    /// machine's foreign load does not move).</summary>
    private static void ProfileMembers(Compilation compilation, SyntaxTree tree)
    {
        var model = compilation.GetSemanticModel(tree);
        foreach (var member in tree.GetRoot().DescendantNodes().OfType<Microsoft.CodeAnalysis.CSharp.Syntax.MemberDeclarationSyntax>()
                     .Where(m => m is not Microsoft.CodeAnalysis.CSharp.Syntax.BaseNamespaceDeclarationSyntax and not Microsoft.CodeAnalysis.CSharp.Syntax.TypeDeclarationSyntax))
        {
            var allocated = GC.GetTotalAllocatedBytes(precise: true);
            var clock = Stopwatch.StartNew();
            model.GetDiagnostics(member.Span);
            var name = member.ToString().Split('\n')[0].Trim();
            Console.WriteLine($"[profile]     {Path.GetFileName(tree.FilePath)}: {(GC.GetTotalAllocatedBytes(precise: true) - allocated) / 1024.0:0} KB, {clock.Elapsed.TotalMilliseconds:0.0} ms: {name[..Math.Min(110, name.Length)]}");
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
