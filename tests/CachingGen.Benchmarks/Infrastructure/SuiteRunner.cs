using System.Reflection;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace CachingGen.Benchmarks.Infrastructure;

/// <summary>Runs every benchmark class (or those named by <c>--only</c>), leaving out, with a message, what needs a
/// Redis that is not there; under CI a missing Redis is an error instead.</summary>
public static class SuiteRunner
{
    public const string NeedsRedisCategory = "needs-redis";

    public static IReadOnlyList<Type> BenchmarkTypes { get; } = typeof(SuiteRunner).Assembly.GetTypes()
        .Where(type => type is { IsClass: true, IsAbstract: false, IsPublic: true } && type.GetMethods().Any(method => method.GetCustomAttribute<BenchmarkAttribute>() is not null))
        .OrderBy(type => type.Name, StringComparer.Ordinal)
        .ToList();

    public const string HeavyCategory = "generator";

    public const string CompileCategory = "compile";

    /// <param name="config">The configuration of the benchmarks.</param>
    /// <param name="heavyConfig">The configuration of the classes in the <see cref="HeavyCategory"/> category.</param>
    /// <param name="only">Runs only the classes whose name contains it; null for all.</param>
    /// <param name="dry">Whether this is a dry run (no statistics expected).</param>
    /// <param name="compileConfig">The configuration of the classes in the <see cref="CompileCategory"/> category.</param>
    /// <param name="except">Leaves out the classes whose name contains it; null for none.</param>
    public static Outcome Run(IConfig config, IConfig heavyConfig, IConfig compileConfig, string? only, string? except, bool dry)
    {
        var redis = RedisBenchmarkEnvironment.IsAvailable;
        if (!redis && !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI")))
        {
            throw new InvalidOperationException(RedisBenchmarkEnvironment.MissingMessage + " CI is set, so this is an error.");
        }

        var skipped = 0;
        var runs = new List<BenchmarkRunInfo>();
        foreach (var type in BenchmarkTypes.Where(type => (only is null || type.Name.Contains(only, StringComparison.OrdinalIgnoreCase))
                                                          && (except is null || !type.Name.Contains(except, StringComparison.OrdinalIgnoreCase))))
        {
            var chosen = IsCompile(type) ? compileConfig : HasCategory(type, HeavyCategory) ? heavyConfig : config;
            var info = BenchmarkConverter.TypeToBenchmarks(type, chosen);
            var cases = info.BenchmarksCases.Where(benchmark => redis || !NeedsRedis(benchmark)).ToArray();
            skipped += info.BenchmarksCases.Length - cases.Length;
            if (cases.Length > 0)
            {
                runs.Add(new BenchmarkRunInfo(cases, type, info.Config));
            }
        }

        if (skipped > 0)
        {
            Console.WriteLine($"[bench] NOTE: {skipped} benchmark cases need Redis and were left out. {RedisBenchmarkEnvironment.MissingMessage}");
        }

        if (runs.Count == 0)
        {
            throw new InvalidOperationException($"No benchmark matches '{only}'. Classes: {string.Join(", ", BenchmarkTypes.Select(t => t.Name))}.");
        }

        // One class at a time, the long compile benchmark last: each class's results are exported as soon as it
        // finishes, and a class that throws costs its own cases only.
        var passed = 0;
        var failed = 0;
        foreach (var run in runs.OrderBy(r => IsCompile(r.Type) ? 1 : 0).ThenBy(r => r.Type.Name, StringComparer.Ordinal))
        {
            BenchmarkFacts.Set($"run.class.{run.Type.Name}", DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", System.Globalization.CultureInfo.InvariantCulture));
            Summary summary;
            try
            {
                summary = BenchmarkRunner.Run(run);
            }
            catch (InvalidOperationException exception)
            {
                failed += run.BenchmarksCases.Length;
                Console.WriteLine($"[bench] FAILED: {run.Type.Name}: {exception.Message}");
                continue;
            }

            foreach (var benchmark in summary.BenchmarksCases)
            {
                var report = summary[benchmark];
                var ok = report is { Success: true } && (dry || report.ResultStatistics is not null) && !summary.HasCriticalValidationErrors;
                if (ok)
                {
                    passed++;
                }
                else
                {
                    failed++;
                    Console.WriteLine($"[bench] FAILED: {benchmark.DisplayInfo}");
                }
            }

            foreach (var error in summary.ValidationErrors)
            {
                Console.WriteLine($"[bench] validation: {error.Message}");
            }
        }

        return new Outcome(passed, failed, skipped);
    }

    private static bool IsCompile(Type type) => HasCategory(type, CompileCategory);

    private static bool HasCategory(Type type, string category)
        => type.GetCustomAttribute<BenchmarkCategoryAttribute>()?.Categories.Contains(category) == true;

    /// <summary>Whole classes in the needs-redis category, and the cases of other classes with a Redis parameter value.</summary>
    private static bool NeedsRedis(BenchmarkCase benchmark)
        => benchmark.Descriptor.Categories.Contains(NeedsRedisCategory)
           || benchmark.Parameters.Items.Any(parameter => parameter.Value is CacheLevel level && level != CacheLevel.Memory);

    public readonly record struct Outcome(int Passed, int Failed, int Skipped)
    {
        public string SkippedNote => Skipped > 0 ? $" ({Skipped} left out: no Redis)" : string.Empty;
    }
}
