using BenchmarkDotNet.Attributes;
using CachingGen.Benchmarks.Infrastructure;
using CachingGen.Generators.Decorators;
using CachingGen.Generators.Formatters;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace CachingGen.Benchmarks.Generator;

/// <summary>
/// Issue 6.5: both CachingGen generators (decorators and formatters) on a project of 500 annotated interfaces.
/// Cold: a new driver on a new compilation. Incremental: the driver that already ran on the project, after an edit
/// of a file that holds no annotated type (what an IDE does on every keystroke): inside a body, of a declaration
/// (a new property), and a new class. Goal: incremental at most 5% of cold.
/// </summary>
[BenchmarkCategory("generator")]
public class GeneratorBenchmarks
{
    /// <summary>500 in a full run; the dry run (CI) uses 50 so it stays quick.</summary>
    public static int Interfaces { get; set; } = 500;

    private SyntheticProject _project = null!;
    private CSharpCompilation _compilation = null!;
    private GeneratorDriver _warmDriver = null!;
    private int _edits;

    [GlobalSetup]
    public void Setup()
    {
        _project = new SyntheticProject(Interfaces, annotated: true);
        _compilation = _project.CreateCompilation();
        _warmDriver = CreateDriver().RunGeneratorsAndUpdateCompilation(_compilation, out var output, out var diagnostics);
        var result = _warmDriver.GetRunResult();
        var errors = output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).Take(5).ToList();
        if (result.Results.Any(r => r.Exception is not null) || diagnostics.Length > 0 || errors.Count > 0 || result.GeneratedTrees.Length < Interfaces)
        {
            throw new InvalidOperationException(
                $"The synthetic project does not generate cleanly: {result.GeneratedTrees.Length} files, " +
                string.Join("; ", result.Results.Select(r => r.Exception?.Message).Concat(diagnostics.Select(d => d.ToString())).Concat(errors.Select(d => d.ToString()))));
        }

        BenchmarkFacts.Set("generator.interfaces", Interfaces.ToString(System.Globalization.CultureInfo.InvariantCulture));
        BenchmarkFacts.Set("generator.generatedFiles", result.GeneratedTrees.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Benchmark(Baseline = true, Description = "cold run (new driver, new compilation)")]
    public GeneratorDriver ColdRun() => CreateDriver().RunGenerators(_project.CreateCompilation(newTrees: true));

    [Benchmark(Description = "incremental run after an unrelated edit (inside a body)")]
    public GeneratorDriver IncrementalRun()
        => _warmDriver.RunGenerators(_compilation.ReplaceSyntaxTree(_project.UnrelatedTree, SyntheticProject.UnrelatedEdit(++_edits)));

    [Benchmark(Description = "incremental run after an unrelated declaration edit")]
    public GeneratorDriver IncrementalRunAfterDeclarationEdit()
        => _warmDriver.RunGenerators(_compilation.ReplaceSyntaxTree(_project.UnrelatedTree, SyntheticProject.UnrelatedDeclarationEdit(++_edits)));

    [Benchmark(Description = "incremental run after a new class in an unrelated file")]
    public GeneratorDriver IncrementalRunAfterNewType()
        => _warmDriver.RunGenerators(_compilation.ReplaceSyntaxTree(_project.UnrelatedTree, SyntheticProject.UnrelatedTypeEdit(++_edits)));

    internal static GeneratorDriver CreateDriver() => CSharpGeneratorDriver.Create(
        new[] { new DecoratorGenerator().AsSourceGenerator(), new FormatterGenerator().AsSourceGenerator() },
        parseOptions: SyntheticProject.ParseOptions,
        driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: false));
}
