using System.Collections.Concurrent;
using System.Diagnostics;

namespace CachingGen.Benchmarks.Infrastructure;

/// <summary>
/// A stand-in for a database round trip of a fixed latency, for benchmarks whose contenders all wait for the same load.
/// Not <see cref="Task.Delay(TimeSpan)"/>: the runtime's timers fall due by its millisecond tick count
/// (<see cref="Environment.TickCount64"/>), which on this machine advances in 4 ms steps, so a 1 ms delay took 1.1 to
/// 4.5 ms and ended just after one of those steps. Stampedes run back to back then all ended on the same steps, whatever
/// each contender spent before and after its load: the time measured was mostly the tick's. Here a dedicated thread
/// sleeps until each call is due (<see cref="Thread.Sleep(int)"/> is a precise sleep: 1.06-1.09 ms for 1 ms here) and
/// completes it as a socket reply would, its continuation on the thread pool. Calls made together fall due together.
/// </summary>
public sealed class SimulatedRoundTrip : IDisposable
{
    /// <summary>The name of the thread that completes the calls.</summary>
    public const string ThreadName = "Simulated database";

    private readonly BlockingCollection<(long Due, TaskCompletionSource Reply)> _calls = new();
    private readonly Thread _server;
    private readonly long _latencyTicks;

    public SimulatedRoundTrip(TimeSpan latency)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(latency, TimeSpan.Zero);
        _latencyTicks = (long)(latency.TotalSeconds * Stopwatch.Frequency);
        _server = new Thread(Serve) { IsBackground = true, Name = ThreadName };
        _server.Start();
    }

    /// <summary>Completes <paramref name="latency"/> (the constructor's) after now, or when <paramref name="cancellationToken"/> is cancelled.</summary>
    public Task WaitAsync(CancellationToken cancellationToken)
    {
        var reply = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _calls.Add((Stopwatch.GetTimestamp() + _latencyTicks, reply), CancellationToken.None);
        return reply.Task.WaitAsync(cancellationToken);
    }

    public void Dispose()
    {
        _calls.CompleteAdding();
        if (Thread.CurrentThread == _server)
        {
            // Called from a reply's continuation that ran inline: the thread would wait for itself. Its loop ends by itself.
            return;
        }

        _server.Join();
        _calls.Dispose();
    }

    private void Serve()
    {
        foreach (var (due, reply) in _calls.GetConsumingEnumerable())
        {
            // Rounded up to whole milliseconds, the only unit Thread.Sleep takes: a shorter sleep would be a busy wait
            // on a core the contenders need. Calls are due in the order they came, so a late one is served at once.
            var remaining = due - Stopwatch.GetTimestamp();
            if (remaining > 0)
            {
                Thread.Sleep((int)Math.Ceiling(remaining * 1000.0 / Stopwatch.Frequency));
            }

            reply.TrySetResult();
        }
    }
}
