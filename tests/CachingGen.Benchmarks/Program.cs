using CachingGen.Benchmarks.Infrastructure;
using CachingGen.Benchmarks.Report;

namespace CachingGen.Benchmarks;

/// <summary>
/// <code>
/// dotnet run -c Release --project tests/CachingGen.Benchmarks              # full run, then docs/benchmarks/README.md
/// dotnet run -c Release --project tests/CachingGen.Benchmarks -- --dry     # every benchmark once, the paired checks for a few tiny rounds, the profiles at a tiny scale (CI)
/// dotnet run -c Release --project tests/CachingGen.Benchmarks -- --report  # README.md + SVGs from the committed results
/// ... -- --only Serialization                                              # a full run of the classes whose name contains it
/// ... -- --except CompileTime                                              # a full run of the other classes
/// ... -- --report --results DIR                                            # the report from another artifacts folder
/// ... -- --profile-compile 50                                              # where compiling the generated code spends its time
/// ... -- --profile-generator                                             # an incremental generator run next to Roslyn's floor for the same edit
/// ... -- --profile-redis-miss 5                                           # read misses on Redis: hand-written vs generated, interleaved
/// ... -- --profile-allocations                                             # which types a read allocates
/// ... -- --profile-redis-hit                                               # a read hit's client CPU, issue and completion, on a stand-in connection
/// ... -- --paired                                                          # the decorator ratio with the two decorators interleaved
/// ... -- --paired-redis                                                    # the Redis read ratios with generated and hand-written interleaved (into the report)
/// ... -- --paired-serialization                                            # the serialization ratios with the serializers interleaved (into the report)
/// ... -- --paired-stampede                                                 # the stampede ratios with generated and each library interleaved (into the report)
/// </code>
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        var repository = RepositoryRoot.Find();
        var results = OptionValue(args, "--results") ?? Path.Combine(repository, "docs", "benchmarks", "results");
        var readme = Path.Combine(repository, "docs", "benchmarks");
        try
        {
            if (args.Contains("--report"))
            {
                ReportWriter.Write(results, readme, repository);
                return 0;
            }

            if (args.Contains("--profile-compile"))
            {
                Generator.CompileProfile.Run(int.Parse(OptionValue(args, "--profile-compile") ?? "50", System.Globalization.CultureInfo.InvariantCulture));
                return 0;
            }

            if (args.Contains("--profile-generator"))
            {
                Generator.GeneratorFloorProfile.Run(Generator.GeneratorBenchmarks.Interfaces);
                return 0;
            }

            if (!args.Contains("--dry"))
            {
                RequireJitCompiledFramework();
            }

            if (args.Contains("--paired-serialization"))
            {
                Serialization.PairedSerializationCheck.Run(Path.Combine(results, "results"));
                ReportWriter.Write(results, readme, repository);
                return 0;
            }

            if (args.Contains("--paired-redis"))
            {
                Redis.PairedRedisCheck.RunAsync(Path.Combine(results, "results")).GetAwaiter().GetResult();
                ReportWriter.Write(results, readme, repository);
                return 0;
            }

            if (args.Contains("--paired-stampede"))
            {
                Stampede.PairedStampedeCheck.RunAsync(Path.Combine(results, "results")).GetAwaiter().GetResult();
                ReportWriter.Write(results, readme, repository);
                return 0;
            }

            if (args.Contains("--paired"))
            {
                Decorators.PairedDecoratorCheck.RunAsync(Path.Combine(results, "results")).GetAwaiter().GetResult();
                ReportWriter.Write(results, readme, repository);
                return 0;
            }

            if (args.Contains("--profile-redis-miss"))
            {
                Redis.RedisMissProfile.RunAsync(double.Parse(OptionValue(args, "--profile-redis-miss") ?? "5", System.Globalization.CultureInfo.InvariantCulture)).GetAwaiter().GetResult();
                return 0;
            }

            if (args.Contains("--profile-redis-hit"))
            {
                Redis.RedisHitProfile.RunAsync().GetAwaiter().GetResult();
                return 0;
            }

            if (args.Contains("--profile-allocations"))
            {
                AllocationProfile.RunAsync().GetAwaiter().GetResult();
                return 0;
            }

            var only = OptionValue(args, "--only");
            var except = OptionValue(args, "--except");
            if (args.Contains("--dry"))
            {
                var dryArtifacts = Path.Combine(repository, ".artifacts", "benchmarks-dry");
                Generator.GeneratorBenchmarks.Interfaces = 50;
                var dryConfig = BenchmarkConfigs.Dry(dryArtifacts);
                var outcome = SuiteRunner.Run(dryConfig, dryConfig, dryConfig, only, except, dry: true);
                BenchmarkFacts.Write(Path.Combine(dryArtifacts, "results"));
                if (only is null && except is null)
                {
                    outcome = DryChecks.RunDry(Path.Combine(dryArtifacts, "results"), outcome);
                }

                Console.WriteLine($"[bench] dry run: {outcome.Passed} benchmark cases passed, {outcome.Failed} failed{outcome.SkippedNote}");
                return outcome.Failed == 0 && outcome.Passed > 0 ? 0 : 1;
            }

            if (only is null && except is null)
            {
                BenchmarkFacts.Set("run.startedUtc", DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", System.Globalization.CultureInfo.InvariantCulture));
            }

            if (RedisBenchmarkEnvironment.IsAvailable)
            {
                BenchmarkFacts.Set("run.redisVersion", RedisBenchmarkEnvironment.ServerVersion());
            }

            var full = SuiteRunner.Run(BenchmarkConfigs.Full(results), BenchmarkConfigs.FullHeavy(results), BenchmarkConfigs.FullCompile(results), only, except, dry: false);
            BenchmarkFacts.Write(Path.Combine(results, "results"), merge: only is not null || except is not null);
            Console.WriteLine($"[bench] full run: {full.Passed} benchmark cases measured, {full.Failed} failed{full.SkippedNote}");
            ReportWriter.Write(results, readme, repository);
            return full.Failed == 0 ? 0 : 1;
        }
        catch (Exception exception) when (exception is InvalidOperationException or IOException)
        {
            Console.Error.WriteLine("[bench] ERROR: " + exception.Message);
            return 1;
        }
    }

    /// <summary>
    /// Tiered compilation is off here (the project file says why), so each method runs the first code it gets. For
    /// the framework's methods that is their precompiled ReadyToRun code, which a tiered service replaces with
    /// optimized JIT code once it is hot; measured here, a UTF-8 string write took ~250 ns in it against ~50 ns
    /// JIT-compiled, a cost shared by every serializer that dwarfed the differences between them. With
    /// <c>DOTNET_ReadyToRun=0</c> (set by scripts/benchmarks.sh) the framework is JIT-compiled too.
    /// </summary>
    private static void RequireJitCompiledFramework()
    {
        if (JitCompiledFrameworkProblem(Environment.GetEnvironmentVariable("DOTNET_ReadyToRun")) is { } problem)
        {
            throw new InvalidOperationException(problem);
        }

        BenchmarkFacts.Set("run.frameworkCode", "JIT-compiled (DOTNET_ReadyToRun=0)");
    }

    /// <summary>Why a measured run must not start with this value of <c>DOTNET_ReadyToRun</c>, or null when it may:
    /// with tiered compilation off, the framework would keep its precompiled ReadyToRun code for the whole run, not
    /// the optimized JIT code a service runs once it is hot.</summary>
    public static string? JitCompiledFrameworkProblem(string? readyToRun) => readyToRun == "0"
        ? null
        : $"measured runs need DOTNET_ReadyToRun=0 (it is {(readyToRun is null ? "not set" : $"\"{readyToRun}\"")}): the framework's ReadyToRun code would otherwise be measured instead of optimized JIT code; run them through scripts/benchmarks.sh, which sets it.";

    private static string? OptionValue(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }
}

/// <summary>The repository root: the folder holding CachingGen.sln, above the current directory or the running assembly.</summary>
internal static class RepositoryRoot
{
    public static string Find()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "CachingGen.sln")))
                {
                    return directory.FullName;
                }
            }
        }

        throw new InvalidOperationException($"No CachingGen.sln above {AppContext.BaseDirectory}: run the benchmarks from the repository.");
    }
}
