using System.Diagnostics.Metrics;
using CachingGen.Runtime;
using CachingGen.Storage;
using CachingGen.Tests.Support;
using Sample;

namespace CachingGen.Tests.Runtime;

/// <summary>Concurrent reads of one key share the store's lookups (<see cref="CachingGenOptions.ShareConcurrentLookups"/>),
/// and a reader never takes the answer of a lookup that was sent before it started.</summary>
public sealed class SharedLookupTests
{
    [Fact]
    public async Task A_stampede_that_arrives_during_the_first_lookup_costs_one_load_and_two_lookups()
    {
        // The first reader's lookup, and one more sent after the stampede arrived, which lets it go with the loaded value.
        FlakyCacheStore? flaky = null;
        await using var h = new Harness(wrapStore: store => flaky = new FlakyCacheStore(store));
        h.Database.Seed(new Preference(1, 1, "sms", false));
        var load = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        h.Database.BeforeGet = (_, _) => load.Task;
        var reply = Gate.HoldNextGetReply(flaky!);

        var first = h.Repository.GetAsync(1).AsTask();
        await reply.Reached;
        var stampede = Enumerable.Range(0, 100).Select(_ => h.Repository.GetAsync(1).AsTask()).ToArray();
        Assert.Equal(100, h.Cache.GetLookupWaiters(Harness.Key(1)));
        Assert.Equal(1, h.Store.Gets);

        reply.Open();
        await Eventually.TrueAsync(() => h.Cache.GetFlightWaiters(Harness.Key(1)) == 101, "the stampede joined the first reader's load");
        load.SetResult();
        Assert.Equal("sms", (await first)!.Channel);
        Assert.All(await Task.WhenAll(stampede), read => Assert.Equal("sms", read!.Channel));
        Assert.Equal(2, h.Store.Gets);
        Assert.Equal(1, h.Database.Gets);
        Assert.Equal(1, h.Store.Fills);
    }

    [Fact]
    public async Task Latecomers_that_cannot_leave_are_joined_to_the_miss_flight_before_its_load_starts()
    {
        // They would only join it when they woke: the lookup's reader joins them, and they wake once, when it settles.
        FlakyCacheStore? flaky = null;
        await using var h = new Harness(wrapStore: store => flaky = new FlakyCacheStore(store));
        h.Database.Seed(new Preference(11, 1, "sms", false));
        var load = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var waitersWhenLoadStarted = -1;
        h.Database.BeforeGet = (_, _) =>
        {
            waitersWhenLoadStarted = h.Cache.GetFlightWaiters(Harness.Key(11));
            return load.Task;
        };
        var (first, latecomers) = await MissWithLatecomersAsync(h, flaky!, 11, 50);
        await Eventually.TrueAsync(() => Volatile.Read(ref waitersWhenLoadStarted) >= 0, "the load started");
        Assert.Equal(51, waitersWhenLoadStarted);

        load.SetResult();
        Assert.Equal("sms", (await first)!.Channel);
        Assert.All(await Task.WhenAll(latecomers), read => Assert.Equal("sms", read!.Channel));
        Assert.Equal(2, h.Store.Gets);
        Assert.Equal(1, h.Database.Gets);
    }

    [Fact]
    public async Task Latecomers_take_the_loaded_value_before_the_fill_when_a_later_lookup_confirms_nothing_was_written()
    {
        // A lookup sent after they arrived found the key as the miss did: no write they must see came between, so they
        // need not wait for the fill's compare-and-set (one more round trip) to keep the value.
        FlakyCacheStore? flaky = null;
        await using var h = new Harness(wrapStore: store => flaky = new FlakyCacheStore(store));
        h.Database.Seed(new Preference(15, 1, "sms", false));
        var fill = Gate.HoldNextFill(flaky!);
        var (first, latecomers) = await MissWithLatecomersAsync(h, flaky!, 15, 10);
        await fill.Reached;

        // Were they waiting for the fill, this would time out: the fill is held until they have their value.
        Assert.All(await Task.WhenAll(latecomers).WaitAsync(TimeSpan.FromSeconds(30)), read => Assert.Equal("sms", read!.Channel));
        Assert.Equal("sms", (await first)!.Channel);
        Assert.Equal(2, h.Store.Gets);
        fill.Open();
        await Eventually.TrueAsync(() => h.Inspect(15).Found, "the fill was stored");
        Assert.Equal(1, h.Database.Gets);
    }

