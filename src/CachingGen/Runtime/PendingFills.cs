namespace CachingGen.Runtime;

/// <summary>
/// Counts the fills that read-through misses sent and did not wait for (a read returns its value before its fill
/// reaches the cache), so that <see cref="CachingGenRuntime.WaitForPendingFillsAsync"/> can wait until none is on its
/// way: before a test inspects the cache, and before the runtime lets go of the store on disposal.
/// </summary>
internal sealed class PendingFills
{
    private int _count;
    private TaskCompletionSource? _idle;

    public int Count => Volatile.Read(ref _count);

    public void Enter() => Interlocked.Increment(ref _count);

    public void Exit()
    {
        if (Interlocked.Decrement(ref _count) == 0)
        {
            Interlocked.Exchange(ref _idle, null)?.TrySetResult();
        }
    }

    /// <summary>Completes when the count has been zero since this call (or at once when it is zero now).</summary>
    public Task WhenIdleAsync()
    {
        if (Count == 0)
        {
            return Task.CompletedTask;
        }

        var created = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var waiter = Interlocked.CompareExchange(ref _idle, created, null) ?? created;

        // The last fill may have left between the first look and the publication of the waiter, finding none to wake.
        if (Count == 0 && Interlocked.CompareExchange(ref _idle, null, waiter) == waiter)
        {
            waiter.TrySetResult();
        }

        return waiter.Task;
    }
}
