using CachingGen.Runtime;
using System.Threading.Tasks.Sources;
using Microsoft.Extensions.Time.Testing;

namespace CachingGen.Redis.Tests;

/// <summary>The pooled, timer-free wait behind a read's GET and an absent key's fill: each use is won by exactly one of
/// its reply, its deadline and its caller's cancellation, and a deadline never reaches a later use of the same object.
/// Time is a <see cref="FakeTimeProvider"/>: a deadline passes only when a test advances it.</summary>
public sealed class BoundedCommandTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMilliseconds(400);

    /// <summary>The deadline timer's period for <see cref="Timeout"/>: a sixteenth of it.</summary>
    private static readonly TimeSpan Tick = Timeout / 16;

    /// <summary>Moves time on by <paramref name="span"/> one tick at a time, as a real clock does: FakeTimeProvider
    /// runs every timer callback due within one Advance at the end time, so a sweep would read a later time than a
    /// real tick does (and mark the operations queued before it as started later than they were).</summary>
    private static void Pass(FakeTimeProvider time, TimeSpan span)
    {
        for (; span > TimeSpan.Zero; span -= Tick)
        {
            time.Advance(span < Tick ? span : Tick);
        }
    }

    [Fact]
    public async Task A_reply_is_mapped_and_the_wait_goes_back_to_the_pool()
    {
        var time = new FakeTimeProvider();
        using var deadlines = new OperationDeadlines(Timeout, time);
        var command = new TestCommand(deadlines);
        var reply = new TaskCompletionSource<int>();
        var result = command.Start(reply.Task, CancellationToken.None);
        Assert.False(result.IsCompleted);

        reply.SetResult(5);
        Assert.Equal("reply 5", await result);
        Assert.Equal(1, command.Returned);
        Assert.Equal(0, command.Retired);
    }

    [Fact]
    public async Task An_abandoned_use_is_retired_once_even_if_its_outcome_is_taken_twice()
    {
        var time = new FakeTimeProvider();
        using var deadlines = new OperationDeadlines(Timeout, time);
        var command = new TestCommand(deadlines);
        using var cancellation = new CancellationTokenSource();
        var result = command.Start(new TaskCompletionSource<int>().Task, cancellation.Token);
        var source = (IValueTaskSource<string>)command;
        cancellation.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await result);

        // Taking an outcome twice breaks ValueTask's rule, but must not give a pool membership back twice.
        Assert.ThrowsAny<Exception>(() => source.GetResult(0));
        Assert.Equal(1, command.Retired);
        Assert.Equal(0, command.Returned);
    }

    [Fact]
    public async Task An_answered_use_goes_back_to_the_pool_once_even_if_its_outcome_is_taken_twice()
    {
        var time = new FakeTimeProvider();
        using var deadlines = new OperationDeadlines(Timeout, time);
        var command = new TestCommand(deadlines);
        var reply = new TaskCompletionSource<int>();
        var result = command.Start(reply.Task, CancellationToken.None);
        var source = (IValueTaskSource<string>)command;
        reply.SetResult(3);
        var token = command.CurrentToken;
        Assert.Equal("reply 3", await result);

        // Taking an outcome twice breaks ValueTask's rule, but must not pool the object twice (two renters would then
        // share it); once a later use has begun, the stale token is refused and that use is untouched.
        Assert.Equal("reply 3", Record.Exception(() => source.GetResult(token)) is null ? "reply 3" : "threw");
        Assert.Equal(1, command.Returned);
        var next = new TaskCompletionSource<int>();
        var later = command.Start(next.Task, CancellationToken.None);
        Assert.Throws<InvalidOperationException>(() => source.GetResult(token));
        next.SetResult(4);
        Assert.Equal("reply 4", await later);
        Assert.Equal(2, command.Returned);
    }

    [Fact]
    public async Task A_wait_that_has_not_started_a_use_is_never_expired()
    {
        // The deadlines track a wait from its creation, before its first use: a tick must not take "no use yet" for a
        // use that waits (it would expire it, and the expiry would complete the first real use).
        var time = new FakeTimeProvider();
        using var deadlines = new OperationDeadlines(Timeout, time);
        var idle = new TestCommand(deadlines);
        var keepsTicking = new TestCommand(deadlines).Start(new TaskCompletionSource<int>().Task, CancellationToken.None);
        Pass(time, Timeout + (2 * Tick));
        await Assert.ThrowsAsync<TranslatedException>(async () => await keepsTicking);

        // An expiry completes the wait from the thread pool; the one of the ticking wait has run, so would this one's.
        await Task.Delay(50);
        Assert.Equal(ValueTaskSourceStatus.Pending, ((IValueTaskSource<string>)idle).GetStatus(idle.CurrentToken));
        var reply = new TaskCompletionSource<int>();
        var first = idle.Start(reply.Task, CancellationToken.None);
        await Task.Delay(50);
        Assert.False(first.IsCompleted, "the first use was completed before its reply");
        reply.SetResult(9);
        Assert.Equal("reply 9", await first);
    }

    [Fact]
    public async Task A_failed_command_surfaces_as_the_translated_error()
    {
        var time = new FakeTimeProvider();
        using var deadlines = new OperationDeadlines(Timeout, time);
        var command = new TestCommand(deadlines);
        var reply = new TaskCompletionSource<int>();
        var result = command.Start(reply.Task, CancellationToken.None);

        var failure = new InvalidOperationException("server said no");
        reply.SetException(failure);
        var translated = await Assert.ThrowsAsync<TranslatedException>(async () => await result);
        Assert.Same(failure, translated.InnerException);
        Assert.Equal(1, command.Returned);
    }

    [Fact]
    public async Task A_command_without_a_reply_times_out_at_its_deadline_and_its_wait_is_not_pooled_again()
    {
        var time = new FakeTimeProvider();
        using var deadlines = new OperationDeadlines(Timeout, time);
        var command = new TestCommand(deadlines);
        var reply = new TaskCompletionSource<int>();
        var result = command.Start(reply.Task, CancellationToken.None);

        Pass(time, Timeout - TimeSpan.FromMilliseconds(1));
        await Task.Delay(50);
        Assert.False(result.IsCompleted, "expired before its deadline");

        // A deadline fires at most two ticks after it: the tick that ends the start's epoch, then the tick that finds it due.
        Pass(time, 2 * Tick);
        var translated = await Assert.ThrowsAsync<TranslatedException>(async () => await result);
        Assert.IsType<TimeoutException>(translated.InnerException);

        // The late reply is only observed: the caller already has its answer, and the object was never pooled again.
        reply.SetResult(7);
        Assert.Equal(0, command.Returned);
        Assert.Equal(1, command.Retired);
    }

    [Fact]
    public async Task Deadlines_of_earlier_uses_never_expire_a_later_use_of_the_same_object()
    {
        var time = new FakeTimeProvider();
        using var deadlines = new OperationDeadlines(Timeout, time);
        var command = new TestCommand(deadlines);

        // A thousand answered uses, spread over the first half of a timeout, each noting its own tick.
        for (var use = 0; use < 1_000; use++)
        {
            var answered = new TaskCompletionSource<int>();
            var result = command.Start(answered.Task, CancellationToken.None);
            answered.SetResult(use);
            Assert.Equal($"reply {use}", await result);
            if (use % 100 == 99)
            {
                Pass(time, Timeout / 20);
            }
        }

        var waiting = new TaskCompletionSource<int>();
        var last = command.Start(waiting.Task, CancellationToken.None);

        // Every earlier use's deadline has passed; the waiting use still has its whole timeout but two ticks.
        Pass(time, Timeout - (2 * Tick));
        await Task.Delay(50);
        Assert.False(last.IsCompleted, "an earlier use's deadline expired the waiting use");

        Pass(time, 4 * Tick);
        var translated = await Assert.ThrowsAsync<TranslatedException>(async () => await last);
        Assert.IsType<TimeoutException>(translated.InnerException);
        Assert.Equal(1_000, command.Returned);
    }

    [Fact]
    public async Task An_operation_started_just_after_a_tick_is_due_a_timeout_after_the_next_tick_never_earlier()
    {
        // A use notes only the tick number: each tick ends the epoch of the number before it, and a use is due once the
        // end of its epoch is a timeout old. One started just after a tick waits for the next one: up to two ticks late.
        var time = new FakeTimeProvider();
        using var deadlines = new OperationDeadlines(Timeout, time);
        var early = new TestCommand(deadlines).Start(new TaskCompletionSource<int>().Task, CancellationToken.None);
        Pass(time, Tick);
        var late = new TestCommand(deadlines).Start(new TaskCompletionSource<int>().Task, CancellationToken.None);

        // The first tick ends the early operation's epoch; the late one, started at that tick, is in the next epoch.
        Pass(time, Timeout - TimeSpan.FromMilliseconds(1));
        await Task.Delay(50);
        Assert.False(early.IsCompleted, "expired before a timeout had passed since its epoch ended");
        Assert.False(late.IsCompleted, "expired before its deadline");

        Pass(time, TimeSpan.FromMilliseconds(1));
        var translated = await Assert.ThrowsAsync<TranslatedException>(async () => await early);
        Assert.IsType<TimeoutException>(translated.InnerException);
        await Task.Delay(50);
        Assert.False(late.IsCompleted, "expired a timeout after the end of the epoch before its start");

        Pass(time, Tick);
        translated = await Assert.ThrowsAsync<TranslatedException>(async () => await late);
        Assert.IsType<TimeoutException>(translated.InnerException);
    }

    [Fact]
    public async Task An_operation_started_while_a_tick_is_descheduled_is_never_expired_early()
    {
        // A tick stalls right after reading the clock, and an operation starts meanwhile. Had the tick read the clock
        // before ending the epoch, that operation would note the old number, whose end is dated before its start, and
        // expire a stall early; the epoch ends first, so the operation notes the new number.
        var time = new StallingTimeProvider();
        using var deadlines = new OperationDeadlines(Timeout, time);
        var first = new TestCommand(deadlines).Start(new TaskCompletionSource<int>().Task, CancellationToken.None);
        ValueTask<string> slipped = default;
        var stall = 3 * Tick;
        time.OnNextRead = () =>
        {
            time.Advance(stall);
            slipped = new TestCommand(deadlines).Start(new TaskCompletionSource<int>().Task, CancellationToken.None);
        };
        Pass(time, Tick);

        Pass(time, Timeout - Tick - TimeSpan.FromMilliseconds(1));
        await Task.Delay(50);
        Assert.False(slipped.IsCompleted, "expired before a timeout had passed since it started");
        Pass(time, 4 * Tick);
        await Assert.ThrowsAsync<TranslatedException>(async () => await slipped);
        await Assert.ThrowsAsync<TranslatedException>(async () => await first);
    }

    /// <summary>A fake clock that runs <see cref="OnNextRead"/> once, right after its next reading is taken.</summary>
    private sealed class StallingTimeProvider : FakeTimeProvider
    {
        public Action? OnNextRead { get; set; }

        public override long GetTimestamp()
        {
            // The reading is taken before the stall, as a descheduled thread holds the value it read.
            var reading = base.GetTimestamp();
            if (OnNextRead is { } action)
            {
                OnNextRead = null;
                action();
            }

            return reading;
        }
    }

    [Fact]
    public async Task The_callers_cancellation_ends_the_wait_and_an_already_cancelled_token_ends_it_at_once()
    {
        var time = new FakeTimeProvider();
        using var deadlines = new OperationDeadlines(Timeout, time);
        var command = new TestCommand(deadlines);
        using var cancellation = new CancellationTokenSource();
        var result = command.Start(new TaskCompletionSource<int>().Task, cancellation.Token);
        cancellation.Cancel();
        var cancelled = await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await result);
        Assert.Equal(cancellation.Token, cancelled.CancellationToken);
        Assert.Equal(0, command.Returned);
        Assert.Equal(1, command.Retired);

        var again = new TestCommand(deadlines);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await again.Start(new TaskCompletionSource<int>().Task, cancellation.Token));
        Assert.Equal(0, again.Returned);
        Assert.Equal(1, again.Retired);

        // The deadlines of the cancelled uses come and go without effect.
        Pass(time, Timeout * 2);
    }

    [Fact]
    public async Task The_deadline_timer_ticks_only_while_something_waits()
    {
        var time = new FakeTimeProvider();
        using var deadlines = new OperationDeadlines(Timeout, time);
        Assert.False(deadlines.IsTicking);

        var command = new TestCommand(deadlines);
        var reply = new TaskCompletionSource<int>();
        var result = command.Start(reply.Task, CancellationToken.None);
        Assert.True(deadlines.IsTicking);
        Pass(time, Timeout / 2);
        Assert.True(deadlines.IsTicking);
        reply.SetResult(1);
        await result;

        // Nothing waits any more: the next tick stops the timer, without waiting for the answered use's deadline.
        Pass(time, Tick);
        Assert.False(deadlines.IsTicking);

        var next = new TaskCompletionSource<int>();
        var again = command.Start(next.Task, CancellationToken.None);
        Assert.True(deadlines.IsTicking);
        next.SetResult(2);
        Assert.Equal("reply 2", await again);
    }

    [Fact]
    public async Task Deadlines_hold_the_waits_not_an_entry_per_command_and_a_use_allocates_nothing_for_its_deadline()
    {
        // A queue of deadlines would hold an entry per command for a whole timeout (a million at 100,000 reads a second
        // and a 10 s timeout); the deadlines track the waits instead, so their memory is bounded by the waits in flight.
        var time = new FakeTimeProvider();
        using var deadlines = new OperationDeadlines(TimeSpan.FromSeconds(10), time);
        var command = new EchoCommand(deadlines);
        var replies = Enumerable.Range(0, 20_000).Select(_ => new TaskCompletionSource<int>()).ToArray();
        for (var use = 0; use < 1_000; use++)
        {
            var warmUp = command.Start(replies[use].Task, CancellationToken.None);
            replies[use].SetResult(use);
            await warmUp;
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread();
        for (var use = 1_000; use < replies.Length; use++)
        {
            // Answered on this thread before the await (the reply's continuations run inline), so nothing leaves it.
            var result = command.Start(replies[use].Task, CancellationToken.None);
            replies[use].SetResult(use);
            // Checked without Assert.Equal, which allocates.
            if (!result.IsCompleted || await result != use)
            {
                Assert.Fail($"use {use} was not answered with its reply at once");
            }
        }

        var perUse = (double)(GC.GetAllocatedBytesForCurrentThread() - allocated) / (replies.Length - 1_000);
        Assert.True(perUse < 8, $"{perUse:0.0} bytes allocated per use");
        Assert.Equal(1, deadlines.TrackedCount);
        Assert.Equal(replies.Length, command.Returned);
    }

    [Fact]
    public async Task A_wait_is_watched_while_it_can_be_used_again_and_forgotten_when_it_cannot()
    {
        var time = new FakeTimeProvider();
        using var deadlines = new OperationDeadlines(Timeout, time);
        var pool = new WaitPool<PooledCommand>();

        // A member goes back to its pool after an answered use, and stays watched.
        var member = new PooledCommand(deadlines, pool.Join());
        var reply = new TaskCompletionSource<int>();
        var answered = member.Start(reply.Task, CancellationToken.None);
        reply.SetResult(1);
        Assert.Equal(1, await answered);
        Assert.Equal(1, deadlines.TrackedCount);
        Assert.True(pool.TryRent(out var rented));
        Assert.Same(member, rented);

        // A wait beyond the pool's members is dropped after its use.
        var dropped = new PooledCommand(deadlines, pool: null);
        reply = new TaskCompletionSource<int>();
        answered = dropped.Start(reply.Task, CancellationToken.None);
        Assert.Equal(2, deadlines.TrackedCount);
        reply.SetResult(2);
        Assert.Equal(2, await answered);
        Assert.Equal(1, deadlines.TrackedCount);

        // A member whose use timed out leaves the pool and is no longer watched.
        var expired = member.Start(new TaskCompletionSource<int>().Task, CancellationToken.None);
        Pass(time, Timeout + (2 * Tick));
        await Assert.ThrowsAsync<TimeoutException>(async () => await expired);
        Assert.Equal(0, deadlines.TrackedCount);
        Assert.Equal(0, pool.Members);
    }

    [Fact]
    public async Task Under_a_real_clock_every_unanswered_use_times_out_while_the_timer_keeps_stopping_and_starting()
    {
        // Uses start while the sweeper finds nothing waiting and stops the timer: each must still get its deadline
        // (the sweeper looks once more after stopping, and a use starts the timer when it sees it stopped). Waits are
        // created while ticks run: one not yet started must never be expired (this test found that race).
        using var deadlines = new OperationDeadlines(TimeSpan.FromMilliseconds(16), TimeProvider.System);
        var workers = Enumerable.Range(0, 4).Select(worker => Task.Run(async () =>
        {
            var command = new TestCommand(deadlines);
            for (var round = 0; round < 40; round++)
            {
                // Idle long enough for the timer to stop, most rounds, then a burst of answered uses and one that is not.
                await Task.Delay(worker + (round % 3 * 7));
                for (var use = 0; use < 50; use++)
                {
                    var reply = new TaskCompletionSource<int>();
                    var result = command.Start(reply.Task, CancellationToken.None);
                    reply.SetResult(use);
                    try
                    {
                        Assert.Equal($"reply {use}", await result);
                    }
                    catch (TranslatedException expiry) when (expiry.InnerException is TimeoutException)
                    {
                        // This thread was descheduled for a whole timeout between the start and the reply: a genuine
                        // expiry. An expired wait is not used again, as the store's are not.
                        command = new TestCommand(deadlines);
                    }
                }

                var unanswered = new TestCommand(deadlines).Start(new TaskCompletionSource<int>().Task, CancellationToken.None);
                var timedOut = await Assert.ThrowsAsync<TranslatedException>(async () => await unanswered.AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
                Assert.IsType<TimeoutException>(timedOut.InnerException);
            }
        })).ToArray();

        await Task.WhenAll(workers);
    }

    [Fact]
    public async Task A_use_that_starts_while_a_tick_finds_nothing_waiting_still_times_out()
    {
        // The use starts during the tick's look, so the look may miss it (whether it does depends on where the new wait
        // lands in the tracked set, hence the repetitions), and before the timer is stopped, so the use sees it running
        // and does not start it: only the tick's second look, after stopping the timer, gives the use its deadline.
        for (var attempt = 0; attempt < 40; attempt++)
        {
            var time = new FakeTimeProvider();
            using var deadlines = new OperationDeadlines(Timeout, time);
            ValueTask<string> started = default;
            var hook = new StartingExpirable(() => started = new TestCommand(deadlines).Start(new TaskCompletionSource<int>().Task, CancellationToken.None));
            deadlines.Track(hook);
            deadlines.EnsureTicking();
            Pass(time, Tick);
            Pass(time, Timeout + (2 * Tick));
            var timedOut = await Assert.ThrowsAsync<TranslatedException>(async () => await started.AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
            Assert.IsType<TimeoutException>(timedOut.InnerException);
        }
    }

    /// <summary>An operation that never waits itself, and runs <paramref name="onFirstLook"/> the first time a tick looks at it.</summary>
    private sealed class StartingExpirable(Action onFirstLook) : IExpirable
    {
        private Action? _onFirstLook = onFirstLook;

        public bool ExpireIfStartedBy(long lastDueTick)
        {
            var action = _onFirstLook;
            _onFirstLook = null;
            action?.Invoke();
            return false;
        }
    }

    [Fact]
    public void A_sweep_looks_at_each_tracked_operation_and_allocates_nothing_per_operation()
    {
        var time = new FakeTimeProvider();
        using var deadlines = new OperationDeadlines(Timeout, time);
        var operations = Enumerable.Range(0, 500).Select(_ => new WaitingExpirable()).ToArray();
        foreach (var operation in operations)
        {
            deadlines.Track(operation);
        }

        deadlines.EnsureTicking();
        Pass(time, Tick * 10);
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        Pass(time, Tick * 100);
        var perTick = (double)(GC.GetAllocatedBytesForCurrentThread() - allocated) / 100;
        Assert.All(operations, operation => Assert.Equal(110, operation.Looked));
        Assert.True(perTick < 100, $"{perTick:0.0} bytes allocated per tick for 500 operations");

        deadlines.Untrack(operations[0]);
        Pass(time, Tick);
        Assert.Equal(110, operations[0].Looked);
        Assert.Equal(111, operations[1].Looked);
    }

    [Fact]
    public async Task Reused_waits_under_concurrency_each_return_their_own_reply()
    {
        var time = new FakeTimeProvider();
        using var deadlines = new OperationDeadlines(Timeout, time);
        var workers = Enumerable.Range(0, 8).Select(worker => Task.Run(async () =>
        {
            var command = new TestCommand(deadlines);
            for (var use = 0; use < 2_000; use++)
            {
                var reply = new TaskCompletionSource<int>();
                var value = (worker * 1_000_000) + use;
                var result = command.Start(reply.Task, CancellationToken.None);
                _ = Task.Run(() => reply.SetResult(value));
                Assert.Equal($"reply {value}", await result);
            }

            Assert.Equal(2_000, command.Returned);
        })).ToArray();

        await Task.WhenAll(workers);
    }

    /// <summary>An operation whose use always waits and is never due: the sweeper only looks at it.</summary>
    private sealed class WaitingExpirable : IExpirable
    {
        public long Looked { get; private set; }

        public bool ExpireIfStartedBy(long lastDueTick)
        {
            Looked++;
            return true;
        }
    }

    /// <summary>A command whose result is its reply, so its uses allocate nothing of their own.</summary>
    private sealed class EchoCommand(OperationDeadlines deadlines) : BoundedCommand<int, int>(deadlines)
    {
        public int Returned { get; private set; }

        public ValueTask<int> Start(Task<int> pending, CancellationToken cancellationToken) => Await(pending, cancellationToken);

        protected override int Map(int reply) => reply;

        protected override Exception Translate(Exception failure) => failure;

        protected override void Return() => Returned++;

        protected override void Retire()
        {
        }
    }

    /// <summary>A wait that, like the store's, is a member of <paramref name="pool"/> or is dropped after its use.</summary>
    private sealed class PooledCommand(OperationDeadlines deadlines, WaitPool<PooledCommand>? pool) : BoundedCommand<int, int>(deadlines)
    {
        public ValueTask<int> Start(Task<int> pending, CancellationToken cancellationToken) => Await(pending, cancellationToken);

        protected override int Map(int reply) => reply;

        protected override Exception Translate(Exception failure) => failure;

        protected override void Return() => ReturnTo(this, pool);

        protected override void Retire() => LeavePool(pool);
    }

    private sealed class TranslatedException(Exception inner) : Exception("translated", inner);

    private sealed class TestCommand(OperationDeadlines deadlines) : BoundedCommand<int, string>(deadlines)
    {
        public int Returned { get; private set; }

        public ValueTask<string> Start(Task<int> pending, CancellationToken cancellationToken) => Await(pending, cancellationToken);

        protected override string Map(int reply) => $"reply {reply}";

        protected override Exception Translate(Exception failure) => new TranslatedException(failure);

        public int Retired { get; private set; }

        protected override void Return() => Returned++;

        protected override void Retire() => Retired++;
    }
}
