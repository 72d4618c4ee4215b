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
    private static readonly PairedScale Full = new(Rounds: 300, OperationsPerSlice: 5_000, WarmupRounds: 20);

    public static async Task RunAsync(string resultsDirectory, bool dry = false)
    {
        var scale = dry ? PairedScale.Dry : Full;
        var benchmarks = new DecoratorOverheadBenchmarks();
        var control = new DecoratorOverheadBenchmarks();
        benchmarks.Setup();
        control.Setup();
        var ratio = await PairedRatio.MeasureAsync(
            Slice(benchmarks.Generated, scale.OperationsPerSlice), Slice(benchmarks.HandWritten, scale.OperationsPerSlice), Slice(control.HandWritten, scale.OperationsPerSlice),
            scale.Rounds, scale.WarmupRounds);
        benchmarks.Cleanup();
        control.Cleanup();
        BenchmarkFacts.Set("decorator.pairedRatio", ratio.Median.ToString("0.000", CultureInfo.InvariantCulture));
        BenchmarkFacts.Set("decorator.pairedRatioInterquartile", ratio.Interquartile);
        BenchmarkFacts.Set("decorator.pairedRatioInterval", ratio.Interval);
        BenchmarkFacts.Set("decorator.pairedControl", ratio.ControlMedian.ToString("0.000", CultureInfo.InvariantCulture));
        BenchmarkFacts.Set("decorator.pairedControlInterquartile", ratio.ControlInterquartile);
        BenchmarkFacts.Set("decorator.pairedRounds", scale.Rounds.ToString(CultureInfo.InvariantCulture));
        BenchmarkFacts.Write(resultsDirectory, merge: true);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[bench] paired decorator ratio (generated / hand-written): median {ratio.Median:0.000}, interquartile {ratio.Interquartile} over {scale.Rounds} rounds; control (a second hand-written / hand-written) {ratio.ControlMedian:0.000}"));
    }

    private static Func<ValueTask> Slice(Func<ValueTask<Entities.Preference?>> read, int reads) => async () =>
    {
        for (var i = 0; i < reads; i++)
        {
            await read().ConfigureAwait(false);
        }
    };
}
