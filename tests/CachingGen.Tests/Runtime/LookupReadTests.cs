using CachingGen.Storage;
using CachingGen.Tests.Support;
using Sample;

namespace CachingGen.Tests.Runtime;

/// <summary>A read whose lookup the store answers later goes on in a pooled object instead of an async method
/// (EntityCache.LookupRead): it must behave as an awaited lookup does, whatever the answer.</summary>
public sealed class LookupReadTests
{
    private static readonly AsyncLocal<string?> Caller = new();

    [Fact]
    public async Task The_callers_execution_context_reaches_the_load_after_a_late_miss()
    {
        await using var h = WithLateReplies(out var flaky);
        h.Database.Seed(new Preference(1, 1, "sms", false));
        string? seenByLoad = "no load";
        h.Database.BeforeGet = (_, _) =>
        {
            seenByLoad = Caller.Value;
            return Task.CompletedTask;
        };
        var replyHeld = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var releaseReply = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        flaky.DelayGetReply = () =>
        {
            // The store answers in a context of its own, as a connection's reader thread does.
            flaky.DelayGetReply = null;
            Caller.Value = "the store's";
            replyHeld.SetResult();
            return releaseReply.Task;
        };

        var read = Task.Run(() =>
        {
            Caller.Value = "request 42";
            return h.Repository.GetAsync(1).AsTask();
        });
        await replyHeld.Task;
        releaseReply.SetResult();

        Assert.Equal("sms", (await read)!.Channel);
        Assert.Equal("request 42", seenByLoad);
    }

    [Fact]
    public async Task A_late_hit_answers_and_its_outcome_cannot_be_taken_twice()
    {
        await using var h = WithLateReplies(out var flaky);
        h.Database.Seed(new Preference(2, 1, "push", true));
        await h.Repository.GetAsync(2);
        var reply = Gate.HoldNextGetReply(flaky);

        var read = h.Repository.GetAsync(2);
        await reply.Reached;
        Assert.False(read.IsCompleted);
        reply.Open();

        Assert.Equal("push", (await read)!.Channel);
        Assert.Throws<InvalidOperationException>(() => read.GetAwaiter().GetResult());
        Assert.Equal(1, h.Database.Gets);

        // The read's object went back to its pool, and serves the next late read as a fresh one.
        var next = Gate.HoldNextGetReply(flaky);
        var again = h.Repository.GetAsync(2);
        await next.Reached;
        next.Open();
        Assert.Equal("push", (await again)!.Channel);
    }

    [Fact]
    public async Task A_late_lookup_that_fails_fails_its_reader_and_lets_its_sharers_read_on()
    {
        await using var h = WithLateReplies(out var flaky);
        h.Database.Seed(new Preference(3, 1, "email", true));
        var reply = Gate.HoldNextGetReply(flaky);

        var first = h.Repository.GetAsync(3).AsTask();
        await reply.Reached;
        var sharer = h.Repository.GetAsync(3).AsTask();
        Assert.Equal(1, h.Cache.GetLookupWaiters(Harness.Key(3)));
        reply.Fail(new InvalidOperationException("a broken reply"));

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => first);
        Assert.Equal("a broken reply", failure.Message);
        Assert.Equal("email", (await sharer)!.Channel);
        Assert.False(h.Cache.HasLookupInProgress(Harness.Key(3)));
    }

    [Fact]
    public async Task A_late_outage_reads_from_the_database()
    {
        await using var h = WithLateReplies(out var flaky);
        h.Database.Seed(new Preference(4, 1, "sms", true));
        var reply = Gate.HoldNextGetReply(flaky);

        var read = h.Repository.GetAsync(4).AsTask();
        await reply.Reached;
        reply.Fail(new CacheStoreUnavailableException("GET failed: the connection dropped.", new IOException("reset")));

        Assert.Equal("sms", (await read)!.Channel);
        Assert.Equal(1, h.Database.Gets);
        Assert.Equal(0, h.Store.Fills);
    }

    [Fact]
    public async Task A_late_lookup_cancelled_by_its_caller_ends_the_read_cancelled()
    {
        await using var h = WithLateReplies(out var flaky);
        h.Database.Seed(new Preference(5, 1, "sms", true));
        var reply = Gate.HoldNextGetReply(flaky);
        using var cancellation = new CancellationTokenSource();

        var read = h.Repository.GetAsync(5, cancellation.Token).AsTask();
        await reply.Reached;
        cancellation.Cancel();
        reply.Fail(new OperationCanceledException(cancellation.Token));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read);
        Assert.True(read.IsCanceled);
        Assert.Equal(0, h.Database.Gets);
    }

    [Fact]
    public async Task A_load_that_fails_after_a_late_miss_fails_the_read()
    {
        await using var h = WithLateReplies(out var flaky);
        var load = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        h.Database.BeforeGet = (_, _) => load.Task;
        var reply = Gate.HoldNextGetReply(flaky);

        var read = h.Repository.GetAsync(6).AsTask();
        await reply.Reached;
        reply.Open();
        await Eventually.TrueAsync(() => h.Cache.GetFlightWaiters(Harness.Key(6)) == 1, "the late miss started its load");
        load.SetException(new TimeoutException("the database is slow"));

        var failure = await Assert.ThrowsAsync<TimeoutException>(() => read);
        Assert.Equal("the database is slow", failure.Message);
    }

    /// <summary>A harness whose store can hold a lookup's answer (<see cref="Gate.HoldNextGetReply"/>), so the read goes on
    /// when the test lets it.</summary>
    private static Harness WithLateReplies(out FlakyCacheStore flaky)
    {
        FlakyCacheStore? wrapped = null;
        var harness = new Harness(wrapStore: store => wrapped = new FlakyCacheStore(store));
        flaky = wrapped!;
        return harness;
    }
}
