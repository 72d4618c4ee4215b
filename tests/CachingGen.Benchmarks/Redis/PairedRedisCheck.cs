using System.Diagnostics;
using System.Globalization;
using CachingGen.Benchmarks.Infrastructure;

namespace CachingGen.Benchmarks.Redis;

/// <summary>
/// <c>-- --paired-redis</c>: the generated decorator's Redis read ratio to the hand-written baseline, measured so that
/// foreign load cancels out. BenchmarkDotNet measures one row after the other, and on a shared machine a burst of load
/// (or the Redis server's own background work) can fall on one row only; the Callers=16 rows have carried ±15-20%
/// error here. The two contenders of <see cref="RedisReadBenchmarks"/> run the same invocations (16 reads each) in
/// alternating slices, for every outcome and caller count, and the ratio is the median of the per-round ratios.
/// Written to facts.json next to the BenchmarkDotNet results.
/// </summary>
public static class PairedRedisCheck
{
    private const int Rounds = 150;
    private const int InvocationsPerSlice = 50;

    public static async Task RunAsync(string resultsDirectory)
    {
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
                handWritten.SetupHandWritten();
                generated.SetupGenerated();
                try
                {
                    var (median, low, high) = await MeasureAsync(generated.Generated, handWritten.HandWritten).ConfigureAwait(false);
                    var group = string.Create(CultureInfo.InvariantCulture, $"Outcome={outcome}&Callers={callers}");
                    BenchmarkFacts.Set($"redis.paired.{group}.ratio", median.ToString("0.000", CultureInfo.InvariantCulture));
                    BenchmarkFacts.Set($"redis.paired.{group}.interquartile", string.Create(CultureInfo.InvariantCulture, $"{low:0.000}-{high:0.000}"));
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[bench] paired Redis ratio {group} (generated / hand-written): median {median:0.000}, interquartile {low:0.000}-{high:0.000} over {Rounds} rounds"));
                }
                finally
                {
                    generated.Cleanup();
                    handWritten.Cleanup();
                }
            }
        }

        BenchmarkFacts.Set("redis.paired.rounds", Rounds.ToString(CultureInfo.InvariantCulture));
        BenchmarkFacts.Set("redis.paired.readsPerSlice", (InvocationsPerSlice * RedisReadBenchmarks.Batch).ToString(CultureInfo.InvariantCulture));
        BenchmarkFacts.Write(resultsDirectory, merge: true);
    }

    private static async Task<(double Median, double Low, double High)> MeasureAsync(Func<Task> generated, Func<Task> handWritten)
    {
        var clock = new Stopwatch();
        for (var warmup = 0; warmup < 10; warmup++)
        {
            await SliceAsync(generated, clock).ConfigureAwait(false);
            await SliceAsync(handWritten, clock).ConfigureAwait(false);
        }

        var ratios = new double[Rounds];
        for (var round = 0; round < Rounds; round++)
        {
            // Alternate which goes first, so neither always follows the other.
            var first = round % 2 == 0;
            var generatedTime = first ? await SliceAsync(generated, clock).ConfigureAwait(false) : 0;
            var handWrittenTime = await SliceAsync(handWritten, clock).ConfigureAwait(false);
            if (!first)
            {
                generatedTime = await SliceAsync(generated, clock).ConfigureAwait(false);
            }

            ratios[round] = generatedTime / handWrittenTime;
        }

        Array.Sort(ratios);
        return (ratios[Rounds / 2], ratios[Rounds / 4], ratios[Rounds * 3 / 4]);
    }

    private static async Task<double> SliceAsync(Func<Task> invoke, Stopwatch clock)
    {
        clock.Restart();
        for (var i = 0; i < InvocationsPerSlice; i++)
        {
            await invoke().ConfigureAwait(false);
        }

        return clock.Elapsed.TotalMilliseconds;
    }
}
