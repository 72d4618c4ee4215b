using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Exporters.Json;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace CachingGen.Benchmarks.Infrastructure;

/// <summary>The two ways the benchmarks run.</summary>
public static class BenchmarkConfigs
{
    /// <summary>Warm-up and measured iterations of a full run: a ShortRun-like job with more iterations, because the
    /// machine is shared and a ratio needs a stable median. The whole suite takes about 20-30 minutes on 2 cores.</summary>
    public const int WarmupCount = 3;

    public const int IterationCount = 12;

    /// <summary>
    /// Full run: in process (no per-benchmark project build, which would cost minutes per class on this machine; the
    /// benchmarks share one process, one JIT and one GC, which affects every row of a table alike), one launch,
    /// <see cref="WarmupCount"/> warm-ups, <see cref="IterationCount"/> iterations, memory diagnoser, JSON and
    /// Markdown exports in <paramref name="artifacts"/>.
    /// </summary>
    public static IConfig Full(string artifacts) => Create(
        Job.Default
            .WithToolchain(InProcess)
            .WithLaunchCount(1)
            .WithWarmupCount(WarmupCount)
            .WithIterationCount(IterationCount)
            .WithId("Full"),
        artifacts);

    /// <summary>The generator and compile-time benchmarks take seconds per call: fewer iterations keep the full run
    /// in budget (1 warm-up, 6 iterations; a call is long enough that each iteration is one call).</summary>
    public static IConfig FullHeavy(string artifacts) => Create(
        Job.Default
            .WithToolchain(InProcess)
            .WithLaunchCount(1)
            .WithWarmupCount(1)
            .WithIterationCount(6)
            .WithId("Full"),
        artifacts);

    /// <summary>The compile-time benchmark compiles 500 files plus what the generators add, up to a minute and more per
    /// call on the shared machine: no warm-up (the jitting stage already runs it), 3 iterations.</summary>
    public static IConfig FullCompile(string artifacts) => Create(
        Job.Default
            .WithToolchain(InProcess)
            .WithLaunchCount(1)
            .WithWarmupCount(0)
            .WithIterationCount(3)
            .WithId("Full"),
        artifacts);

    /// <summary>Dry run (CI): every benchmark case once, in process, so they compile, set up and run but are not measured.</summary>
    public static IConfig Dry(string artifacts) => Create(Job.Dry.WithToolchain(InProcess).WithId("Dry"), artifacts);

    /// <summary>In process, with room for the compile benchmark (a minute and more per call): the default in-process
    /// timeout of 5 minutes per case would abort it.</summary>
    private static readonly InProcessEmitToolchain InProcess = new(TimeSpan.FromMinutes(30), logOutput: true);

    private static ManualConfig Create(Job job, string artifacts)
    {
        var config = ManualConfig.CreateEmpty()
            .AddJob(job)
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddColumnProvider(DefaultColumnProviders.Instance)
            .AddLogger(ConsoleLogger.Default)
            .AddExporter(JsonExporter.Full, MarkdownExporter.GitHub)
            .WithArtifactsPath(artifacts)
            .WithOption(ConfigOptions.DisableLogFile, true);
        config.SummaryStyle = BenchmarkDotNet.Reports.SummaryStyle.Default.WithRatioStyle(RatioStyle.Trend);
        return config;
    }
}
