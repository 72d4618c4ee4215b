using System.Globalization;
using CachingGen.Benchmarks.Infrastructure;

namespace CachingGen.Benchmarks.Stampede;

/// <summary>
/// <c>-- --paired-stampede</c>: the generated decorator's stampede time against each library's, measured so that foreign
/// load cancels out (see <see cref="PairedRatio"/>). BenchmarkDotNet times the contenders of <see cref="StampedeBenchmarks"/>
/// one after another, and all of them wait for the same ~1 ms load: the rows differ by the microseconds each spends on
/// the 1,000 callers around that wait, less than the load a shared machine puts on one row and not on the next (a rerun
/// of identical code moved the generated row from 1.00x to 1.04x of the faster library). Here the generated decorator and one library alternate in slices of a few stampedes, with a second
/// instance of that library as the control, for each store and each library, in several sessions
/// (<see cref="PairedSessions"/>). Written to facts.json next to the BenchmarkDotNet results.
/// </summary>
public static class PairedStampedeCheck
{
    /// <summary>The libraries the generated decorator is paired with: how each is set up and run on a
    /// <see cref="StampedeBenchmarks"/> instance.</summary>
    private static readonly LibraryContender[] LibraryContenders =
    [
        new("HybridCache", benchmarks => benchmarks.SetupHybridCache(), benchmarks => benchmarks.HybridCache),
        new("FusionCache", benchmarks => benchmarks.SetupFusionCache(), benchmarks => benchmarks.FusionCache),
    ];

    /// <summary>The names of the libraries the report looks up (see <see cref="Name"/>).</summary>
    public static IEnumerable<string> Libraries => LibraryContenders.Select(library => library.Name);

    private static readonly PairedScale Full = new(Rounds: 150, OperationsPerSlice: 5, WarmupRounds: 5, Sessions: 3);

    /// <summary>Two sessions, so CI runs the pooling too.</summary>
    private static readonly PairedScale Dry = PairedScale.Dry with { Sessions = 2 };

    /// <summary>The name of a group's facts, e.g. <c>Level=Memory&amp;Versus=HybridCache</c>.</summary>
    public static string Name(string level, string library) => $"Level={level}&Versus={library}";

    /// <param name="resultsDirectory">Where facts.json is merged.</param>
    /// <param name="dry">Runs a few tiny rounds only (CI), proving the check still runs.</param>
    public static async Task RunAsync(string resultsDirectory, bool dry = false)
    {
        var scale = dry ? Dry : Full;
        if (!RedisBenchmarkEnvironment.IsAvailable)
        {
            throw new InvalidOperationException("--paired-stampede needs CACHINGGEN_REDIS (the RedisWithLocal store): start Redis with `bash scripts/services.sh start-redis` and `eval \"$(bash scripts/services.sh env)\"`.");
        }

        var groups = (from level in new[] { CacheLevel.Memory, CacheLevel.RedisWithLocal } from library in LibraryContenders select (Name(level.ToString(), library.Name), (Level: level, Library: library))).ToArray();
        await PairedSessions.RunAsync("stampede", "stampede.paired", groups, (group, groupScale) => MeasureSessionAsync(group.Level, group.Library, groupScale), scale,
            group => $"generated / {group.Library.Name}", group => $"a second {group.Library.Name} / {group.Library.Name}").ConfigureAwait(false);
        BenchmarkFacts.Set("stampede.paired.stampedesPerSlice", scale.OperationsPerSlice.ToString(CultureInfo.InvariantCulture));
        BenchmarkFacts.Write(resultsDirectory, merge: true);
    }

    /// <summary>One session of one store and library: the generated decorator, the library and its control set up
    /// afresh, measured, cleaned up.</summary>
    private static async Task<PairedSamples> MeasureSessionAsync(CacheLevel level, LibraryContender library, PairedScale scale)
    {
        var generated = new StampedeBenchmarks { Level = level };
        var baseline = new StampedeBenchmarks { Level = level };
        var control = new StampedeBenchmarks { Level = level };
        generated.SetupGenerated();
        library.SetUp(baseline);
        library.SetUp(control);
        try
        {
            return await PairedRatio.SampleAsync(
                PairedSessions.Repeat(generated.Generated, scale.OperationsPerSlice), PairedSessions.Repeat(library.Run(baseline), scale.OperationsPerSlice), PairedSessions.Repeat(library.Run(control), scale.OperationsPerSlice),
                scale.Rounds, scale.WarmupRounds).ConfigureAwait(false);
        }
        finally
        {
            generated.Cleanup();
            baseline.Cleanup();
            control.Cleanup();
        }
    }

    /// <summary>A library's name, how it is set up on a <see cref="StampedeBenchmarks"/> instance, and its benchmark method there.</summary>
    private sealed record LibraryContender(string Name, Action<StampedeBenchmarks> SetUp, Func<StampedeBenchmarks, Func<Task>> Run);
}
