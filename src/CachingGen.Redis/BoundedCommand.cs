using CachingGen.Runtime;
using System.Threading.Tasks.Sources;

namespace CachingGen.Redis;

/// <summary>
/// One hot command (a read's <c>GET</c>, an absent key's fill), awaited by the caller through a pooled
/// <see cref="IValueTaskSource{TResult}"/> and bounded by the operation timeout through <see cref="OperationDeadlines"/>:
/// no async state machine, no promise and no timer per call. It completes with the command's reply turned into the
/// result (<see cref="Map"/>), or with the store's unavailable error for a failure, a timeout; or with a cancellation.
/// </summary>
/// <remarks>
/// The status word holds the use number (a pooled object serves many commands, one at a time) and the state of that
/// use: waiting, answered, or expired/cancelled. Exactly one of the reply, the deadline and the caller's cancellation
/// wins a use, by a compare-and-swap on that word, so a late deadline or a late reply can never touch a later use. An
/// object whose use was expired or cancelled is not pooled again (its command may still answer later; the reply is then
/// only observed), so only answered uses return to the pool, after the caller has taken the result; an abandoned one is
/// retired once its caller has taken the outcome.
/// </remarks>
internal abstract class BoundedCommand<TReply, TResult> : IValueTaskSource<TResult>, IExpirable
{
    private const long Waiting = 0;
    private const long Answered = 1;
    private const long Abandoned = 2;

    /// <summary>The caller has taken the outcome: <see cref="Return"/> (after an answer) or <see cref="Retire"/> (after
    /// an abandonment) has run, once.</summary>
    private const long Taken = 3;
    private const long StateMask = 3;

    private readonly Action _onReply;
    private readonly OperationDeadlines _deadlines;
    private ManualResetValueTaskSourceCore<TResult> _core;

    /// <summary>Starts as taken (use 0, none running): the deadlines track the object from its creation, and a status
    /// of "use 0 waiting" would let a tick expire a use that never began, and complete the first real use with it.</summary>
    private long _status = Taken;

    /// <summary>The deadlines' tick when the current use started (written before the use publishes that it waits).</summary>
    private long _startedTick;
    private Task<TReply>? _pending;
    private CancellationToken _cancellationToken;
    private CancellationTokenRegistration _cancellation;

    /// <param name="deadlines">The deadlines that watch this object's uses, from now until <see cref="Discard"/>.</param>
    protected BoundedCommand(OperationDeadlines deadlines)
    {
        _onReply = OnReply;
        _deadlines = deadlines;
        deadlines.Track(this);
    }

    /// <summary>Turns the reply into the caller's result (runs on the thread that saw the reply).</summary>
    protected abstract TResult Map(TReply reply);

    /// <summary>What the caller sees for the command's failure, or for a <see cref="TimeoutException"/> when it did not
    /// answer in time: the store's unavailable error for a server failure.</summary>
    protected abstract Exception Translate(Exception failure);

    /// <summary>Takes the object back for another command, with its fields cleared.</summary>
    protected abstract void Return();

    /// <summary>The object's use was abandoned (a timeout or a cancellation): it is never used again, because its
    /// command may still answer later.</summary>
    protected abstract void Retire();

    /// <summary>The object will not be used again: its deadlines stop watching it (from <see cref="Return"/> when the
    /// object is not pooled again, and from <see cref="Retire"/>).</summary>
    protected void Discard() => _deadlines.Untrack(this);

    /// <summary>For <see cref="Return"/>: takes <paramref name="self"/> back into <paramref name="pool"/>, the pool it is a
    /// member of, or discards it when it is none's.</summary>
    protected void ReturnTo<TSelf>(TSelf self, WaitPool<TSelf>? pool)
        where TSelf : BoundedCommand<TReply, TResult>
    {
        if (pool is null)
        {
            Discard();
        }
        else
        {
            pool.Return(self);
        }
    }

    /// <summary>For <see cref="Retire"/>: gives the membership of <paramref name="pool"/> (if any) back, and discards the object.</summary>
    protected void LeavePool<TSelf>(WaitPool<TSelf>? pool)
        where TSelf : BoundedCommand<TReply, TResult>
    {
        pool?.Leave();
        Discard();
    }

