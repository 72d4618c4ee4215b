using System.Collections.Concurrent;

namespace CachingGen.Redis;

/// <summary>An operation that <see cref="OperationDeadlines"/> can time out.</summary>
internal interface IExpirable
{
    /// <summary>Times out the use <paramref name="version"/> of a pooled operation, if it is still waiting: a deadline
    /// never times out a later use of the same object.</summary>
    void Expire(long version);
}

/// <summary>
/// The operation timeout of a store's hot commands without a timer, and without a clock read, per command.
/// <c>Task.WaitAsync(timeout)</c> creates and disposes a system timer (two trips through the runtime's timer queue lock)
/// and a promise for every read; here an operation only appends (itself, its use) to a queue. The clock is read by the
/// one timer instead, ticking while anything is queued: each tick appends a time mark, so every operation queued
/// before a mark started no later than the mark's time, and it is due when the first mark after it is a timeout old.
/// Each tick expires the head of the queue until it reaches an operation not yet due. Entries of operations that
/// answered in time are skipped by their use number. An operation started just after a mark waits for the next
/// mark, so a deadline fires up to two ticks late (a tick is a sixteenth of the timeout, 1 to 25 ms), never early; a
/// tick that runs late (a starved thread pool) marks late, and the operations before its mark wait as much longer.
/// </summary>
/// <remarks>The sweeper never peeks at the queue: <see cref="ConcurrentQueue{T}.TryPeek"/> preserves the head segment
/// for observers, so its slots are never reused and every later enqueue fills fresh, ever larger segments (about 24
/// bytes per read, and segments of up to a million slots on the large object heap). It dequeues instead, and keeps the
/// one entry not yet due for the next tick.</remarks>
internal sealed class OperationDeadlines : IDisposable
{
    private readonly ConcurrentQueue<(IExpirable? Operation, long Version)> _queue = new();

    /// <summary>The times of the marks still in the queue, oldest first (only the sweeper touches it). A mark is an
    /// entry without an operation.</summary>
    private readonly Queue<long> _markTimes = new();
    private readonly TimeProvider _timeProvider;
    private readonly long _timeoutTimestamps;
    private readonly TimeSpan _tick;
    private readonly ITimer _timer;

    /// <summary>The operation the last sweep dequeued but that was not yet due (only the sweeper touches it).</summary>
    private (IExpirable? Operation, long Version)? _carried;
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

    /// <summary>Bounds one use of <paramref name="operation"/> by the timeout, from now.</summary>
    public void Add(IExpirable operation, long version)
    {
        _queue.Enqueue((operation, version));

        // The enqueue is a full fence, and so is the sweeper's reset of _ticking before it looks at the queue again:
        // either this sees the timer stopped and starts it, or the sweeper sees this entry and starts it itself.
        if (Volatile.Read(ref _ticking) == 0)
        {
            Start();
        }
    }

    /// <summary>Whether the timer ticks (something is queued, or was until the last tick found the queue empty).</summary>
    internal bool IsTicking => Volatile.Read(ref _ticking) == 1;

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
            long now;
            if (_carried is not null || !_queue.IsEmpty)
            {
                // The clock is read after the mark is queued: an operation queued before the mark, even while this
                // tick was descheduled, started no later than the mark's time, so no deadline fires early.
                _queue.Enqueue((null, 0));
                now = _timeProvider.GetTimestamp();
                _markTimes.Enqueue(now);
            }
            else
            {
                now = _timeProvider.GetTimestamp();
            }

            while (true)
            {
                (IExpirable? Operation, long Version) head;
                if (_carried is { } carried)
                {
                    head = carried;
                }
                else if (!_queue.TryDequeue(out head))
                {
                    break;
                }

                if (head.Operation is null)
                {
                    _markTimes.Dequeue();
                    _carried = null;
                    continue;
                }

                // The first mark after the operation; none when it was queued after this tick's mark.
                if (!_markTimes.TryPeek(out var markedBy) || markedBy + _timeoutTimestamps > now)
                {
                    _carried = head;
                    break;
                }

                _carried = null;
                head.Operation.Expire(head.Version);
            }

            if (_carried is null && _queue.IsEmpty && !_disposed)
            {
                // Nothing to wait for: stop ticking (an idle store costs no wake-ups), then look once more, because an
                // operation may have been queued after the look above but before the timer stopped.
                _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                Interlocked.Exchange(ref _ticking, 0);
                if (!_queue.IsEmpty)
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
}
