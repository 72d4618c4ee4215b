using System.Diagnostics;
using System.Globalization;
using CachingGen.Benchmarks.Infrastructure;

namespace CachingGen.Benchmarks.Decorators;

/// <summary>
/// <c>-- --paired</c>: the decorator-overhead ratio measured so that foreign load cancels out. BenchmarkDotNet runs one
/// row after the other, so on a shared machine a burst of load can fall on one row only; here the generated and the
/// hand-written decorator alternate in short slices (each ~5,000 reads) for a few hundred rounds, and the ratio is the
/// median of the per-round ratios. Written to facts.json next to the BenchmarkDotNet results.
/// </summary>
public static class PairedDecoratorCheck
{
    private const int Rounds = 300;
    private const int ReadsPerSlice = 5_000;

    public static async Task RunAsync(string resultsDirectory)
    {
        var benchmarks = new DecoratorOverheadBenchmarks();
        benchmarks.Setup();
        var ratios = new double[Rounds];
        var clock = new Stopwatch();
        for (var warmup = 0; warmup < 20; warmup++)
        {
            await SliceAsync(benchmarks.Generated, clock);
            await SliceAsync(benchmarks.HandWritten, clock);
        }

        for (var round = 0; round < Rounds; round++)
        {
            // Alternate which goes first, so neither always follows the other.
            var first = round % 2 == 0;
            var generated = first ? await SliceAsync(benchmarks.Generated, clock) : 0;
            var handWritten = await SliceAsync(benchmarks.HandWritten, clock);
            if (!first)
            {
                generated = await SliceAsync(benchmarks.Generated, clock);
            }

            ratios[round] = generated / handWritten;
        }

        benchmarks.Cleanup();
        Array.Sort(ratios);
        var median = ratios[Rounds / 2];
        var low = ratios[Rounds / 4];
        var high = ratios[Rounds * 3 / 4];
        BenchmarkFacts.Set("decorator.pairedRatio", median.ToString("0.000", CultureInfo.InvariantCulture));
        BenchmarkFacts.Set("decorator.pairedRatioInterquartile", string.Create(CultureInfo.InvariantCulture, $"{low:0.000}-{high:0.000}"));
        BenchmarkFacts.Set("decorator.pairedRounds", Rounds.ToString(CultureInfo.InvariantCulture));
        BenchmarkFacts.Write(resultsDirectory, merge: true);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[bench] paired decorator ratio (generated / hand-written): median {median:0.000}, interquartile {low:0.000}-{high:0.000} over {Rounds} rounds"));
    }

    private static async ValueTask<double> SliceAsync(Func<ValueTask<Entities.Preference?>> read, Stopwatch clock)
    {
        clock.Restart();
        for (var i = 0; i < ReadsPerSlice; i++)
        {
            await read().ConfigureAwait(false);
        }

        return clock.Elapsed.TotalMilliseconds;
    }
}
