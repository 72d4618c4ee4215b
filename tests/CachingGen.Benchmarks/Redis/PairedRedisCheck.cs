using System.Globalization;
using CachingGen.Benchmarks.Infrastructure;

namespace CachingGen.Benchmarks.Redis;

/// <summary>
/// <c>-- --paired-redis</c>: the generated decorator's Redis read ratio to the hand-written baseline, measured so that
/// foreign load cancels out (see <see cref="PairedRatio"/>; the BenchmarkDotNet Callers=16 rows have carried ±15-20%
/// error here). The two contenders of <see cref="RedisReadBenchmarks"/> run the same invocations (16 reads each) in
/// alternating slices, for every outcome and caller count.
/// </summary>
/// <remarks>
/// One session's median moves between runs by more than its own 95% interval says (16-caller hits, 600 rounds each,
/// minutes apart: 1.066 to 1.116): the thread pool and the connections settle differently each time, and a slice
/// cannot cancel that out. So the check runs <see cref="PairedScale.Sessions"/> sessions, each with every outcome and
/// caller count set up afresh, a few minutes apart; the report's ratio is the median of all their rounds, and a goal
/// between the sessions' medians is no verdict (Report/GoalVerdict). Written to facts.json next to the
/// BenchmarkDotNet results.
/// </remarks>
public static class PairedRedisCheck
{
    private static readonly PairedScale Full = new(Rounds: 150, OperationsPerSlice: 50, WarmupRounds: 10, Sessions: 3);

    /// <summary>Two sessions, so CI runs the pooling too.</summary>
    private static readonly PairedScale Dry = PairedScale.Dry with { Sessions = 2 };

    /// <param name="resultsDirectory">Where facts.json is merged.</param>
    /// <param name="dry">Runs a few tiny rounds only (CI), proving the check still runs.</param>
    public static async Task RunAsync(string resultsDirectory, bool dry = false)
    {
        var scale = dry ? Dry : Full;
        if (!RedisBenchmarkEnvironment.IsAvailable)
        {
            throw new InvalidOperationException("--paired-redis needs CACHINGGEN_REDIS: start Redis with `bash scripts/services.sh start-redis` and `eval \"$(bash scripts/services.sh env)\"`.");
        }

        var groups = (from outcome in new[] { ReadOutcome.Hit, ReadOutcome.Miss } from callers in new[] { 1, 16 } select (Outcome: outcome, Callers: callers)).ToArray();
        var sessions = groups.ToDictionary(group => group, _ => new List<PairedSamples>());
        for (var session = 1; session <= scale.Sessions; session++)
        {
            foreach (var group in groups)
            {
                var samples = await MeasureSessionAsync(group.Outcome, group.Callers, scale).ConfigureAwait(false);
                sessions[group].Add(samples);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[bench] paired Redis session {session}/{scale.Sessions} {Name(group.Outcome, group.Callers)}: median {samples.Median:0.000}"));
            }
        }

        foreach (var group in groups)
        {
            var name = Name(group.Outcome, group.Callers);
            var ratio = PairedRatio.Pool(sessions[group]);
            var medians = sessions[group].Select(samples => samples.Median).ToArray();
            BenchmarkFacts.Set($"redis.paired.{name}.ratio", ratio.Median.ToString("0.000", CultureInfo.InvariantCulture));
            BenchmarkFacts.Set($"redis.paired.{name}.interquartile", ratio.Interquartile);
            BenchmarkFacts.Set($"redis.paired.{name}.interval", ratio.Interval);
            BenchmarkFacts.Set($"redis.paired.{name}.control", ratio.ControlMedian.ToString("0.000", CultureInfo.InvariantCulture));
            BenchmarkFacts.Set($"redis.paired.{name}.controlInterquartile", ratio.ControlInterquartile);
            BenchmarkFacts.Set($"redis.paired.{name}.sessionMedians", string.Join(' ', medians.Select(median => median.ToString("0.000", CultureInfo.InvariantCulture))));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[bench] paired Redis ratio {name} (generated / hand-written): median {ratio.Median:0.000}, interquartile {ratio.Interquartile} over {scale.Sessions} x {scale.Rounds} rounds (sessions' medians {string.Join(", ", medians.Select(median => median.ToString("0.000", CultureInfo.InvariantCulture)))}); control (a second hand-written / hand-written) {ratio.ControlMedian:0.000}"));
        }

        BenchmarkFacts.Set("redis.paired.rounds", scale.Rounds.ToString(CultureInfo.InvariantCulture));
        BenchmarkFacts.Set("redis.paired.sessions", scale.Sessions.ToString(CultureInfo.InvariantCulture));
        BenchmarkFacts.Set("redis.paired.readsPerSlice", (scale.OperationsPerSlice * RedisReadBenchmarks.Batch).ToString(CultureInfo.InvariantCulture));
        BenchmarkFacts.Write(resultsDirectory, merge: true);
    }

    private static string Name(ReadOutcome outcome, int callers) => string.Create(CultureInfo.InvariantCulture, $"Outcome={outcome}&Callers={callers}");

    /// <summary>One session of one outcome and caller count: the three contenders set up afresh, measured, cleaned up.</summary>
    private static async Task<PairedSamples> MeasureSessionAsync(ReadOutcome outcome, int callers, PairedScale scale)
    {
        var handWritten = new RedisReadBenchmarks { Outcome = outcome, Callers = callers };
        var generated = new RedisReadBenchmarks { Outcome = outcome, Callers = callers };
        var control = new RedisReadBenchmarks { Outcome = outcome, Callers = callers };
        handWritten.SetupHandWritten();
        generated.SetupGenerated();
        control.SetupHandWritten();
        try
        {
            return await PairedRatio.SampleAsync(
                Slice(generated.Generated, scale.OperationsPerSlice), Slice(handWritten.HandWritten, scale.OperationsPerSlice), Slice(control.HandWritten, scale.OperationsPerSlice),
                scale.Rounds, scale.WarmupRounds).ConfigureAwait(false);
        }
        finally
        {
            generated.Cleanup();
            handWritten.Cleanup();
            control.Cleanup();
        }
    }

    private static Func<ValueTask> Slice(Func<Task> invoke, int invocations) => async () =>
    {
        for (var i = 0; i < invocations; i++)
        {
            await invoke().ConfigureAwait(false);
        }
    };
}