    /// <summary>Starts this object's next use: waits for <paramref name="pending"/> (not completed yet), at most the
    /// operation timeout, and as long as <paramref name="cancellationToken"/> allows.</summary>
    protected ValueTask<TResult> Await(Task<TReply> pending, CancellationToken cancellationToken)
    {
        _core.Reset();
        _pending = pending;
        _cancellationToken = cancellationToken;
        _startedTick = _deadlines.CurrentTick;

        // A full fence: the deadlines' sweeper either sees this use waiting, or this sees its timer stopped.
        Interlocked.Exchange(ref _status, ((_status >> 2) + 1) << 2);
        _deadlines.EnsureTicking();
        if (cancellationToken.CanBeCanceled)
        {
            _cancellation = cancellationToken.UnsafeRegister(static (state, token) => ((BoundedCommand<TReply, TResult>)state!).Cancel(token), this);
        }

        pending.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_onReply);
        return new ValueTask<TResult>(this, _core.Version);
    }

    public bool ExpireIfStartedBy(long lastDueTick)
    {
        var status = Volatile.Read(ref _status);
        if ((status & StateMask) != Waiting)
        {
            return false;
        }

        // Read after the status: the tick of the use that status belongs to, or of a later use (the status has then
        // changed, and the exchange below fails).
        if (Volatile.Read(ref _startedTick) > lastDueTick)
        {
            return true;
        }

        if (TryAbandon(status))
        {
            // The caller's continuation (a database trip, typically) must not run on the deadline timer's thread.
            ThreadPool.UnsafeQueueUserWorkItem(static command => command.Fail(command.Translate(new TimeoutException("No reply within the operation timeout."))), this, preferLocal: false);
        }

        return false;
    }

    public TResult GetResult(short token)
    {
        // A stale token (an outcome taken twice, after the object went back to the pool and a later use began) must
        // not reach the finally below, which would act on that later use.
        if (token != _core.Version)
        {
            throw new InvalidOperationException("This wait's outcome was already taken: a ValueTask may be awaited only once.");
        }

        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            // Disposing waits for a cancellation callback that is running, so none can reach the next use.
            _cancellation.Dispose();
            _cancellation = default;
            var status = Volatile.Read(ref _status);
            if ((status & StateMask) == Answered)
            {
                // Only the one caller of this use gets here when the ValueTask is awaited once, as it must be: an outcome
                // taken again later is refused above or finds the use Taken. Two threads taking it at the same moment
                // are not guarded against (a compare-and-swap here would cost every read for a misuse).
                Volatile.Write(ref _status, status | Taken);
                _pending = null;
                _cancellationToken = default;
                Return();
            }
            else if ((status & StateMask) == Abandoned && Interlocked.CompareExchange(ref _status, status | Taken, status) == status)
            {
                Retire();
            }
        }
    }

    /// <summary>The token of the current use's ValueTask (for tests).</summary>
    internal short CurrentToken => _core.Version;

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _core.OnCompleted(continuation, state, token, flags);

    private void OnReply()
    {
        var status = Volatile.Read(ref _status);
        var pending = _pending!;
        if ((status & StateMask) != Waiting || Interlocked.CompareExchange(ref _status, status | Answered, status) != status)
        {
            // The deadline or the caller's cancellation won: only observe a failure, so it is not reported unobserved.
            _ = pending.Exception;
            return;
        }

        if (pending.IsCompletedSuccessfully)
        {
            TResult result;
            try
            {
                result = Map(pending.Result);
            }
            catch (Exception exception)
            {
                _core.SetException(exception);
                return;
            }

            _core.SetResult(result);
        }
        else if (pending.IsCanceled)
        {
            _core.SetException(new OperationCanceledException(_cancellationToken));
        }
        else
        {
            _core.SetException(Translate(pending.Exception!.InnerException ?? pending.Exception));
        }
    }

    private void Cancel(CancellationToken token)
    {
        var status = Volatile.Read(ref _status);
        if ((status & StateMask) == Waiting && TryAbandon(status))
        {
            // Off the cancelling thread: the caller's continuation must not run inside Cancel() of its token.
            ThreadPool.UnsafeQueueUserWorkItem(static state => state.Command.Fail(new OperationCanceledException(state.Token)), (Command: this, Token: token), preferLocal: false);
        }
    }

    private bool TryAbandon(long waiting)
        => Interlocked.CompareExchange(ref _status, waiting | Abandoned, waiting) == waiting;

    private void Fail(Exception exception) => _core.SetException(exception);
}
