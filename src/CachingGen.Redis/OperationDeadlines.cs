using System.Collections.Concurrent;

namespace CachingGen.Redis;

/// <summary>An operation that <see cref="OperationDeadlines"/> can time out.</summary>
internal interface IExpirable
{
    /// <summary>Times out the operation's current use if it is waiting and started no later than in tick
    /// <paramref name="lastDueTick"/>. Returns whether a use is still waiting afterwards (its deadline is still ahead); it
    /// may answer false for a use that starts while it looks, which the sweeper's second look before it stops covers.</summary>
    bool ExpireIfStartedBy(long lastDueTick);
}

/// <summary>
/// The operation timeout of a store's hot commands without a timer, a clock read or a shared write per command.
/// <c>Task.WaitAsync(timeout)</c> creates and disposes a system timer (two trips through the runtime's timer queue lock)
/// and a promise for every read. Here the operations (a store's pooled waits) are tracked once, when they are created,
/// and a use only notes the current tick number, which the one timer advances while anything waits: each tick ends the
/// previous tick's epoch by incrementing the number, then reads the clock, so every use that noted a number started
/// before the end of that epoch, and it is due once that end is a timeout old. Each tick looks at every tracked
/// operation and expires the uses that are due. A use started just after a tick waits for the next tick to end its
/// epoch, so a deadline fires up to two ticks late (a tick is a sixteenth of the timeout, kept between 1 and 25 ms), never early; a
/// tick that runs late (a starved thread pool) ends its epoch late, and the uses in that epoch wait as much longer.
/// </summary>
/// <remarks>
/// A per-command queue of deadlines costs every command a write to a cache line that all threads share, and holds an
/// entry per command for a whole timeout (a million entries, 24 MB, at 100,000 reads a second with a 10 s timeout).
/// Tracking the waits themselves bounds the memory by the commands in flight, and a command writes only to its own wait.
/// </remarks>
internal sealed class OperationDeadlines : IDisposable
{
    private readonly ConcurrentDictionary<IExpirable, byte> _tracked = new(ReferenceEqualityComparer.Instance);

    /// <summary>The end times of the epochs not yet a timeout old, oldest first (only the sweeper touches it).</summary>
    private readonly Queue<(long Tick, long EndedAt)> _epochEnds = new();
    private readonly TimeProvider _timeProvider;
    private readonly long _timeoutTimestamps;
    private readonly TimeSpan _tick;
    private readonly ITimer _timer;

    /// <summary>The current epoch's number, noted by each use when it starts.</summary>
    private long _currentTick;

    /// <summary>The last epoch whose end is a timeout old: its uses, and earlier ones, are due (only the sweeper touches it).</summary>
    private long _lastDueTick = -1;
    private int _ticking;
    private int _sweeping;
    private volatile bool _disposed;

    public OperationDeadlines(TimeSpan timeout, TimeProvider timeProvider)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        _timeProvider = timeProvider;
        _timeoutTimestamps = (long)Math.Ceiling(timeout.TotalSeconds * timeProvider.TimestampFrequency);
        _tick = TimeSpan.FromMilliseconds(Math.Clamp(Math.Floor(timeout.TotalMilliseconds / 16), 1, 25));

        // The timer must not flow the first caller's execution context.
        using (ExecutionContext.SuppressFlow())
        {
            _timer = timeProvider.CreateTimer(static state => ((OperationDeadlines)state!).Sweep(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>The number a use notes when it starts (before it publishes that it waits).</summary>
    public long CurrentTick => Volatile.Read(ref _currentTick);

    /// <summary>Whether the timer ticks (something waits, or did at the last tick).</summary>
    internal bool IsTicking => Volatile.Read(ref _ticking) == 1;

    /// <summary>The number of tracked operations (for tests).</summary>
    internal int TrackedCount => _tracked.Count;

    /// <summary>Watches <paramref name="operation"/>'s uses from now on, until <see cref="Untrack"/>.</summary>
    public void Track(IExpirable operation) => _tracked.TryAdd(operation, 0);

    /// <summary>Stops watching <paramref name="operation"/>, which will not be used again.</summary>
    public void Untrack(IExpirable operation) => _tracked.TryRemove(operation, out _);

    /// <summary>Called by a use after it published that it waits, with a full fence: starts the timer if it stopped.</summary>
    /// <remarks>The sweeper stops the timer with a full fence before it looks at the operations once more: either it sees
    /// this use waiting and starts the timer again, or this sees the timer stopped and starts it.</remarks>
    public void EnsureTicking()
    {
        if (Volatile.Read(ref _ticking) == 0)
        {
            Start();
        }
    }

    public void Dispose()
    {
        _disposed = true;
        _timer.Dispose();
    }

    private void Start()
    {
        if (Interlocked.CompareExchange(ref _ticking, 1, 0) == 0 && !_disposed)
        {
            try
            {
                _timer.Change(_tick, _tick);
            }
            catch (ObjectDisposedException)
            {
                // Disposed meanwhile: nothing left to time out.
            }
        }
    }

    private void Sweep()
    {
        // A tick that comes while the previous one is still expiring operations leaves the work to it.
        if (Interlocked.Exchange(ref _sweeping, 1) == 1)
        {
            return;
        }

        try
        {
            // The clock is read after the epoch ends: a use that noted the old number, even while this tick was
            // descheduled in between, started before the time recorded as the epoch's end, so no deadline fires early.
            var ended = Interlocked.Increment(ref _currentTick) - 1;
            var now = _timeProvider.GetTimestamp();
            _epochEnds.Enqueue((ended, now));
            while (_epochEnds.TryPeek(out var epoch) && epoch.EndedAt + _timeoutTimestamps <= now)
            {
                _lastDueTick = epoch.Tick;
                _epochEnds.Dequeue();
            }

            if (!ExpireDue() && !_disposed)
            {
                // Nothing waits: stop ticking (an idle store costs no wake-ups), then look once more, because a use may
                // have started after the look above but before the timer stopped.
                _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                Interlocked.Exchange(ref _ticking, 0);
                if (ExpireDue())
                {
                    Start();
                }
            }
        }
        catch (ObjectDisposedException)
        {
            // The store was disposed while this tick ran.
        }
        finally
        {
            Volatile.Write(ref _sweeping, 0);
        }
    }

    /// <summary>Expires every use that is due; returns whether any use still waits.</summary>
    private bool ExpireDue()
    {
        var waiting = false;
        foreach (var tracked in _tracked)
        {
            waiting |= tracked.Key.ExpireIfStartedBy(_lastDueTick);
        }

        return waiting;
    }
}
