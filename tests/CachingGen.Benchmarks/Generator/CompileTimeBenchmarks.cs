using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using CachingGen.Benchmarks.Infrastructure;
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
[BenchmarkCategory("compile")]
public class CompileTimeBenchmarks
{
    private static bool s_breakdownMeasured;
    private SyntheticProject _plain = null!;
    private SyntheticProject _annotated = null!;
    private SyntheticProject _passThrough = null!;
    private readonly MemoryStream _peImage = new();

    [GlobalSetup]
    public void Setup()
    {
        _plain = new SyntheticProject(GeneratorBenchmarks.Interfaces, annotated: false);
        _annotated = new SyntheticProject(GeneratorBenchmarks.Interfaces, annotated: true);
        _passThrough = new SyntheticProject(GeneratorBenchmarks.Interfaces, annotated: false, passThrough: true);

        // BenchmarkDotNet sets up once per case; the breakdown is needed once per run.
        if (!s_breakdownMeasured)
        {
            s_breakdownMeasured = true;
            MeasureBreakdown();
        }
    }

    /// <summary>
    /// Once, before measuring: where the added time goes (generators, compiling their output, the analyzer's own
    /// execution time as Roslyn reports it), recorded in facts.json for the report.
    /// </summary>
    private void MeasureBreakdown()
    {
        var clock = Stopwatch.StartNew();
        _plain.CreateCompilation().Emit(_peImage);
        var plain = clock.Elapsed;

        clock.Restart();
        GeneratorBenchmarks.CreateDriver().RunGeneratorsAndUpdateCompilation(_annotated.CreateCompilation(), out var generated, out _);
        var generators = clock.Elapsed;

        clock.Restart();
        _peImage.SetLength(0);
        generated.Emit(_peImage);
        var emit = clock.Elapsed;

        clock.Restart();
        var analyzer = new RepositoryAnalyzer();
        var withAnalyzer = generated.WithAnalyzers(
            ImmutableArray.Create<DiagnosticAnalyzer>(analyzer),
            new CompilationWithAnalyzersOptions(new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty), null, concurrentAnalysis: false, logAnalyzerExecutionTime: true, reportSuppressedDiagnostics: false));
        withAnalyzer.GetAnalyzerDiagnosticsAsync().GetAwaiter().GetResult();
        var analysis = clock.Elapsed;
        var analyzerOwn = withAnalyzer.GetAnalyzerTelemetryInfoAsync(analyzer, CancellationToken.None).GetAwaiter().GetResult().ExecutionTime;

        string Ms(TimeSpan time) => time.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture);
        BenchmarkFacts.Set("compile.breakdown.plainEmitMs", Ms(plain));
        BenchmarkFacts.Set("compile.breakdown.generatorsMs", Ms(generators));
        BenchmarkFacts.Set("compile.breakdown.generatedEmitMs", Ms(emit));
        BenchmarkFacts.Set("compile.breakdown.analysisPassMs", Ms(analysis));
        BenchmarkFacts.Set("compile.breakdown.analyzerExecutionMs", Ms(analyzerOwn));
        Console.WriteLine($"[bench] compile breakdown: plain emit {Ms(plain)} ms; generators {Ms(generators)} ms; emit with generated code {Ms(emit)} ms; " +
                          $"analysis pass {Ms(analysis)} ms, of which RepositoryAnalyzer itself {Ms(analyzerOwn)} ms");
    }

    [Benchmark(Baseline = true, Description = "compile, attributes removed")]
    public long WithoutAttributes() => Emit(_plain.CreateCompilation(), analyzerDiagnostics: null);

    /// <summary>The floor of any decorator: the project without attributes plus one hand-written class per interface
    /// that only forwards each call (no caching, no formatters). Its ratio to the baseline is the least a decorator
    /// generator can add, whatever it emits.</summary>
    [Benchmark(Description = "compile, attributes removed, + hand-written forwarding decorators")]
    public long WithForwardingDecorators() => Emit(_passThrough.CreateCompilation(), analyzerDiagnostics: null);

    [Benchmark(Description = "compile + generators + analyzer")]
    public long WithGeneratorsAndAnalyzer()
    {
        GeneratorBenchmarks.CreateDriver().RunGeneratorsAndUpdateCompilation(_annotated.CreateCompilation(newTrees: true), out var generated, out _);
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
