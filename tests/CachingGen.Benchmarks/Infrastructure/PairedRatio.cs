using System.Diagnostics;
using System.Globalization;

namespace CachingGen.Benchmarks.Infrastructure;

/// <summary>
/// The time ratio of two contenders, measured so that foreign load cancels out. BenchmarkDotNet measures one row after
/// the other, so on a shared machine a burst of load can fall on one row only; here the two run in alternating slices,
/// and the ratio is the median of the per-round ratios, with its interquartile range. Each round also runs a control: a
/// second, separately set up instance of the baseline (its own connection and state, so that nothing it shares with the
/// baseline, such as a connection the baseline has just warmed, favours it). Its ratio to the baseline must read 1.00x,
/// or the check favours a position in the round and none of its ratios is a verdict (Report/GoalVerdict). The three
/// slices take turns at going first.
/// </summary>
public readonly record struct PairedRatio(double Median, double Low, double High, double IntervalLow, double IntervalHigh, double ControlMedian, double ControlLow, double ControlHigh)
{
    /// <summary>The interquartile range as written in the report, e.g. <c>1.041-1.174</c>.</summary>
    public string Interquartile => Range(Low, High);

    /// <summary>The median's 95% confidence interval (see <see cref="MedianInterval"/>), written like the interquartile range.</summary>
    public string Interval => Range(IntervalLow, IntervalHigh);

    /// <summary>The control's interquartile range.</summary>
    public string ControlInterquartile => Range(ControlLow, ControlHigh);

    /// <summary>Runs <paramref name="warmupRounds"/> unmeasured rounds, then <paramref name="rounds"/> measured ones;
    /// each round runs one slice of each of the three. The ratio is measured time over baseline time; the control is
    /// the control's time over the baseline's.</summary>
    public static async Task<PairedRatio> MeasureAsync(Func<ValueTask> measuredSlice, Func<ValueTask> baselineSlice, Func<ValueTask> controlSlice, int rounds, int warmupRounds)
    {
        var samples = await SampleAsync(measuredSlice, baselineSlice, controlSlice, rounds, warmupRounds).ConfigureAwait(false);
        return Of(samples.Ratios, samples.Controls);
    }

    /// <summary>The per-round ratios of <see cref="MeasureAsync"/>, unsummarised, so that several sessions' rounds can be
    /// pooled (<see cref="Pool"/>).</summary>
    public static async Task<PairedSamples> SampleAsync(Func<ValueTask> measuredSlice, Func<ValueTask> baselineSlice, Func<ValueTask> controlSlice, int rounds, int warmupRounds)
    {
        var slices = new[] { measuredSlice, baselineSlice, controlSlice };
        for (var warmup = 0; warmup < warmupRounds; warmup++)
        {
            foreach (var slice in slices)
            {
                await slice().ConfigureAwait(false);
            }
        }

        var ratios = new double[rounds];
        var controls = new double[rounds];
        var times = new double[3];
        for (var round = 0; round < rounds; round++)
        {
            // Slot 0 is the measured contender, 1 the baseline, 2 the control; the round starts at slot round % 3.
            for (var turn = 0; turn < 3; turn++)
            {
                var slot = (turn + round) % 3;
                times[slot] = await TimeAsync(slices[slot]).ConfigureAwait(false);
            }

            ratios[round] = times[0] / times[1];
            controls[round] = times[2] / times[1];
        }

        return new PairedSamples(ratios, controls);
    }

    /// <summary>The summary of every round of <paramref name="sessions"/> taken together (the arrays are left as they are).</summary>
    public static PairedRatio Pool(IReadOnlyList<PairedSamples> sessions)
        => Of(sessions.SelectMany(session => session.Ratios).ToArray(), sessions.SelectMany(session => session.Controls).ToArray());

    /// <summary>The median, quartiles and median interval of per-round <paramref name="ratios"/>, with those of the
    /// <paramref name="controls"/> of the same rounds. Sorts both arrays in place.</summary>
    public static PairedRatio Of(double[] ratios, double[] controls)
    {
        Array.Sort(ratios);
        Array.Sort(controls);
        var (intervalLow, intervalHigh) = MedianInterval(ratios);
        return new PairedRatio(
            ratios[ratios.Length / 2], ratios[ratios.Length / 4], ratios[ratios.Length * 3 / 4], intervalLow, intervalHigh,
            controls[controls.Length / 2], controls[controls.Length / 4], controls[controls.Length * 3 / 4]);
    }

    /// <summary>The same ratio read the other way round (baseline time over measured time: a speed-up), its ranges
    /// still written low-high; the control is left as it is.</summary>
    public PairedRatio Inverted() => this with { Median = 1 / Median, Low = 1 / High, High = 1 / Low, IntervalLow = 1 / IntervalHigh, IntervalHigh = 1 / IntervalLow };

    /// <summary>
    /// A distribution-free 95% confidence interval for the median of <paramref name="sorted"/> (ascending): the order
    /// statistics 1.96·√n/2 places either side of the middle (the normal approximation of the binomial count of values
    /// below the true median). It says how far the median could be from the ratio a longer run would converge to, so a
    /// median just on the right side of a goal is not taken for a verdict (Report/GoalVerdict).
    /// </summary>
    public static (double Low, double High) MedianInterval(double[] sorted)
    {
        var n = sorted.Length;
        var reach = 0.98 * Math.Sqrt(n);
        var low = Math.Clamp((int)Math.Floor((n / 2.0) - reach), 0, n - 1);
        var high = Math.Clamp((int)Math.Ceiling((n / 2.0) + reach), 0, n - 1);
        return (sorted[low], sorted[high]);
    }

    private static string Range(double low, double high) => string.Create(CultureInfo.InvariantCulture, $"{low:0.000}-{high:0.000}");

    private static async ValueTask<double> TimeAsync(Func<ValueTask> slice)
    {
        var start = Stopwatch.GetTimestamp();
        await slice().ConfigureAwait(false);
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }
}

/// <summary>The per-round time ratios of one session of a paired check (measured over baseline, control over baseline).</summary>
public readonly record struct PairedSamples(double[] Ratios, double[] Controls)
{
    /// <summary>The median of this session's ratios alone.</summary>
    public double Median => PairedRatio.Of((double[])Ratios.Clone(), (double[])Controls.Clone()).Median;
}

/// <summary>How long a paired check measures: rounds, operations per slice and unmeasured warm-up rounds, in each of
/// <paramref name="Sessions"/> sessions (where the check runs several). The dry scale (what CI runs) only proves the
/// check still runs end to end.</summary>
public readonly record struct PairedScale(int Rounds, int OperationsPerSlice, int WarmupRounds, int Sessions = 1)
{
    public static PairedScale Dry { get; } = new(Rounds: 4, OperationsPerSlice: 2, WarmupRounds: 1);
}
