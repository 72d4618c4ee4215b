using System.Globalization;

namespace CachingGen.Benchmarks.Report;

/// <summary>
/// How the report's goals table turns a measured ratio into a verdict. Every ratio here is a time ratio that must stay
/// at or below its goal (a speed-up goal of 1.10x is a time goal of 1 / 1.10).
/// </summary>
/// <remarks>
/// The machine is shared, and even when nobody else is using it the same loop runs up to 40% slower for seconds at a
/// time (a fixed loop timed in 0.3 s slices on an idle machine here: 333-468 ms). BenchmarkDotNet measures the rows it
/// compares one after another, so such a burst can fall on one row only: a sequential ratio that misses its goal by
/// less than the noise measured in the same run is no verdict either way. The interleaved checks alternate the
/// contenders in short slices, so the bursts fall on all of them; they carry a control (a second instance of the
/// baseline), which must read 1.00x within <see cref="ControlTolerance"/> for their ratio to count, and a median whose
/// 95% interval includes the goal is no verdict either.
/// </remarks>
public static class GoalVerdict
{
    /// <summary>How far an interleaved control (a second instance of the baseline, timed against the first) may stray
    /// from 1.00x before the check is considered biased, e.g. by an order effect, and its ratio no verdict.</summary>
    public const double ControlTolerance = 0.03;

    public static string Met(bool? met) => met switch
    {
        true => "yes",
        false => "**no**",
        null => "—",
    };

    /// <summary>
    /// The noise of a sequential (BenchmarkDotNet) ratio: the larger scatter of the rows it compares, or, where the run
    /// measured its baseline a second time at the end of the group, how far the two measurements of that identical code
    /// differ when that is more (load that lasts a whole row does not show in the row's own scatter).
    /// </summary>
    /// <param name="rows">The scatters (standard deviation over mean) of the compared rows; nulls are ignored.</param>
    /// <param name="repeatedBaselineRatio">The baseline measured again, as a time ratio to the first measurement.</param>
    public static double? SequentialNoise(IEnumerable<double?> rows, double? repeatedBaselineRatio = null)
    {
        var noises = rows.Append(repeatedBaselineRatio is { } again ? Math.Abs(again - 1.0) : null).Where(noise => noise is not null).ToList();
        return noises.Count == 0 ? null : noises.Max();
    }

    /// <summary>
    /// The verdict on a sequential time ratio: yes when it is at or below <paramref name="goal"/>; "within noise" when it
    /// is above by less than <paramref name="noise"/> (relative), so the measurement cannot tell; no otherwise, or when
    /// <paramref name="otherwiseMet"/> (the goal's other conditions, such as same bytes or no more allocation) is false.
    /// </summary>
    public static string ForSequentialRatio(bool otherwiseMet, double? ratio, double goal, double? noise) => (otherwiseMet, ratio) switch
    {
        (_, null) => Met(null),
        (false, _) => Met(false),
        (true, { } r) when r <= goal => Met(true),
        (true, { } r) when noise is { } n && r / goal - 1.0 <= n =>
            string.Create(CultureInfo.InvariantCulture, $"within noise (±{n * 100:0.#}% here; {(r / goal - 1.0) * 100:0.0}% off the goal)"),
        _ => Met(false),
    };

    /// <summary>
    /// The verdict on an interleaved time ratio (a median of per-round ratios): yes when it is at or below
    /// <paramref name="goal"/> and <paramref name="otherwiseMet"/>; no otherwise. Where the check recorded the median's
    /// 95% interval and the goal lies inside it, the median is on one side of the goal by less than the run can resolve:
    /// "within noise", no verdict either way. When the check ran a control and the control strayed from 1.00x by more
    /// than <see cref="ControlTolerance"/>, the check itself is biased and its ratio is no verdict either. Where the check
    /// ran several sessions and their medians fall on both sides of the goal, the run-to-run drift is larger than the
    /// distance to the goal: "within noise" as well.
    /// </summary>
    /// <param name="interval">The median's 95% interval, as time ratios (low, high), if recorded.</param>
    /// <param name="controlRatio">The control's time over the baseline's in the same rounds (median), if run.</param>
    /// <param name="sessionMedians">Each session's own median, as time ratios, if the check ran sessions.</param>
    public static string ForInterleavedRatio(bool otherwiseMet, double ratio, double goal, double? controlRatio = null, (double Low, double High)? interval = null, IReadOnlyList<double>? sessionMedians = null)
    {
        // Rounded to the facts' three decimals, so that a control recorded as exactly 1.030 is inside the tolerance.
        if (controlRatio is { } control && Math.Round(Math.Abs(control - 1.0), 3) > ControlTolerance)
        {
            return string.Create(CultureInfo.InvariantCulture, $"no verdict (the control read {control:0.000}x, more than ±{ControlTolerance * 100:0}% off 1.00x)");
        }

        if (!otherwiseMet)
        {
            return Met(false);
        }

        if (sessionMedians is { Count: > 1 } medians && medians.Min() <= goal && goal < medians.Max())
        {
            return string.Create(CultureInfo.InvariantCulture, $"within noise (the median is {(ratio / goal - 1.0) * 100:+0.0;-0.0}% off the goal, and the sessions' medians, {medians.Min():0.000} to {medians.Max():0.000}, fall on both sides of it)");
        }

        if (interval is { } range && range.Low <= goal && goal < range.High)
        {
            return string.Create(CultureInfo.InvariantCulture, $"within noise (the median is {(ratio / goal - 1.0) * 100:+0.0;-0.0}% off the goal, and its 95% interval includes the goal)");
        }

        return Met(ratio <= goal);
    }

    /// <summary>Reads the numbers the facts hold separated by spaces (e.g. <c>1.066 1.074 1.116</c>); null when absent.</summary>
    public static IReadOnlyList<double>? ParseList(string? list)
        => list?.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(number => double.Parse(number, CultureInfo.InvariantCulture)).ToArray();

    /// <summary>Reads a range the facts hold as <c>low-high</c> (e.g. <c>1.041-1.174</c>); null when absent.</summary>
    public static (double Low, double High)? ParseRange(string? range)
    {
        if (range is null || range.Split('-') is not [var low, var high])
        {
            return null;
        }

        return (double.Parse(low, CultureInfo.InvariantCulture), double.Parse(high, CultureInfo.InvariantCulture));
    }
}
