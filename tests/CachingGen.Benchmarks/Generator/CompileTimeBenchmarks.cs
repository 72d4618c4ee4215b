using System.Collections.Immutable;
using BenchmarkDotNet.Attributes;
using CachingGen.Generators.Analyzers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace CachingGen.Benchmarks.Generator;

/// <summary>
/// Issue 5: what CachingGen adds to a build. Both rows compile the same 500 files to an assembly, in process, the way
/// csc does: the baseline with every CachingGen attribute removed; the other with the attributes, the generators
/// (whose output is compiled too) and the analyzer, which runs on the compilation being emitted as csc runs it.
/// Goal: at most 1.20x.
/// </summary>
[BenchmarkCategory("generator")]
public class CompileTimeBenchmarks
{
    private SyntheticProject _plain = null!;
    private SyntheticProject _annotated = null!;
    private readonly MemoryStream _peImage = new();

    [GlobalSetup]
    public void Setup()
    {
        _plain = new SyntheticProject(GeneratorBenchmarks.Interfaces, annotated: false);
        _annotated = new SyntheticProject(GeneratorBenchmarks.Interfaces, annotated: true);
    }

    [Benchmark(Baseline = true, Description = "compile, attributes removed")]
    public long WithoutAttributes() => Emit(_plain.CreateCompilation(), analyzerDiagnostics: null);

    [Benchmark(Description = "compile + generators + analyzer")]
    public long WithGeneratorsAndAnalyzer()
    {
        GeneratorBenchmarks.CreateDriver().RunGeneratorsAndUpdateCompilation(_annotated.CreateCompilation(), out var generated, out _);
        var withAnalyzer = generated.WithAnalyzers(ImmutableArray.Create<DiagnosticAnalyzer>(new RepositoryAnalyzer()));
        var length = Emit(withAnalyzer.Compilation, withAnalyzer);
        return length;
    }

    private long Emit(Compilation compilation, CompilationWithAnalyzers? analyzerDiagnostics)
    {
        _peImage.SetLength(0);
        var result = compilation.Emit(_peImage);
        if (!result.Success)
        {
            throw new InvalidOperationException("The synthetic project does not compile: " + string.Join("; ", result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Take(5)));
        }

        if (analyzerDiagnostics is not null)
        {
            var reported = analyzerDiagnostics.GetAnalyzerDiagnosticsAsync().GetAwaiter().GetResult();
            if (reported.Any(d => d.Severity >= DiagnosticSeverity.Warning))
            {
                throw new InvalidOperationException("The analyzer reported problems on the synthetic project: " + string.Join("; ", reported.Take(5)));
            }
        }

        return _peImage.Length;
    }
}
