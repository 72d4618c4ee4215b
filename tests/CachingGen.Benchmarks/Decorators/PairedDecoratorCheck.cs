using System.Globalization;
using CachingGen.Benchmarks.Infrastructure;

namespace CachingGen.Benchmarks.Decorators;

/// <summary>
/// <c>-- --paired</c>: the decorator-overhead ratio measured so that foreign load cancels out (see
/// <see cref="PairedRatio"/>): the generated and the hand-written decorator alternate in slices of 5,000 reads for a few
/// hundred rounds. Written to facts.json next to the BenchmarkDotNet results.
/// </summary>
public static class PairedDecoratorCheck
{
    private const int Rounds = 300;
    private const int ReadsPerSlice = 5_000;

    public static async Task RunAsync(string resultsDirectory)
    {
        var benchmarks = new DecoratorOverheadBenchmarks();
        benchmarks.Setup();
        var ratio = await PairedRatio.MeasureAsync(Slice(benchmarks.Generated), Slice(benchmarks.HandWritten), Rounds, warmupRounds: 20);
        benchmarks.Cleanup();
        BenchmarkFacts.Set("decorator.pairedRatio", ratio.Median.ToString("0.000", CultureInfo.InvariantCulture));
        BenchmarkFacts.Set("decorator.pairedRatioInterquartile", ratio.Interquartile);
        BenchmarkFacts.Set("decorator.pairedRounds", Rounds.ToString(CultureInfo.InvariantCulture));
        BenchmarkFacts.Write(resultsDirectory, merge: true);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[bench] paired decorator ratio (generated / hand-written): median {ratio.Median:0.000}, interquartile {ratio.Interquartile} over {Rounds} rounds"));
    }

    private static Func<ValueTask> Slice(Func<ValueTask<Entities.Preference?>> read) => async () =>
    {
        for (var i = 0; i < ReadsPerSlice; i++)
        {
            await read().ConfigureAwait(false);
        }
    };
}
