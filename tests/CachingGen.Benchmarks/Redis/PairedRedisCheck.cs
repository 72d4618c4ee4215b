using System.Globalization;
using CachingGen.Benchmarks.Infrastructure;

namespace CachingGen.Benchmarks.Redis;

/// <summary>
/// <c>-- --paired-redis</c>: the generated decorator's Redis read ratio to the hand-written baseline, measured so that
/// foreign load cancels out (see <see cref="PairedRatio"/>; the BenchmarkDotNet Callers=16 rows have carried ±15-20%
/// error here). The two contenders of <see cref="RedisReadBenchmarks"/> run the same invocations (16 reads each) in
/// alternating slices, for every outcome and caller count.
/// Written to facts.json next to the BenchmarkDotNet results.
/// </summary>
public static class PairedRedisCheck
{
    private static readonly PairedScale Full = new(Rounds: 150, OperationsPerSlice: 50, WarmupRounds: 10);

    /// <param name="resultsDirectory">Where facts.json is merged.</param>
    /// <param name="dry">Runs a few tiny rounds only (CI), proving the check still runs.</param>
    public static async Task RunAsync(string resultsDirectory, bool dry = false)
    {
        var scale = dry ? PairedScale.Dry : Full;
        if (!RedisBenchmarkEnvironment.IsAvailable)
        {
            throw new InvalidOperationException("--paired-redis needs CACHINGGEN_REDIS: start Redis with `bash scripts/services.sh start-redis` and `eval \"$(bash scripts/services.sh env)\"`.");
        }

        foreach (var outcome in new[] { ReadOutcome.Hit, ReadOutcome.Miss })
        {
            foreach (var callers in new[] { 1, 16 })
            {
                var handWritten = new RedisReadBenchmarks { Outcome = outcome, Callers = callers };
                var generated = new RedisReadBenchmarks { Outcome = outcome, Callers = callers };
                var control = new RedisReadBenchmarks { Outcome = outcome, Callers = callers };
                handWritten.SetupHandWritten();
                generated.SetupGenerated();
                control.SetupHandWritten();
                try
                {
                    var ratio = await PairedRatio.MeasureAsync(
                        Slice(generated.Generated, scale.OperationsPerSlice), Slice(handWritten.HandWritten, scale.OperationsPerSlice), Slice(control.HandWritten, scale.OperationsPerSlice),
                        scale.Rounds, scale.WarmupRounds).ConfigureAwait(false);
                    var group = string.Create(CultureInfo.InvariantCulture, $"Outcome={outcome}&Callers={callers}");
                    BenchmarkFacts.Set($"redis.paired.{group}.ratio", ratio.Median.ToString("0.000", CultureInfo.InvariantCulture));
                    BenchmarkFacts.Set($"redis.paired.{group}.interquartile", ratio.Interquartile);
                    BenchmarkFacts.Set($"redis.paired.{group}.interval", ratio.Interval);
                    BenchmarkFacts.Set($"redis.paired.{group}.control", ratio.ControlMedian.ToString("0.000", CultureInfo.InvariantCulture));
                    BenchmarkFacts.Set($"redis.paired.{group}.controlInterquartile", ratio.ControlInterquartile);
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[bench] paired Redis ratio {group} (generated / hand-written): median {ratio.Median:0.000}, interquartile {ratio.Interquartile} over {scale.Rounds} rounds; control (a second hand-written / hand-written) {ratio.ControlMedian:0.000}"));
                }
                finally
                {
                    generated.Cleanup();
                    handWritten.Cleanup();
                    control.Cleanup();
                }
            }
        }

        BenchmarkFacts.Set("redis.paired.rounds", scale.Rounds.ToString(CultureInfo.InvariantCulture));
        BenchmarkFacts.Set("redis.paired.readsPerSlice", (scale.OperationsPerSlice * RedisReadBenchmarks.Batch).ToString(CultureInfo.InvariantCulture));
        BenchmarkFacts.Write(resultsDirectory, merge: true);
    }

    private static Func<ValueTask> Slice(Func<Task> invoke, int invocations) => async () =>
    {
        for (var i = 0; i < invocations; i++)
        {
            await invoke().ConfigureAwait(false);
        }
    };
}
