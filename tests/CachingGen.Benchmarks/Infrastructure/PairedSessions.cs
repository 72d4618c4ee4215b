using System.Globalization;

namespace CachingGen.Benchmarks.Infrastructure;

/// <summary>
/// A paired check run as several sessions (<see cref="PairedScale.Sessions"/>), each setting every group up afresh: one
/// session's median moves between runs by more than its own 95% interval says (the thread pool and the connections
/// settle differently each time, and a slice cannot cancel that out), so the report's ratio is the median of all the
/// sessions' rounds, and a goal between the sessions' medians is no verdict (Report/GoalVerdict). Records, per group,
/// the facts <c>{prefix}.{group}.ratio</c>, <c>.interquartile</c>, <c>.interval</c>, <c>.control</c>,
/// <c>.controlInterquartile</c> and <c>.sessionMedians</c>, and <c>{prefix}.rounds</c> and <c>{prefix}.sessions</c>.
/// </summary>
public static class PairedSessions
{
    /// <param name="label">What the console lines call the check, e.g. <c>Redis</c>.</param>
    /// <param name="factPrefix">The facts' common prefix, e.g. <c>redis.paired</c>.</param>
    /// <param name="groups">The groups by the name their facts carry, e.g. <c>Outcome=Hit&amp;Callers=16</c>.</param>
    /// <param name="measureSession">One session of one group: its contenders set up afresh, measured, cleaned up.</param>
    /// <param name="ratioMeaning">What the ratio divides, e.g. <c>generated / hand-written</c>.</param>
    /// <param name="controlMeaning">What the control divides, e.g. <c>a second hand-written / hand-written</c>.</param>
    public static async Task RunAsync<TGroup>(string label, string factPrefix, IReadOnlyList<(string Name, TGroup Group)> groups, Func<TGroup, PairedScale, Task<PairedSamples>> measureSession,
        PairedScale scale, Func<TGroup, string> ratioMeaning, Func<TGroup, string> controlMeaning)
    {
        var sessions = groups.ToDictionary(group => group.Name, _ => new List<PairedSamples>(), StringComparer.Ordinal);
        for (var session = 1; session <= scale.Sessions; session++)
        {
            foreach (var (name, group) in groups)
            {
                var samples = await measureSession(group, scale).ConfigureAwait(false);
                sessions[name].Add(samples);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[bench] paired {label} session {session}/{scale.Sessions} {name}: median {samples.Median:0.000}"));
            }
        }

        foreach (var (name, group) in groups)
        {
            var ratio = PairedRatio.Pool(sessions[name]);
            var medians = string.Join(' ', sessions[name].Select(samples => Number(samples.Median)));
            BenchmarkFacts.Set($"{factPrefix}.{name}.ratio", Number(ratio.Median));
            BenchmarkFacts.Set($"{factPrefix}.{name}.interquartile", ratio.Interquartile);
            BenchmarkFacts.Set($"{factPrefix}.{name}.interval", ratio.Interval);
            BenchmarkFacts.Set($"{factPrefix}.{name}.control", Number(ratio.ControlMedian));
            BenchmarkFacts.Set($"{factPrefix}.{name}.controlInterquartile", ratio.ControlInterquartile);
            BenchmarkFacts.Set($"{factPrefix}.{name}.sessionMedians", medians);
            Console.WriteLine($"[bench] paired {label} ratio {name} ({ratioMeaning(group)}): median {Number(ratio.Median)}, interquartile {ratio.Interquartile} over {scale.Sessions} x {scale.Rounds} rounds " +
                              $"(sessions' medians {medians.Replace(" ", ", ", StringComparison.Ordinal)}); control ({controlMeaning(group)}) {Number(ratio.ControlMedian)}");
        }

        BenchmarkFacts.Set($"{factPrefix}.rounds", scale.Rounds.ToString(CultureInfo.InvariantCulture));
        BenchmarkFacts.Set($"{factPrefix}.sessions", scale.Sessions.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>A slice of <paramref name="invocations"/> sequential calls of a benchmark method.</summary>
    public static Func<ValueTask> Repeat(Func<Task> invoke, int invocations) => async () =>
    {
        for (var i = 0; i < invocations; i++)
        {
            await invoke().ConfigureAwait(false);
        }
    };

    private static string Number(double value) => value.ToString("0.000", CultureInfo.InvariantCulture);
}
