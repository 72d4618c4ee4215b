using System.Diagnostics;
using System.Globalization;

namespace CachingGen.Benchmarks.Infrastructure;

/// <summary>
/// The time ratio of two contenders, measured so that foreign load cancels out. BenchmarkDotNet measures one row after
/// the other, so on a shared machine a burst of load can fall on one row only; here the two run in alternating slices
/// (which one goes first alternates too, so neither always follows the other), and the ratio is the median of the
/// per-round ratios, with its interquartile range.
/// </summary>
public readonly record struct PairedRatio(double Median, double Low, double High)
{
    /// <summary>The interquartile range as written in the report, e.g. <c>1.041-1.174</c>.</summary>
    public string Interquartile => string.Create(CultureInfo.InvariantCulture, $"{Low:0.000}-{High:0.000}");

    /// <summary>Runs <paramref name="warmupRounds"/> unmeasured rounds, then <paramref name="rounds"/> measured ones;
    /// each round runs one slice of each contender. The ratio is measured time over baseline time.</summary>
    public static async Task<PairedRatio> MeasureAsync(Func<ValueTask> measuredSlice, Func<ValueTask> baselineSlice, int rounds, int warmupRounds)
    {
        for (var warmup = 0; warmup < warmupRounds; warmup++)
        {
            await measuredSlice().ConfigureAwait(false);
            await baselineSlice().ConfigureAwait(false);
        }

        var ratios = new double[rounds];
        for (var round = 0; round < rounds; round++)
        {
            var measuredFirst = round % 2 == 0;
            var measured = measuredFirst ? await TimeAsync(measuredSlice).ConfigureAwait(false) : 0;
            var baseline = await TimeAsync(baselineSlice).ConfigureAwait(false);
            if (!measuredFirst)
            {
                measured = await TimeAsync(measuredSlice).ConfigureAwait(false);
            }

            ratios[round] = measured / baseline;
        }

        Array.Sort(ratios);
        return new PairedRatio(ratios[rounds / 2], ratios[rounds / 4], ratios[rounds * 3 / 4]);
    }

    private static async ValueTask<double> TimeAsync(Func<ValueTask> slice)
    {
        var start = Stopwatch.GetTimestamp();
        await slice().ConfigureAwait(false);
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }
}

/// <summary>How long a paired check measures: rounds, operations per slice and unmeasured warm-up rounds. The dry
/// scale (what CI runs) only proves the check still runs end to end.</summary>
public readonly record struct PairedScale(int Rounds, int OperationsPerSlice, int WarmupRounds)
{
    public static PairedScale Dry { get; } = new(Rounds: 4, OperationsPerSlice: 2, WarmupRounds: 1);
}
