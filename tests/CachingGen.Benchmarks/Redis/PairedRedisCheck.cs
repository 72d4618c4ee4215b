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
/// minutes apart: 1.066 to 1.116), so the check runs several sessions (see <see cref="PairedSessions"/>). Written to
/// facts.json next to the BenchmarkDotNet results.
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

        var groups = (from outcome in new[] { ReadOutcome.Hit, ReadOutcome.Miss } from callers in new[] { 1, 16 } select (Name(outcome, callers), (Outcome: outcome, Callers: callers))).ToArray();
        await PairedSessions.RunAsync("Redis", "redis.paired", groups, (group, groupScale) => MeasureSessionAsync(group.Outcome, group.Callers, groupScale), scale,
            _ => "generated / hand-written", _ => "a second hand-written / hand-written").ConfigureAwait(false);
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
                PairedSessions.Repeat(generated.Generated, scale.OperationsPerSlice), PairedSessions.Repeat(handWritten.HandWritten, scale.OperationsPerSlice), PairedSessions.Repeat(control.HandWritten, scale.OperationsPerSlice),
                scale.Rounds, scale.WarmupRounds).ConfigureAwait(false);
        }
        finally
        {
            generated.Cleanup();
            handWritten.Cleanup();
            control.Cleanup();
        }
    }
}
