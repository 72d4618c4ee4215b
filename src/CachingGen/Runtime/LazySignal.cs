namespace CachingGen.Runtime;

/// <summary>
/// A one-time signal whose task is made only when someone waits for it: most flights and lookups end unobserved, and
/// those must not pay a completion object. Keep it in a (non-readonly) field and call it there: a copy is another signal.
/// </summary>
internal struct LazySignal
{
    private static readonly object Signalled = new();

    /// <summary>null: not set, nobody waits; a <see cref="TaskCompletionSource"/>: not set, waited for;
    /// <see cref="Signalled"/>: set.</summary>
    private object? _state;

    /// <summary>Sets the signal (after what it announces has been written: the exchange publishes it) and wakes the waiters.</summary>
    public void Set()
    {
        if (Interlocked.Exchange(ref _state, Signalled) is TaskCompletionSource waiting)
        {
            waiting.TrySetResult();
        }
    }

    /// <summary>Completes once the signal is set (at once when it is).</summary>
    public Task WhenSet()
    {
        var current = Volatile.Read(ref _state);
        if (current is null)
        {
            var created = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            current = Interlocked.CompareExchange(ref _state, created, null) ?? created;
        }

        return current is TaskCompletionSource waiting ? waiting.Task : Task.CompletedTask;
    }
}
