namespace CachingGen.Runtime;

/// <summary>An auto-reset wake-up signal: <see cref="Set"/> completes the task handed out by the latest <see cref="Arm"/>.
/// A set that happens between <see cref="Arm"/> and the wait is never lost.</summary>
internal sealed class AsyncSignal
{
    private TaskCompletionSource _current = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Returns the task the next <see cref="Set"/> completes (a fresh one if the last was already set).</summary>
    public Task Arm()
    {
        while (true)
        {
            var current = Volatile.Read(ref _current);
            if (!current.Task.IsCompleted)
            {
                return current.Task;
            }

            var next = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (Interlocked.CompareExchange(ref _current, next, current) == current)
            {
                return next.Task;
            }
        }
    }

    /// <summary>Wakes the waiter.</summary>
    public void Set() => Volatile.Read(ref _current).TrySetResult();
}
