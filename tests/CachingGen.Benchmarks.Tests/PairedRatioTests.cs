using CachingGen.Benchmarks.Infrastructure;

namespace CachingGen.Benchmarks.Tests;

/// <summary>The interleaved checks: the median's interval, and the rotation that gives no slice a fixed place.</summary>
public sealed class PairedRatioTests
{
    [Fact]
    public void The_median_interval_of_a_hundred_rounds_spans_the_middle_fifth()
    {
        // 1.96·√100/2 = 9.8 places either side of the middle (50): the 40th and the 60th value.
        var sorted = Enumerable.Range(0, 100).Select(i => (double)i).ToArray();
        Assert.Equal((40.0, 60.0), PairedRatio.MedianInterval(sorted));
    }

    [Fact]
    public void The_median_interval_narrows_with_more_rounds_and_stays_inside_tiny_runs()
    {
        var many = Enumerable.Range(0, 10_000).Select(i => i / 10_000.0).ToArray();
        var (low, high) = PairedRatio.MedianInterval(many);
        Assert.InRange(high - low, 0.018, 0.022);
        Assert.Equal((1.0, 4.0), PairedRatio.MedianInterval([1.0, 2.0, 3.0, 4.0]));
        Assert.Equal((7.0, 7.0), PairedRatio.MedianInterval([7.0]));
    }

    [Fact]
    public void A_summary_reads_the_middle_and_the_quartiles_and_inverts_to_a_speed_up()
    {
        var ratio = PairedRatio.Of([0.8, 0.5, 1.0, 0.625], [1.0, 1.02, 0.98, 1.0]);
        Assert.Equal((0.8, 0.625, 1.0), (ratio.Median, ratio.Low, ratio.High));
        Assert.Equal("0.625-1.000", ratio.Interquartile);
        Assert.Equal((1.0, "1.000-1.020"), (ratio.ControlMedian, ratio.ControlInterquartile));

        var speedup = ratio.Inverted();
        Assert.Equal("1.000-1.600", speedup.Interquartile);
        Assert.Equal("1.000-2.000", speedup.Interval);
        Assert.Equal(1.25, speedup.Median, precision: 10);
        Assert.Equal(ratio.ControlMedian, speedup.ControlMedian);
    }

    [Fact]
    public void Sessions_pool_their_rounds_and_keep_their_own_medians()
    {
        var first = new PairedSamples([1.10, 1.00, 1.05], [1.0, 1.0, 1.0]);
        var second = new PairedSamples([1.20, 1.30, 1.25], [0.9, 1.1, 1.0]);
        Assert.Equal((1.05, 1.25), (first.Median, second.Median));

        var pooled = PairedRatio.Pool([first, second]);
        Assert.Equal(1.20, pooled.Median);
        Assert.Equal("1.050-1.250", pooled.Interquartile);
        Assert.Equal(1.0, pooled.ControlMedian);

        // Neither the medians nor the pooling reorder a session's own rounds.
        Assert.Equal([1.10, 1.00, 1.05], first.Ratios);
    }

    [Fact]
    public async Task Each_slice_goes_first_in_a_third_of_the_rounds_and_runs_once_per_round()
    {
        // Not timed (this machine's timings are the benchmarks' business): the order the three slices ran in.
        var order = new List<char>();
        Func<ValueTask> Slice(char name) => () =>
        {
            order.Add(name);
            return ValueTask.CompletedTask;
        };

        await PairedRatio.MeasureAsync(Slice('M'), Slice('B'), Slice('C'), rounds: 6, warmupRounds: 1);
        var rounds = order.Chunk(3).Skip(1).Select(round => new string(round)).ToList();
        Assert.Equal(["MBC", "BCM", "CMB", "MBC", "BCM", "CMB"], rounds);
    }

    [Fact]
    public async Task Paired_sessions_record_each_groups_pooled_ratio_and_its_sessions_medians()
    {
        // Session n of a group answers the rounds below (n = 0, 1): the facts hold the pooled summary and each median.
        var rounds = new Dictionary<string, PairedSamples[]>
        {
            ["A"] = [new([1.10, 1.00, 1.05], [1.0, 1.0, 1.0]), new([1.20, 1.30, 1.25], [0.9, 1.1, 1.0])],
            ["B"] = [new([0.50, 0.60, 0.55], [1.0, 1.0, 1.0]), new([0.70, 0.80, 0.75], [1.0, 1.0, 1.0])],
        };
        var measured = new Dictionary<string, int> { ["A"] = 0, ["B"] = 0 };
        var prefix = "test.paired." + Guid.NewGuid().ToString("N");

        await PairedSessions.RunAsync("test", prefix, [("A", "A"), ("B", "B")], (group, _) => Task.FromResult(rounds[group][measured[group]++]),
            new PairedScale(Rounds: 3, OperationsPerSlice: 1, WarmupRounds: 0, Sessions: 2), group => $"{group} / baseline", group => $"{group} again / baseline");

        var directory = Path.Combine(Path.GetTempPath(), prefix);
        try
        {
            BenchmarkFacts.Write(directory);
            var facts = BenchmarkFacts.Read(directory);
            Assert.Equal((2, 2), (measured["A"], measured["B"]));
            Assert.Equal(("1.200", "1.050-1.250", "1.000"), (facts[$"{prefix}.A.ratio"], facts[$"{prefix}.A.interquartile"], facts[$"{prefix}.A.control"]));
            Assert.Equal("1.050 1.250", facts[$"{prefix}.A.sessionMedians"]);
            Assert.Equal(("0.700", "0.550 0.750"), (facts[$"{prefix}.B.ratio"], facts[$"{prefix}.B.sessionMedians"]));
            Assert.Equal(("3", "2"), (facts[$"{prefix}.rounds"], facts[$"{prefix}.sessions"]));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
