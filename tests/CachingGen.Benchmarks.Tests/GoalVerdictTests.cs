using CachingGen.Benchmarks.Report;

namespace CachingGen.Benchmarks.Tests;

/// <summary>The verdicts of docs/benchmarks/README.md's goals table: a ratio that meets its goal, one that misses it by
/// less than the run's own noise (no verdict either way), one that misses it beyond, and an interleaved check whose
/// control says the check itself is biased.</summary>
public sealed class GoalVerdictTests
{
    [Theory]
    [InlineData(1.00, "yes")]
    [InlineData(1.15, "yes")]
    [InlineData(1.1501, "within noise (±10% here; 0.0% off the goal)")]
    [InlineData(1.25, "within noise (±10% here; 8.7% off the goal)")]
    [InlineData(1.27, "**no**")]
    public void A_sequential_ratio_is_a_verdict_only_beyond_the_noise_of_its_run(double ratio, string verdict)
    {
        Assert.Equal(verdict, GoalVerdict.ForSequentialRatio(otherwiseMet: true, ratio, goal: 1.15, noise: 0.10));
    }

    [Fact]
    public void A_sequential_ratio_without_a_noise_figure_is_met_or_not()
    {
        Assert.Equal("**no**", GoalVerdict.ForSequentialRatio(otherwiseMet: true, 1.16, goal: 1.15, noise: null));
        Assert.Equal("yes", GoalVerdict.ForSequentialRatio(otherwiseMet: true, 1.14, goal: 1.15, noise: null));
    }

    [Fact]
    public void A_goal_whose_other_conditions_fail_is_not_met_however_fast()
    {
        // Different bytes on the wire, or more allocation: no amount of speed or noise makes that a pass.
        Assert.Equal("**no**", GoalVerdict.ForSequentialRatio(otherwiseMet: false, 0.5, goal: 1.0, noise: 0.2));
        Assert.Equal("**no**", GoalVerdict.ForInterleavedRatio(otherwiseMet: false, 0.5, goal: 1.0, controlRatio: 1.0));
    }

    [Fact]
    public void A_ratio_that_was_not_measured_has_no_verdict()
    {
        Assert.Equal("—", GoalVerdict.ForSequentialRatio(otherwiseMet: true, null, goal: 1.0, noise: 0.1));
        Assert.Equal("—", GoalVerdict.ForSequentialRatio(otherwiseMet: false, null, goal: 1.0, noise: 0.1));
    }

    [Fact]
    public void The_noise_of_a_run_is_the_larger_of_the_rows_scatter_and_the_drift_of_the_repeated_baseline()
    {
        Assert.Equal(0.12, GoalVerdict.SequentialNoise([0.05, 0.12, null])!.Value, precision: 10);
        // Identical code measured twice, 20% apart: load that lasted a whole row, which no row's scatter shows.
        Assert.Equal(0.20, GoalVerdict.SequentialNoise([0.05, 0.12], repeatedBaselineRatio: 1.20)!.Value, precision: 10);
        Assert.Equal(0.20, GoalVerdict.SequentialNoise([0.05, 0.12], repeatedBaselineRatio: 0.80)!.Value, precision: 10);
        Assert.Equal(0.12, GoalVerdict.SequentialNoise([0.05, 0.12], repeatedBaselineRatio: 1.01)!.Value, precision: 10);
        Assert.Null(GoalVerdict.SequentialNoise([null, null]));
        Assert.Equal(0.07, GoalVerdict.SequentialNoise([null], repeatedBaselineRatio: 0.93)!.Value, precision: 10);
    }

