using System.Diagnostics;

namespace Preferences.Replay;

/// <summary>Per-call latencies of one measured run, in microseconds.</summary>
internal readonly record struct LatencyStats(int Calls, double MeanMicroseconds, double MedianMicroseconds, double P99Microseconds)
{
    public static LatencyStats From(long[] stopwatchTicks)
    {
        if (stopwatchTicks.Length == 0)
        {
            return default;
        }

        var sorted = stopwatchTicks.Select(ticks => ticks * 1_000_000.0 / Stopwatch.Frequency).Order().ToArray();
        return new LatencyStats(sorted.Length, sorted.Average(), Percentile(sorted, 0.50), Percentile(sorted, 0.99));
    }

    private static double Percentile(double[] sorted, double fraction) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(fraction * sorted.Length) - 1)];
}

/// <summary>Runs calls from a number of concurrent workers that take the next item until none is left.</summary>
internal static class Workers
{
    /// <summary>Runs <paramref name="call"/> once per item from <paramref name="workers"/> concurrent workers and
    /// returns each call's duration in stopwatch ticks.</summary>
    public static async Task<long[]> RunAsync<T>(IReadOnlyList<T> items, int workers, Func<T, Task> call)
    {
        var durations = new long[items.Count];
        var next = -1;
        var running = new Task[Math.Min(workers, Math.Max(items.Count, 1))];
        for (var w = 0; w < running.Length; w++)
        {
            running[w] = Task.Run(async () =>
            {
                int index;
                while ((index = Interlocked.Increment(ref next)) < items.Count)
                {
                    var start = Stopwatch.GetTimestamp();
                    await call(items[index]).ConfigureAwait(false);
                    durations[index] = Stopwatch.GetTimestamp() - start;
                }
            });
        }

        await Task.WhenAll(running).ConfigureAwait(false);
        return durations;
    }
}