    [Fact]
    public async Task Latecomers_that_arrive_after_a_write_back_the_miss_predates_read_that_write()
    {
        // The first lookup missed before a write-back was acknowledged; the latecomers started after the acknowledgement.
        // The load reads the database, which the write-back has not reached: the lookup sent for them finds the write's
        // pinned value, so they wait for the fill, which the pinned value refuses, and read again.
        FlakyCacheStore? flaky = null;
        await using var h = new Harness(wrapStore: store => flaky = new FlakyCacheStore(store));
        h.Database.Seed(new Preference(16, 1, "old", true));
        var fill = Gate.HoldNextFill(flaky!);
        var reply = Gate.HoldNextGetReply(flaky!);
        var first = h.Repository.GetAsync(16).AsTask();
        await reply.Reached;
        await h.Repository.UpdateAsync(new Preference(16, 2, "new", true));
        var latecomers = Enumerable.Range(0, 10).Select(_ => h.Repository.GetAsync(16).AsTask()).ToArray();
        Assert.Equal(10, h.Cache.GetLookupWaiters(Harness.Key(16)));
        reply.Open();

        Assert.Equal("old", (await first)!.Channel);
        await fill.Reached;
        fill.Open();
        Assert.All(await Task.WhenAll(latecomers), read => Assert.Equal("new", read!.Channel));
        Assert.Equal("new", (await h.Repository.GetAsync(16))!.Channel);
    }

    [Fact]
    public async Task Latecomers_whose_confirming_lookup_fails_keep_the_value_once_the_fill_is_stored()
    {
        FlakyCacheStore? flaky = null;
        await using var h = new Harness(wrapStore: store => flaky = new FlakyCacheStore(store));
        h.Database.Seed(new Preference(17, 1, "push", false));
        var fill = Gate.HoldNextFill(flaky!);
        var reply = Gate.HoldNextGetReply(flaky!);
        var first = h.Repository.GetAsync(17).AsTask();
        await reply.Reached;
        var latecomers = Enumerable.Range(0, 10).Select(_ => h.Repository.GetAsync(17).AsTask()).ToArray();
        flaky!.FailWhen = operation => operation == "get";
        reply.Open();

        Assert.Equal("push", (await first)!.Channel);
        await fill.Reached;
        Assert.Equal(1, flaky.Failures);
        await Task.WhenAny(Task.WhenAll(latecomers), Task.Delay(200));
        Assert.False(latecomers.Any(read => read.IsCompleted), "a latecomer kept the value although nothing confirmed its right to it");
        flaky.FailWhen = null;
        fill.Open();
        Assert.All(await Task.WhenAll(latecomers), read => Assert.Equal("push", read!.Channel));
        Assert.Equal(1, h.Database.Gets);
    }

    [Fact]
    public async Task Latecomers_joined_to_a_flight_keep_its_load_when_its_starter_leaves()
    {
        FlakyCacheStore? flaky = null;
        await using var h = new Harness(wrapStore: store => flaky = new FlakyCacheStore(store));
        h.Database.Seed(new Preference(12, 1, "push", true));
        var load = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var loadToken = new TaskCompletionSource<CancellationToken>(TaskCreationOptions.RunContinuationsAsynchronously);
        h.Database.BeforeGet = (_, ct) =>
        {
            loadToken.TrySetResult(ct);
            return load.Task;
        };
        using var starterLeaves = new CancellationTokenSource();

        var (starter, latecomers) = await MissWithLatecomersAsync(h, flaky!, 12, 10, starterLeaves.Token);
        var token = await loadToken.Task;
        await starterLeaves.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => starter);
        Assert.False(token.IsCancellationRequested, "the load was cancelled while readers that cannot leave waited for it");