    [Fact]
    public void A_miss_that_only_the_repeated_baseline_explains_reads_within_noise()
    {
        // NestedRecord as BenchmarkDotNet measured it on a quiet machine: 0.85x as fast against a 1.10x goal, the rows'
        // own scatter ±9%, StandardResolver measured again 1.30x of itself.
        var ratio = 1.10 / 0.85;
        Assert.Equal("**no**", GoalVerdict.ForSequentialRatio(true, ratio, 1.0, GoalVerdict.SequentialNoise([0.09, 0.07])));
        Assert.StartsWith("within noise (±30% here;", GoalVerdict.ForSequentialRatio(true, ratio, 1.0, GoalVerdict.SequentialNoise([0.09, 0.07], 1.30)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0.85, 1.00, "yes")]
    [InlineData(0.92, 1.00, "**no**")]
    [InlineData(0.85, 1.03, "yes")]
    [InlineData(0.85, 0.97, "yes")]
    [InlineData(0.85, 1.031, "no verdict (the control read 1.031x, more than ±3% off 1.00x)")]
    [InlineData(0.92, 0.95, "no verdict (the control read 0.950x, more than ±3% off 1.00x)")]
    public void An_interleaved_ratio_counts_only_when_its_control_reads_one(double ratio, double control, string verdict)
    {
        Assert.Equal(verdict, GoalVerdict.ForInterleavedRatio(otherwiseMet: true, ratio, goal: 1 / 1.10, controlRatio: control));
    }

    [Theory]
    [InlineData(1.05, 1.04, 1.07, "yes")]
    [InlineData(1.096, 1.08, 1.11, "within noise (the median is -0.4% off the goal, and its 95% interval includes the goal)")]
    [InlineData(1.107, 1.09, 1.12, "within noise (the median is +0.6% off the goal, and its 95% interval includes the goal)")]
    [InlineData(1.13, 1.11, 1.15, "**no**")]
    public void An_interleaved_median_closer_to_the_goal_than_its_interval_is_no_verdict(double ratio, double low, double high, string verdict)
    {
        Assert.Equal(verdict, GoalVerdict.ForInterleavedRatio(otherwiseMet: true, ratio, goal: 1.10, controlRatio: 1.0, interval: (low, high)));
    }

    [Fact]
    public void A_biased_control_or_a_failed_condition_outranks_the_interval()
    {
        Assert.StartsWith("no verdict (the control read 1.050x", GoalVerdict.ForInterleavedRatio(true, 1.096, 1.10, 1.05, (1.08, 1.11)), StringComparison.Ordinal);
        Assert.Equal("**no**", GoalVerdict.ForInterleavedRatio(false, 1.096, 1.10, 1.0, (1.08, 1.11)));
    }

    [Theory]
    [InlineData("1.066 1.074 1.085", "yes")]
    [InlineData("1.066 1.074 1.116", "within noise (the median is -2.4% off the goal, and the sessions' medians, 1.066 to 1.116, fall on both sides of it)")]
    [InlineData("1.116", "yes")]
    public void Sessions_whose_medians_straddle_the_goal_are_no_verdict(string medians, string verdict)
    {
        // The pooled median and its interval are under the goal in every case: only the sessions tell them apart (one
        // session alone says nothing about the drift between sessions).
        Assert.Equal(verdict, GoalVerdict.ForInterleavedRatio(otherwiseMet: true, 1.074, goal: 1.10, controlRatio: 1.0, interval: (1.06, 1.09), GoalVerdict.ParseList(medians)));
    }

    [Fact]
    public void Sessions_all_over_the_goal_are_a_miss()
    {
        Assert.Equal("**no**", GoalVerdict.ForInterleavedRatio(otherwiseMet: true, 1.108, goal: 1.10, controlRatio: 1.0, interval: (1.102, 1.114), [1.101, 1.116]));
    }

    [Fact]
    public void Ranges_and_lists_are_read_back_from_the_facts()
    {
        Assert.Equal((1.041, 1.174), GoalVerdict.ParseRange("1.041-1.174"));
        Assert.Null(GoalVerdict.ParseRange(null));
        Assert.Null(GoalVerdict.ParseRange("1.041"));
        Assert.Equal([1.066, 1.074, 1.116], GoalVerdict.ParseList("1.066 1.074 1.116"));
        Assert.Null(GoalVerdict.ParseList(null));
    }

    [Fact]
    public void An_interleaved_check_without_a_control_is_judged_on_its_ratio()
    {
        Assert.Equal("yes", GoalVerdict.ForInterleavedRatio(otherwiseMet: true, 1.10, goal: 1.10));
        Assert.Equal("**no**", GoalVerdict.ForInterleavedRatio(otherwiseMet: true, 1.11, goal: 1.10));
    }
}
