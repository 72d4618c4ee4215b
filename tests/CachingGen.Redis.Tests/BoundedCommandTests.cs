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
        var command = new TestCommand();
        var reply = new TaskCompletionSource<int>();
        var result = command.Start(reply.Task, deadlines, CancellationToken.None);
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
        var command = new TestCommand();
        using var cancellation = new CancellationTokenSource();
        var result = command.Start(new TaskCompletionSource<int>().Task, deadlines, cancellation.Token);
        var source = (IValueTaskSource<string>)command;
        cancellation.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await result);

        // Taking an outcome twice breaks ValueTask's rule, but must not give a pool membership back twice.
        Assert.ThrowsAny<Exception>(() => source.GetResult(0));
        Assert.Equal(1, command.Retired);
        Assert.Equal(0, command.Returned);
    }

    [Fact]
    public async Task A_failed_command_surfaces_as_the_translated_error()
    {
        var time = new FakeTimeProvider();
        using var deadlines = new OperationDeadlines(Timeout, time);
        var command = new TestCommand();
        var reply = new TaskCompletionSource<int>();
        var result = command.Start(reply.Task, deadlines, CancellationToken.None);

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
        var command = new TestCommand();
        var reply = new TaskCompletionSource<int>();
        var result = command.Start(reply.Task, deadlines, CancellationToken.None);

        Pass(time, Timeout - TimeSpan.FromMilliseconds(1));
        await Task.Delay(50);
        Assert.False(result.IsCompleted, "expired before its deadline");

        // A deadline fires at most two ticks after it: the first mark after the start, then the tick that finds it due.
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
        var command = new TestCommand();

        // A thousand answered uses leave a thousand deadlines in the queue, spread over the first half of a timeout.
        for (var use = 0; use < 1_000; use++)
        {
            var answered = new TaskCompletionSource<int>();
            var result = command.Start(answered.Task, deadlines, CancellationToken.None);
            answered.SetResult(use);
            Assert.Equal($"reply {use}", await result);
            if (use % 100 == 99)
            {
                Pass(time, Timeout / 20);
            }
        }

        var waiting = new TaskCompletionSource<int>();
        var last = command.Start(waiting.Task, deadlines, CancellationToken.None);

        // Every earlier deadline has passed and been swept; the waiting use still has its whole timeout but two ticks.
        Pass(time, Timeout - (2 * Tick));
        await Task.Delay(50);
        Assert.False(last.IsCompleted, "an earlier use's deadline expired the waiting use");

        Pass(time, 4 * Tick);
        var translated = await Assert.ThrowsAsync<TranslatedException>(async () => await last);
        Assert.IsType<TimeoutException>(translated.InnerException);
        Assert.Equal(1_000, command.Returned);
    }

    [Fact]
    public async Task An_operation_queued_just_after_a_time_mark_is_due_a_timeout_after_the_next_mark_never_earlier()
    {
        // The queue holds no start times: each tick appends a time mark, and an operation is due once the first mark
        // after it is a timeout old. One started just after a mark waits for the next one: up to two ticks late.
        var time = new FakeTimeProvider();
        using var deadlines = new OperationDeadlines(Timeout, time);
        var early = new TestCommand().Start(new TaskCompletionSource<int>().Task, deadlines, CancellationToken.None);
        Pass(time, Tick);
        var late = new TestCommand().Start(new TaskCompletionSource<int>().Task, deadlines, CancellationToken.None);

        // The first mark (one tick) follows the early operation; the late one, started at that tick, is marked at the next.
        Pass(time, Timeout - TimeSpan.FromMilliseconds(1));
        await Task.Delay(50);
        Assert.False(early.IsCompleted, "expired before a timeout had passed since its mark");
        Assert.False(late.IsCompleted, "expired before its deadline");

        Pass(time, TimeSpan.FromMilliseconds(1));
        var translated = await Assert.ThrowsAsync<TranslatedException>(async () => await early);
        Assert.IsType<TimeoutException>(translated.InnerException);
        await Task.Delay(50);
        Assert.False(late.IsCompleted, "expired a timeout after the mark before its start");

        Pass(time, Tick);
        translated = await Assert.ThrowsAsync<TranslatedException>(async () => await late);
        Assert.IsType<TimeoutException>(translated.InnerException);
    }

    [Fact]
    public async Task An_operation_queued_while_a_tick_is_descheduled_is_never_expired_early()
    {
        // A tick stalls right after reading the clock, and an operation is queued meanwhile. Had the tick read the clock
        // before queuing its mark, that operation would lie before a mark dated before its start, and expire a stall
        // early; the mark is queued first, so the operation falls after it.
        var time = new StallingTimeProvider();
        using var deadlines = new OperationDeadlines(Timeout, time);
        var first = new TestCommand().Start(new TaskCompletionSource<int>().Task, deadlines, CancellationToken.None);
        ValueTask<string> slipped = default;
        var stall = 3 * Tick;
        time.OnNextRead = () =>
        {
            time.Advance(stall);
            slipped = new TestCommand().Start(new TaskCompletionSource<int>().Task, deadlines, CancellationToken.None);
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
        var command = new TestCommand();
        using var cancellation = new CancellationTokenSource();
        var result = command.Start(new TaskCompletionSource<int>().Task, deadlines, cancellation.Token);
        cancellation.Cancel();
        var cancelled = await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await result);
        Assert.Equal(cancellation.Token, cancelled.CancellationToken);
        Assert.Equal(0, command.Returned);
        Assert.Equal(1, command.Retired);

        var again = new TestCommand();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await again.Start(new TaskCompletionSource<int>().Task, deadlines, cancellation.Token));
        Assert.Equal(0, again.Returned);
        Assert.Equal(1, again.Retired);

        // The deadlines of the cancelled uses come and go without effect.
        Pass(time, Timeout * 2);
    }

    [Fact]
    public async Task The_deadline_timer_ticks_only_while_something_is_queued()
    {
        var time = new FakeTimeProvider();
        using var deadlines = new OperationDeadlines(Timeout, time);
        Assert.False(deadlines.IsTicking);

        var command = new TestCommand();
        var reply = new TaskCompletionSource<int>();
        var result = command.Start(reply.Task, deadlines, CancellationToken.None);
        Assert.True(deadlines.IsTicking);
        reply.SetResult(1);
        await result;

        // The answered use's deadline stays queued until it is due; the tick that removes it finds nothing left.
        Pass(time, Timeout / 2);
        Assert.True(deadlines.IsTicking);
        Pass(time, Timeout);
        Assert.False(deadlines.IsTicking);

        var next = new TaskCompletionSource<int>();
        var again = command.Start(next.Task, deadlines, CancellationToken.None);
        Assert.True(deadlines.IsTicking);
        next.SetResult(2);
        Assert.Equal("reply 2", await again);
    }

    [Fact]
    public void Sweeping_the_deadlines_reuses_the_queue_instead_of_allocating_per_deadline()
    {
        // Every read queues a deadline, and a busy store sweeps every tick: if a sweep pinned the queue's memory, each
        // deadline would take a fresh slot (growing segments up to the large object heap) for the life of the store.
        var time = new FakeTimeProvider();
        using var deadlines = new OperationDeadlines(Timeout, time);
        var operation = new CountingExpirable();
        var version = 0L;
        void OneTick()
        {
            for (var i = 0; i < 200; i++)
            {
                deadlines.Add(operation, ++version);
            }

            Pass(time, Timeout / 8);
        }

        // Warm-up: the queue grows to what a timeout's worth of deadlines needs.
        for (var tick = 0; tick < 50; tick++)
        {
            OneTick();
        }

        var expiredBefore = operation.Expired;
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        for (var tick = 0; tick < 500; tick++)
        {
            OneTick();
        }

        var perDeadline = (double)(GC.GetAllocatedBytesForCurrentThread() - allocated) / (500 * 200);
        Assert.True(operation.Expired - expiredBefore >= 90_000, $"only {operation.Expired - expiredBefore} deadlines passed");
        Assert.True(perDeadline < 1, $"{perDeadline:0.0} bytes allocated per deadline");
    }

    [Fact]
    public async Task Reused_waits_under_concurrency_each_return_their_own_reply()
    {
        var time = new FakeTimeProvider();
        using var deadlines = new OperationDeadlines(Timeout, time);
        var workers = Enumerable.Range(0, 8).Select(worker => Task.Run(async () =>
        {
            var command = new TestCommand();
            for (var use = 0; use < 2_000; use++)
            {
                var reply = new TaskCompletionSource<int>();
                var value = (worker * 1_000_000) + use;
                var result = command.Start(reply.Task, deadlines, CancellationToken.None);
                _ = Task.Run(() => reply.SetResult(value));
                Assert.Equal($"reply {value}", await result);
            }

            Assert.Equal(2_000, command.Returned);
        })).ToArray();

        await Task.WhenAll(workers);
    }

    private sealed class CountingExpirable : IExpirable
    {
        public long Expired { get; private set; }

        public void Expire(long version) => Expired++;
    }

    private sealed class TranslatedException(Exception inner) : Exception("translated", inner);

    private sealed class TestCommand : BoundedCommand<int, string>
    {
        public int Returned { get; private set; }

        public ValueTask<string> Start(Task<int> pending, OperationDeadlines deadlines, CancellationToken cancellationToken)
            => Await(pending, deadlines, cancellationToken);

        protected override string Map(int reply) => $"reply {reply}";

        protected override Exception Translate(Exception failure) => new TranslatedException(failure);

        public int Retired { get; private set; }

        protected override void Return() => Returned++;

        protected override void Retire() => Retired++;
    }
}