        load.SetResult();
        Assert.All(await Task.WhenAll(latecomers), read => Assert.Equal("push", read!.Channel));
        Assert.Equal(1, h.Database.Gets);
    }

    [Fact]
    public async Task Latecomers_joined_to_a_flight_whose_load_fails_get_its_failure()
    {
        FlakyCacheStore? flaky = null;
        await using var h = new Harness(wrapStore: store => flaky = new FlakyCacheStore(store));
        h.Database.Seed(new Preference(13, 1, "sms", true));
        var load = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        h.Database.BeforeGet = (_, _) => load.Task;
        var (first, latecomers) = await MissWithLatecomersAsync(h, flaky!, 13, 10);
        await Eventually.TrueAsync(() => h.Cache.GetFlightWaiters(Harness.Key(13)) == 11, "the latecomers joined the load");
        load.SetException(new InvalidOperationException("database down"));

        Assert.Equal("database down", (await Assert.ThrowsAsync<InvalidOperationException>(() => first)).Message);
        foreach (var latecomer in latecomers)
        {
            Assert.Equal("database down", (await Assert.ThrowsAsync<InvalidOperationException>(() => latecomer)).Message);
        }
    }

    [Fact]
    public async Task Latecomers_joined_to_a_flight_whose_fill_is_refused_read_the_write_that_came_between()
    {
        // The in-memory store answers the fill at once, so the flight settles before any early release: this pins the
        // refused-fill path. A write-through acknowledged during the load refuses its fill: the latecomers may not keep the loaded value
        // (it may predate the write) and read again, which finds the write.
        FlakyCacheStore? flaky = null;
        await using var h = new Harness(wrapStore: store => flaky = new FlakyCacheStore(store));
        h.Database.Seed(new Preference(14, 1, "old", true));
        var loaded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var load = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        h.Database.AfterRead = (_, _) =>
        {
            loaded.TrySetResult();
            return load.Task;
        };
        var (first, latecomers) = await MissWithLatecomersAsync(h, flaky!, 14, 10);
        await loaded.Task;
        h.Database.AfterRead = null;
        await h.Repository.SaveAsync(new Preference(14, 2, "new", true));
        load.SetResult();

        Assert.Equal("old", (await first)!.Channel);
        Assert.All(await Task.WhenAll(latecomers), read => Assert.Equal("new", read!.Channel));
        Assert.Equal("new", (await h.Repository.GetAsync(14))!.Channel);
    }

    /// <summary>Starts a read of <paramref name="id"/> whose lookup the store holds, then <paramref name="latecomers"/>
    /// reads (their tokens cannot be cancelled) that arrive during that lookup, and lets the lookup's reply through.</summary>
    private static async Task<(Task<Preference?> First, Task<Preference?>[] Latecomers)> MissWithLatecomersAsync(Harness h, FlakyCacheStore flaky, long id, int latecomers, CancellationToken firstToken = default)
    {
        var reply = Gate.HoldNextGetReply(flaky);
        var first = h.Repository.GetAsync(id, firstToken).AsTask();
        await reply.Reached;
        var late = Enumerable.Range(0, latecomers).Select(_ => h.Repository.GetAsync(id).AsTask()).ToArray();
        reply.Open();
        return (first, late);
    }

    [Fact]
    public async Task Readers_arriving_during_a_hit_share_one_more_lookup()
    {
        FlakyCacheStore? flaky = null;
        await using var h = new Harness(wrapStore: store => flaky = new FlakyCacheStore(store));
        h.Database.Seed(new Preference(2, 1, "push", true));
        await h.Repository.GetAsync(2);
        var lookupsBefore = h.Store.Gets;
        var firstReply = Gate.HoldNextGetReply(flaky!);

        var first = h.Repository.GetAsync(2).AsTask();
        await firstReply.Reached;
        var followers = Enumerable.Range(0, 20).Select(_ => h.Repository.GetAsync(2).AsTask()).ToArray();
        Assert.Equal(20, h.Cache.GetLookupWaiters(Harness.Key(2)));
        Assert.Equal(lookupsBefore + 1, h.Store.Gets);

        // The first lookup may have been answered before a write the followers must see: they take the next one.
        var nextReply = Gate.HoldNextGetReply(flaky!);
        firstReply.Open();
        Assert.Equal("push", (await first)!.Channel);
        await nextReply.Reached;
        await Eventually.TrueAsync(() => h.Cache.GetLookupWaiters(Harness.Key(2)) == 19, "the followers share the next lookup");
        nextReply.Open();
        Assert.All(await Task.WhenAll(followers), read => Assert.Equal("push", read!.Channel));
        Assert.Equal(lookupsBefore + 2, h.Store.Gets);
        Assert.Equal(1, h.Database.Gets);
    }

    [Fact]
    public async Task A_reader_that_arrives_during_a_lookup_answered_before_a_write_reads_that_write()
    {
        // The first lookup read "old" from the store, and its reply is still on its way when a write-through of "new" is
        // acknowledged. A reader that starts now must see "new": it may wait for that lookup, never take its answer.
        FlakyCacheStore? flaky = null;
        await using var h = new Harness(wrapStore: store => flaky = new FlakyCacheStore(store));
        h.Database.Seed(new Preference(3, 1, "old", true));
        await h.Repository.GetAsync(3);
        var reply = Gate.HoldNextGetReply(flaky!);

        var first = Task.Run(() => h.Repository.GetAsync(3).AsTask());
        await reply.Reached;
        await h.Repository.SaveAsync(new Preference(3, 2, "new", true));
        var late = h.Repository.GetAsync(3).AsTask();
        Assert.Equal(1, h.Cache.GetLookupWaiters(Harness.Key(3)));

        reply.Open();
        Assert.Equal("old", (await first)!.Channel);
        Assert.Equal("new", (await late)!.Channel);
    }

    [Fact]
    public async Task Readers_sharing_a_lookup_that_failed_for_its_own_reader_look_the_key_up_again()
    {
        FlakyCacheStore? flaky = null;
        await using var h = new Harness(wrapStore: store => flaky = new FlakyCacheStore(store));
        h.Database.Seed(new Preference(4, 1, "email", true));
        await h.Repository.GetAsync(4);
        var reply = Gate.HoldNextGetReply(flaky!);

        var first = h.Repository.GetAsync(4).AsTask();
        await reply.Reached;
        var followers = Enumerable.Range(0, 5).Select(_ => h.Repository.GetAsync(4).AsTask()).ToArray();
        Assert.Equal(5, h.Cache.GetLookupWaiters(Harness.Key(4)));

        reply.Fail(new OperationCanceledException("the first reader's lookup was cancelled"));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        Assert.All(await Task.WhenAll(followers), read => Assert.Equal("email", read!.Channel));
        Assert.Equal(1, h.Database.Gets);
        Assert.Equal(0, h.Cache.GetLookupWaiters(Harness.Key(4)));
    }

    [Fact]
    public async Task Readers_sharing_a_lookup_that_found_the_store_unavailable_read_the_database()
    {
        FlakyCacheStore? flaky = null;
        await using var h = new Harness(wrapStore: store => flaky = new FlakyCacheStore(store));
        h.Database.Seed(new Preference(5, 1, "sms", true));
        var reply = Gate.HoldNextGetReply(flaky!);

        var first = h.Repository.GetAsync(5).AsTask();
        await reply.Reached;
        var followers = Enumerable.Range(0, 5).Select(_ => h.Repository.GetAsync(5).AsTask()).ToArray();

        reply.Fail(new CacheStoreUnavailableException("test store unavailable: get timed out", new TimeoutException()));
        Assert.Equal("sms", (await first)!.Channel);
        Assert.All(await Task.WhenAll(followers), read => Assert.Equal("sms", read!.Channel));
        Assert.Equal(6, h.Database.Gets);
        Assert.Equal(1, h.Store.Gets);
        Assert.Equal(0, h.Store.Fills);
    }

    [Fact]
    public async Task Every_way_a_lookup_ends_frees_its_slot()
    {
        // A slot left holding an ended lookup would hand its old answer to every later reader of the key.
        FlakyCacheStore? flaky = null;
        await using var h = new Harness(wrapStore: store => flaky = new FlakyCacheStore(store));
        h.Database.Seed(new Preference(9, 1, "sms", true));
        var key = Harness.Key(9);

        // Starts a read whose lookup is held in the store, and waits until that lookup holds its slot.
        async Task<(Gate Reply, Task<Preference?> Read)> ReadWithHeldLookupAsync()
        {
            var reply = Gate.HoldNextGetReply(flaky!);
            var read = h.Repository.GetAsync(9).AsTask();
            await reply.Reached;
            Assert.True(h.Cache.HasLookupInProgress(key));
            return (reply, read);
        }

        var miss = await ReadWithHeldLookupAsync();
        miss.Reply.Open();
        Assert.Equal("sms", (await miss.Read)!.Channel);
        Assert.False(h.Cache.HasLookupInProgress(key), "after a miss");

        var hit = await ReadWithHeldLookupAsync();
        hit.Reply.Open();
        Assert.Equal("sms", (await hit.Read)!.Channel);
        Assert.False(h.Cache.HasLookupInProgress(key), "after a hit");

        var unavailable = await ReadWithHeldLookupAsync();
        unavailable.Reply.Fail(new CacheStoreUnavailableException("test store unavailable: get timed out", new TimeoutException()));
        Assert.Equal("sms", (await unavailable.Read)!.Channel);
        Assert.False(h.Cache.HasLookupInProgress(key), "after the store was unavailable");

        var failed = await ReadWithHeldLookupAsync();
        failed.Reply.Fail(new OperationCanceledException("the reader's lookup was cancelled"));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => failed.Read);
        Assert.False(h.Cache.HasLookupInProgress(key), "after the lookup failed");
    }

    [Fact]
    public async Task A_miss_that_fails_before_letting_its_sharers_go_still_lets_them_go()
    {
        // A metrics listener that throws on the miss counter fails the lookup's own reader on its miss path, before the
        // readers sharing its lookup were let go: they must look the key up again, not wait for good.
        FlakyCacheStore? flaky = null;
        await using var h = new Harness(wrapStore: store => flaky = new FlakyCacheStore(store));
        h.Database.Seed(new Preference(10, 1, "push", true));
        var throwOnce = 1;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter, h.Runtime.Telemetry.Meter) && instrument.Name == "cachinggen.cache.misses")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, _, _, _) =>
        {
            if (Interlocked.Exchange(ref throwOnce, 0) == 1)
            {
                throw new InvalidOperationException("listener failed");
            }
        });
        listener.Start();
        var reply = Gate.HoldNextGetReply(flaky!);

        var first = h.Repository.GetAsync(10).AsTask();
        await reply.Reached;
        var followers = Enumerable.Range(0, 5).Select(_ => h.Repository.GetAsync(10).AsTask()).ToArray();
        Assert.Equal(5, h.Cache.GetLookupWaiters(Harness.Key(10)));
        reply.Open();

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => first);
        Assert.Equal("listener failed", failure.Message);
        var reads = await Task.WhenAll(followers).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.All(reads, read => Assert.Equal("push", read!.Channel));
        Assert.False(h.Cache.HasLookupInProgress(Harness.Key(10)));
    }

    [Fact]
    public async Task A_waiting_reader_that_cancels_leaves_the_lookup_to_the_others()
    {
        FlakyCacheStore? flaky = null;
        await using var h = new Harness(wrapStore: store => flaky = new FlakyCacheStore(store));
        h.Database.Seed(new Preference(6, 1, "push", false));
        await h.Repository.GetAsync(6);
        var reply = Gate.HoldNextGetReply(flaky!);
        using var leaving = new CancellationTokenSource();

        var first = h.Repository.GetAsync(6).AsTask();
        await reply.Reached;
        var cancelled = h.Repository.GetAsync(6, leaving.Token).AsTask();
        await leaving.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);

        reply.Open();
        Assert.Equal("push", (await first)!.Channel);
    }

    [Fact]
    public async Task A_reader_whose_slot_holds_another_keys_lookup_looks_up_alone()
    {
        FlakyCacheStore? flaky = null;
        await using var h = new Harness(wrapStore: store => flaky = new FlakyCacheStore(store));
        var other = Enumerable.Range(1_000, 100_000).First(id => EntityCache<Preference>.SlotOf(Harness.Key(id)) == EntityCache<Preference>.SlotOf(Harness.Key(8)));
        h.Database.Seed(new Preference(8, 1, "sms", false));
        h.Database.Seed(new Preference(other, 1, "push", true));
        var reply = Gate.HoldNextGetReply(flaky!);

        var first = h.Repository.GetAsync(8).AsTask();
        await reply.Reached;
        Assert.Equal("push", (await h.Repository.GetAsync(other).AsTask().WaitAsync(TimeSpan.FromSeconds(30)))!.Channel);
        Assert.Equal(2, h.Store.Gets);

        reply.Open();
        Assert.Equal("sms", (await first)!.Channel);
    }

    [Fact]
    public async Task With_sharing_off_every_reader_sends_its_own_lookup()
    {
        FlakyCacheStore? flaky = null;
        await using var h = new Harness(options => options.ShareConcurrentLookups = false, wrapStore: store => flaky = new FlakyCacheStore(store));
        h.Database.Seed(new Preference(7, 1, "sms", false));
        await h.Repository.GetAsync(7);
        var reply = Gate.HoldNextGetReply(flaky!);

        var first = h.Repository.GetAsync(7).AsTask();
        await reply.Reached;
        var followers = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => h.Repository.GetAsync(7).AsTask()));
        Assert.All(followers, read => Assert.Equal("sms", read!.Channel));
        Assert.Equal(7, h.Store.Gets);

        reply.Open();
        Assert.Equal("sms", (await first)!.Channel);
    }

    [Fact]
    public async Task The_in_memory_store_never_shares_lookups()
    {
        await using var direct = new Harness(wrapStore: store => ((CountingCacheStore)store).Inner);
        await using var wrapped = new Harness();
        Assert.False(direct.Cache.SharesLookups);
        Assert.True(wrapped.Cache.SharesLookups);
    }

    [Fact]
    public void The_first_reader_to_wait_turns_the_lookups_key_into_a_shared_lookup_the_next_ones_find()
    {
        var key = Harness.Key(1);
        object? slot = key;

        var first = EntityCache<Preference>.WaitFor(ref slot, key, key);
        var second = EntityCache<Preference>.WaitFor(ref slot, slot!, key);

        Assert.NotNull(first);
        Assert.Equal(key, first.Key);
        Assert.Same(first, slot);
        Assert.Same(first, second);
    }

    [Fact]
    public void A_reader_whose_lookup_ended_before_it_could_wait_looks_up_alone()
    {
        var key = Harness.Key(1);
        object? slot = null;

        Assert.Null(EntityCache<Preference>.WaitFor(ref slot, key, key));
        Assert.Null(slot);
    }

    [Fact]
    public void A_newer_lookup_of_the_key_is_not_taken_for_the_one_the_reader_saw()
    {
        // The lookup seen ended and a newer reader of the key registered its own key string: the slot is its to free.
        var seen = Harness.Key(1);
        var newer = new string(seen.AsSpan());
        object? slot = newer;

        Assert.Null(EntityCache<Preference>.WaitFor(ref slot, seen, seen));
        Assert.Same(newer, slot);
    }

    [Fact]
    public void A_reader_whose_swap_lost_to_another_waiting_reader_waits_with_it()
    {
        var key = Harness.Key(1);
        object? slot = key;
        var other = EntityCache<Preference>.WaitFor(ref slot, key, key);

        Assert.Same(other, EntityCache<Preference>.WaitFor(ref slot, key, key));
    }

    [Fact]
    public void Another_keys_lookup_is_left_alone()
    {
        object? slot = Harness.Key(2);

        Assert.Null(EntityCache<Preference>.WaitFor(ref slot, slot!, Harness.Key(1)));
        Assert.Equal(Harness.Key(2), slot);
    }
}
