using System.Diagnostics.Metrics;
using CachingGen.Generated;
using CachingGen.Runtime;
using CachingGen.Storage;
using CachingGen.Tests.Support;
using Sample;

namespace CachingGen.Tests.Runtime;

public sealed class ReadThroughTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task Hit_returns_the_cached_value_without_an_inner_call()
    {
        await using var h = new Harness();
        h.Database.Seed(new Preference(1, 1, "email", true));
        Assert.Equal("email", (await h.Repository.GetAsync(1))!.Channel);
        Assert.Equal("email", (await h.Repository.GetAsync(1))!.Channel);
        Assert.Equal(1, h.Database.Gets);
        var (value, expiresAt, found) = h.Inspect(1);
        Assert.True(found);
        Assert.Equal(h.Time.GetUtcNow() + TimeSpan.FromSeconds(300), expiresAt);
        Assert.Equal(1, value!.UserId);
    }

    [Fact]
    public async Task Filled_entry_expires_after_the_policy_time_to_live()
    {
        await using var h = new Harness();
        h.Database.Seed(new Preference(1, 1, "email", true));
        await h.Repository.GetAsync(1);
        h.Time.Advance(TimeSpan.FromSeconds(299));
        await h.Repository.GetAsync(1);
        Assert.Equal(1, h.Database.Gets);
        h.Time.Advance(TimeSpan.FromSeconds(2));
        await h.Repository.GetAsync(1);
        Assert.Equal(2, h.Database.Gets);
    }

    [Fact]
    public async Task Hundred_concurrent_misses_make_one_inner_call()
    {
        await using var h = new Harness();
        h.Database.Seed(new Preference(7, 1, "sms", false));
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        h.Database.BeforeGet = (_, _) => release.Task;

        var callers = Enumerable.Range(0, 100).Select(_ => Task.Run(() => h.Repository.GetAsync(7).AsTask())).ToArray();
        await Eventually.TrueAsync(() => h.Cache.GetFlightWaiters(Harness.Key(7)) == 100, "100 callers waiting on one flight");
        release.SetResult();
        var results = await Task.WhenAll(callers);

        Assert.Equal(1, h.Database.Gets);
        Assert.All(results, r => Assert.Equal("sms", r!.Channel));
        await h.Repository.GetAsync(7);
        Assert.Equal(1, h.Database.Gets);
        Assert.Equal(0, h.Cache.GetFlightWaiters(Harness.Key(7)));
    }

    [Fact]
    public async Task A_miss_whose_reply_crossed_the_fill_joins_the_finished_flight_instead_of_loading_again()
    {
        // The stampede gap: caller B's GET saw the miss before A's flight filled the key, but B reaches the flight table
        // only after A's flight finished. B must take A's result, not start a second load. Lookups are not shared here
        // (as when the option is off, or another key's lookup holds the key's slot), so the flight alone must see to it.
        FlakyCacheStore? flaky = null;
        await using var h = new Harness(options => options.ShareConcurrentLookups = false, wrapStore: store => flaky = new FlakyCacheStore(store));
        h.Database.Seed(new Preference(8, 1, "push", true));
        var replyHeld = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var releaseReply = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        flaky!.DelayGetReply = () =>
        {
            flaky.DelayGetReply = null;
            replyHeld.SetResult();
            return releaseReply.Task;
        };

        var late = Task.Run(() => h.Repository.GetAsync(8).AsTask());
        await replyHeld.Task;
        Assert.Equal("push", (await h.Repository.GetAsync(8))!.Channel);
        Assert.Equal(1, h.Database.Gets);

        releaseReply.SetResult();
        Assert.Equal("push", (await late)!.Channel);
        Assert.Equal(1, h.Database.Gets);
    }

    [Fact]
    public async Task A_finished_flight_is_forgotten_after_its_window()
    {
        FlakyCacheStore? flaky = null;
        await using var h = new Harness(wrapStore: store => flaky = new FlakyCacheStore(store));
        h.Database.Seed(new Preference(9, 1, "push", true));
        Assert.Equal("push", (await h.Repository.GetAsync(9))!.Channel);
        Assert.Equal(1, h.Cache.CountFlights());

        h.Time.Advance(EntityCache<Preference>.FinishedFlightWindow);
        await Eventually.TrueAsync(() => h.Cache.CountFlights() == 0, "the finished flight is removed");
    }

    [Fact]
    public async Task Finished_flights_due_within_the_sweep_interval_are_removed_together()
    {
        // The sweeper never waits for less than SweepInterval: a real timer cannot wait under a millisecond, so waiting
        // for exactly the next flight (due a few microseconds later under load) spun a thread-pool thread.
        await using var h = new Harness();
        h.Database.Seed(new Preference(10, 1, "push", true));
        h.Database.Seed(new Preference(11, 1, "sms", true));
        await h.Repository.GetAsync(10);
        h.Time.Advance(TimeSpan.FromMilliseconds(1));
        await h.Repository.GetAsync(11);
        Assert.Equal(2, h.Cache.CountFlights());

        h.Time.Advance(EntityCache<Preference>.FinishedFlightWindow - TimeSpan.FromMilliseconds(1));
        await Eventually.TrueAsync(() => h.Cache.CountFlights() == 1, "the first finished flight is removed");
        h.Time.Advance(TimeSpan.FromMilliseconds(1));
        await Task.Delay(50);
        Assert.Equal(1, h.Cache.CountFlights());

        h.Time.Advance(EntityCache<Preference>.SweepInterval);
        await Eventually.TrueAsync(() => h.Cache.CountFlights() == 0, "the second one is removed one sweep interval later");
    }

    [Fact]
    public async Task Load_exception_reaches_every_waiter_and_nothing_is_cached()
    {
        await using var h = new Harness();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        h.Database.BeforeGet = async (_, _) =>
        {
            await release.Task;
            throw new TimeoutException("database down");
        };

        var callers = Enumerable.Range(0, 10).Select(_ => h.Repository.GetAsync(3).AsTask()).ToArray();
        Assert.Equal(10, h.Cache.GetFlightWaiters(Harness.Key(3)));
        release.SetResult();
        foreach (var caller in callers)
        {
            Assert.Equal("database down", (await Assert.ThrowsAsync<TimeoutException>(() => caller)).Message);
        }

        Assert.Equal(1, h.Database.Gets);
        Assert.Equal(0, h.Store.Fills);
        h.Database.BeforeGet = null;
        h.Database.Seed(new Preference(3, 1, "push", true));
        Assert.Equal("push", (await h.Repository.GetAsync(3))!.Channel);
        Assert.Equal(2, h.Database.Gets);
    }

    [Fact]
    public async Task A_cancelled_waiter_does_not_cancel_the_shared_load()
    {
        await using var h = new Harness();
        h.Database.Seed(new Preference(4, 1, "email", true));
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        h.Database.BeforeGet = (_, _) => release.Task;
        using var cancel = new CancellationTokenSource();

        var cancelled = h.Repository.GetAsync(4, cancel.Token).AsTask();
        var patient = h.Repository.GetAsync(4).AsTask();
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.False(h.Database.LastGetToken.IsCancellationRequested);

        release.SetResult();
        Assert.Equal("email", (await patient)!.Channel);
        Assert.True(h.Inspect(4).Found);
        Assert.Equal(1, h.Database.Gets);
    }

    [Fact]
    public async Task When_every_waiter_cancels_the_load_is_cancelled()
    {
        await using var h = new Harness();
        var loadCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        h.Database.BeforeGet = async (_, ct) =>
        {
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            catch (OperationCanceledException)
            {
                loadCancelled.SetResult();
                throw;
            }
        };
        using var first = new CancellationTokenSource();
        using var second = new CancellationTokenSource();
        var a = h.Repository.GetAsync(5, first.Token).AsTask();
        var b = h.Repository.GetAsync(5, second.Token).AsTask();
        first.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => a);
        Assert.False(loadCancelled.Task.IsCompleted);
        second.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => b);
        await loadCancelled.Task;

        h.Database.BeforeGet = null;
        h.Database.Seed(new Preference(5, 1, "sms", true));
        Assert.Equal("sms", (await h.Repository.GetAsync(5))!.Channel);
    }

    [Fact]
    public async Task Not_found_is_not_cached_without_a_null_time_to_live()
    {
        await using var h = new Harness();
        Assert.Null(await h.Repository.GetAsync(9));
        Assert.Null(await h.Repository.GetAsync(9));
        Assert.Equal(2, h.Database.Gets);
        Assert.Equal(0, h.Store.Fills);
    }

    [Fact]
    public async Task Not_found_is_cached_for_the_null_time_to_live()
    {
        await using var h = new Harness();
        var policy = new ReadPolicy("GetAsync", TimeSpan.FromSeconds(300), TimeSpan.FromSeconds(10));
        var db = h.Database;
        ValueTask<Preference?> Read() => h.Cache.ReadThroughAsync(Harness.Key(9), policy, db, static (d, ct) => d.GetAsync(9, ct), None);

        Assert.Null(await Read());
        Assert.Null(await Read());
        Assert.Equal(1, db.Gets);
        h.Time.Advance(TimeSpan.FromSeconds(11));
        db.Seed(new Preference(9, 1, "email", true));
        Assert.Equal("email", (await Read())!.Channel);
        Assert.Equal(2, db.Gets);
    }

    public static IEnumerable<object[]> UnusableEntries()
    {
        var good = CacheEnvelope.Encode(new Preference(8, 1, "old", true), CachingGenFormatterResolver.PreferenceFingerprint, CachingGenFormatterResolver.Options).ToArray();
        var wrongFormat = (byte[])good.Clone();
        wrongFormat[0] = 99;
        var otherSchema = CacheEnvelope.Encode(new Preference(8, 1, "old", true), 0xDEADUL, CachingGenFormatterResolver.Options).ToArray();
        var truncated = good[..^2];
        var trailing = good.Concat(new byte[] { 0x01 }).ToArray();
        var wrongKind = (byte[])good.Clone();
        wrongKind[1] = 42;
        yield return new object[] { "garbage", new byte[] { 1, 2, 3 } };
        yield return new object[] { "json", "{\"userId\":8}"u8.ToArray() };
        yield return new object[] { "wrong-format", wrongFormat };
        yield return new object[] { "other-schema", otherSchema };
        yield return new object[] { "truncated", truncated };
        yield return new object[] { "trailing", trailing };
        yield return new object[] { "wrong-kind", wrongKind };
    }

    [Theory]
    [MemberData(nameof(UnusableEntries))]
    public async Task Unusable_entry_is_a_logged_counted_miss_and_is_overwritten(string name, byte[] bytes)
    {
        await using var h = new Harness();
        var corrupt = 0L;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter, h.Runtime.Telemetry.Meter) && instrument.Name == "cachinggen.cache.corrupt_entries")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref corrupt, value));
        listener.Start();

        await h.Store.SetManyAsync(new[] { new CacheEntry(Harness.Key(8), bytes, TimeSpan.FromHours(1)) }, None);
        h.Database.Seed(new Preference(8, 2, "fresh", true));

        Assert.Equal("fresh", (await h.Repository.GetAsync(8))!.Channel);
        Assert.Equal(1, h.Database.Gets);
        Assert.Equal(1, Interlocked.Read(ref corrupt));
        Assert.Single(h.Loggers.WithEvent(1101));
        Assert.Equal("fresh", h.Inspect(8).Value!.Channel);
        Assert.Equal("fresh", (await h.Repository.GetAsync(8))!.Channel);
        Assert.Equal(1, h.Database.Gets);
        _ = name;
    }

    [Fact]
    public async Task Entry_from_a_build_with_another_schema_fingerprint_is_a_miss()
    {
        await using var h = new Harness();
        var otherBuild = new RepositoryDescriptor("Other.Build", "pref", MessagePack.MessagePackSerializerOptions.Standard.WithResolver(new CachingGenFormatterResolver(0x0BADUL)), false);
        var other = h.Runtime.GetEntityCache<Preference>(otherBuild);
        Assert.NotEqual(h.Cache.SchemaFingerprint, other.SchemaFingerprint);
        await other.WriteThroughAsync(Harness.Key(2), new Preference(2, 1, "old-schema", true), new WriteThroughPolicy("SaveAsync", TimeSpan.FromHours(1)), 0, static (_, _) => ValueTask.CompletedTask, None);
        h.Database.Seed(new Preference(2, 2, "new-schema", true));
        Assert.Equal("new-schema", (await h.Repository.GetAsync(2))!.Channel);
        Assert.Contains(h.Loggers.WithEvent(1101), e => e.Message.Contains("schema fingerprint"));
    }

    [Fact]
    public void The_envelope_writes_the_payload_exactly_as_messagepack_would_under_the_same_options()
    {
        // The runtime calls the formatter itself (no MessagePackSerializer): the options' OldSpec must still apply.
        var value = new Preference(8, 1, new string('c', 40), true);
        foreach (var options in new[] { CachingGenFormatterResolver.Options, CachingGenFormatterResolver.Options.WithOldSpec(true) })
        {
            var envelope = CacheEnvelope.Encode(value, CachingGenFormatterResolver.PreferenceFingerprint, options);
            Assert.Equal(MessagePack.MessagePackSerializer.Serialize(value, options), envelope.Span[CacheEnvelope.HeaderSize..].ToArray());
        }

        Assert.NotEqual(
            CacheEnvelope.Encode(value, CachingGenFormatterResolver.PreferenceFingerprint, CachingGenFormatterResolver.Options).ToArray(),
            CacheEnvelope.Encode(value, CachingGenFormatterResolver.PreferenceFingerprint, CachingGenFormatterResolver.Options.WithOldSpec(true)).ToArray());
    }

    [Fact]
    public async Task Serializer_options_with_compression_are_refused_when_the_cache_is_created()
    {
        await using var h = new Harness();
        var compressed = new RepositoryDescriptor("Compressed", "pref", CachingGenFormatterResolver.Options.WithCompression(MessagePack.MessagePackCompression.Lz4BlockArray), false);
        var error = Assert.Throws<ArgumentException>(() => h.Runtime.GetEntityCache<Preference>(compressed));
        Assert.Contains("Lz4BlockArray compression", error.Message);
        Assert.Contains("MessagePackCompression.None", error.Message);
    }

    [Fact]
    public async Task Write_around_fill_time_to_live_is_used_by_the_next_fill()
    {
        await using var h = new Harness();
        await h.Repository.SaveManyAsync(new[] { new Preference(1, 1, "email", true) });
        Assert.Equal("email", (await h.Repository.GetAsync(1))!.Channel);
        Assert.Equal(h.Time.GetUtcNow() + TimeSpan.FromSeconds(30), h.Inspect(1).ExpiresAt);
    }

    [Fact]
    public async Task A_fill_that_raced_with_a_write_is_refused()
    {
        await using var h = new Harness();
        h.Database.Seed(new Preference(6, 1, "old", true));
        var loaded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        h.Database.AfterRead = async (_, _) =>
        {
            loaded.SetResult();
            await release.Task;
        };

        var reader = h.Repository.GetAsync(6).AsTask();
        await loaded.Task;
        h.Database.AfterRead = null;
        await h.Repository.SaveAsync(new Preference(6, 2, "new", true));
        release.SetResult();
        Assert.Equal("old", (await reader)!.Channel);
        Assert.Equal("new", h.Inspect(6).Value!.Channel);
        Assert.Contains(h.Loggers.Entries, e => e.EventId == 1103);
    }

    [Fact]
    public async Task A_read_that_starts_after_a_write_never_joins_a_load_that_started_before_it()
    {
        await using var h = new Harness();
        h.Database.Seed(new Preference(7, 1, "old", true));
        var loaded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        h.Database.AfterRead = async (_, _) =>
        {
            loaded.TrySetResult();
            await release.Task;
        };

        // The first read has loaded "old" and is still in flight when a write-around is acknowledged.
        var early = h.Repository.GetAsync(7).AsTask();
        await loaded.Task;
        h.Database.AfterRead = null;
        await h.Repository.SaveManyAsync(new[] { new Preference(7, 2, "new", true) });

        // A read that starts now sees another cache state (the write's tombstone): its own load, the new row. (Were
        // it to join the first load, it would wait for the release below: the timeout turns that into a failure.)
        Assert.Equal("new", (await h.Repository.GetAsync(7).AsTask().WaitAsync(TimeSpan.FromSeconds(30)))!.Channel);
        Assert.Equal(2, h.Database.Gets);

        release.SetResult();
        Assert.Equal("old", (await early)!.Channel);
        Assert.Equal("new", (await h.Repository.GetAsync(7))!.Channel);
    }

    [Fact]
    public async Task Reads_during_a_write_go_to_the_database_and_do_not_fill()
    {
        await using var h = new Harness();
        h.Database.Seed(new Preference(8, 1, "old", true));
        var writing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        h.Database.BeforeWrite = async (_, _, _) =>
        {
            writing.TrySetResult();
            await release.Task;
        };

        var write = h.Repository.SaveAsync(new Preference(8, 2, "new", true));
        await writing.Task;
        Assert.Equal("old", (await h.Repository.GetAsync(8))!.Channel);
        Assert.Equal(0, h.Store.Fills);
        Assert.True((await h.MemoryStore.GetAsync(Harness.Key(8), CancellationToken.None)).WriteInProgress);

        release.SetResult();
        await write;
        Assert.Equal("new", (await h.Repository.GetAsync(8))!.Channel);
        Assert.Equal("new", h.Inspect(8).Value!.Channel);
    }

    [Fact]
    public async Task Readers_arriving_during_a_load_join_it_without_a_lookup()
    {
        await using var h = new Harness();
        h.Database.Seed(new Preference(20, 1, "sms", false));
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        h.Database.BeforeGet = (_, _) => release.Task;

        var first = h.Repository.GetAsync(20).AsTask();
        Assert.Equal(1, h.Store.Gets);
        var followers = Enumerable.Range(0, 50).Select(_ => h.Repository.GetAsync(20).AsTask()).ToArray();
        Assert.Equal(51, h.Cache.GetFlightWaiters(Harness.Key(20)));
        Assert.Equal(1, h.Store.Gets);

        release.SetResult();
        Assert.Equal("sms", (await first)!.Channel);
        Assert.All(await Task.WhenAll(followers), r => Assert.Equal("sms", r!.Channel));
        Assert.Equal(1, h.Database.Gets);
        Assert.Equal(1, h.Store.Fills);
    }

    [Fact]
    public async Task A_reader_that_joined_a_load_reads_again_when_another_process_write_refused_its_fill()
    {
        // Another process (a second runtime on the same cache and database) acknowledges a write while this process's
        // load of the older row runs. A reader that starts after that write joins the running load without a lookup,
        // but the refused fill tells it the value may predate the write: it reads again and sees the write.
        await using var h = new Harness();
        await using var other = new Harness(database: h.Database, store: h.MemoryStore, time: h.Time);
        h.Database.Seed(new Preference(21, 1, "old", false));
        var loaded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        h.Database.AfterRead = (_, _) =>
        {
            h.Database.AfterRead = null;
            loaded.SetResult();
            return release.Task;
        };

        var first = Task.Run(() => h.Repository.GetAsync(21).AsTask());
        await loaded.Task;
        await other.Repository.SaveAsync(new Preference(21, 2, "new", true));
        var late = h.Repository.GetAsync(21).AsTask();
        Assert.Equal(2, h.Cache.GetFlightWaiters(Harness.Key(21)));
        Assert.Equal(1, h.Store.Gets);

        release.SetResult();
        Assert.Equal("old", (await first)!.Channel);
        Assert.Equal("new", (await late)!.Channel);
        Assert.Equal(1, h.Database.Gets);
        Assert.Equal("new", h.Inspect(21).Value!.Channel);
    }

    [Fact]
    public async Task A_reader_that_starts_after_a_write_in_this_process_does_not_wait_for_an_older_load()
    {
        await using var h = new Harness();
        h.Database.Seed(new Preference(23, 1, "old", false));
        var loaded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        h.Database.AfterRead = (_, _) =>
        {
            h.Database.AfterRead = null;
            loaded.SetResult();
            return release.Task;
        };

        var first = Task.Run(() => h.Repository.GetAsync(23).AsTask());
        await loaded.Task;
        await h.Repository.SaveAsync(new Preference(23, 2, "new", true));
        Assert.Equal("new", (await h.Repository.GetAsync(23).AsTask().WaitAsync(TimeSpan.FromSeconds(30)))!.Channel);
        Assert.Equal(2, h.Store.Gets);

        release.SetResult();
        Assert.Equal("old", (await first)!.Channel);
    }

    [Fact]
    public async Task A_miss_that_started_after_a_fill_was_sent_never_joins_that_finished_flight()
    {
        // The filled value vanished (evicted) and the row changed meanwhile: the same "absent" state is seen again, but
        // this read began after the flight's fill, so the flight's value may predate the change. It loads again.
        FlakyCacheStore? flaky = null;
        await using var h = new Harness(wrapStore: store => flaky = new FlakyCacheStore(store));
        h.Database.Seed(new Preference(22, 1, "old", false));
        Assert.Equal("old", (await h.Repository.GetAsync(22))!.Channel);
        Assert.Equal(1, h.Cache.CountFlights());

        h.Database.Seed(new Preference(22, 2, "new", true));
        flaky!.Evicted = key => key == Harness.Key(22);
        Assert.Equal("new", (await h.Repository.GetAsync(22))!.Channel);
        Assert.Equal(2, h.Database.Gets);
    }

    [Fact]
    public async Task A_miss_that_overtook_a_fill_on_its_way_waits_for_it_and_reads_the_filled_value()
    {
        // B's lookup starts after A's flight sent its fill but reaches the store first (the fill command is slow): B
        // must neither join (its lookup is newer than the fill) nor load again; it waits for the fill and looks again.
        FlakyCacheStore? flaky = null;
        await using var h = new Harness(wrapStore: store => flaky = new FlakyCacheStore(store));
        h.Database.Seed(new Preference(24, 1, "push", true));
        var fillHeld = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var releaseFill = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        flaky!.DelayFill = () =>
        {
            flaky.DelayFill = null;
            fillHeld.SetResult();
            return releaseFill.Task;
        };

        var first = Task.Run(() => h.Repository.GetAsync(24).AsTask());
        await fillHeld.Task;
        var overtaking = h.Repository.GetAsync(24).AsTask();
        Assert.Equal(2, h.Store.Gets);
        Assert.False(overtaking.IsCompleted);

        releaseFill.SetResult();
        Assert.Equal("push", (await first)!.Channel);
        Assert.Equal("push", (await overtaking)!.Channel);
        Assert.Equal(1, h.Database.Gets);
        Assert.Equal(3, h.Store.Gets);
    }

    [Fact]
    public async Task A_miss_answered_before_a_fill_but_handled_after_its_flight_finished_reads_the_fill_instead_of_loading_again()
    {
        // The Redis stampede's second inner call: B's lookup starts after A's flight sent its fill, Redis answers B's GET
        // first (a miss), and B handles that reply only once A's flight has finished. B's lookup started after A's load,
        // so it may not take A's value; but the fill it overtook is stored: it looks again, a hit.
        FlakyCacheStore? flaky = null;
        await using var h = new Harness(wrapStore: store => flaky = new FlakyCacheStore(store));
        h.Database.Seed(new Preference(25, 1, "push", true));
        var fill = Gate.HoldNextFill(flaky!);

        var first = Task.Run(() => h.Repository.GetAsync(25).AsTask());
        await fill.Reached;
        var reply = Gate.HoldNextGetReply(flaky!);
        var late = h.Repository.GetAsync(25).AsTask();
        await reply.Reached;
        Assert.Equal(2, h.Store.Gets);

        fill.Open();
        Assert.Equal("push", (await first)!.Channel);
        reply.Open();
        Assert.Equal("push", (await late)!.Channel);
        Assert.Equal(1, h.Database.Gets);
        Assert.Equal(3, h.Store.Gets);
    }

    [Fact]
    public async Task A_late_miss_takes_a_finished_load_that_started_after_its_lookup_even_without_a_fill()
    {
        // "Not found" is not cached here (no null TTL), so nothing is filled: B, whose lookup started before A's load,
        // still takes A's result when its miss reply comes after A's flight finished. A write acknowledged before B
        // started was committed before A's load read the database. Lookups are not shared here (B's would make A wait).
        FlakyCacheStore? flaky = null;
        await using var h = new Harness(options => options.ShareConcurrentLookups = false, wrapStore: store => flaky = new FlakyCacheStore(store));
        var reply = Gate.HoldNextGetReply(flaky!);

        var late = h.Repository.GetAsync(26).AsTask();
        await reply.Reached;
        Assert.Null(await h.Repository.GetAsync(26));
        Assert.Equal(1, h.Database.Gets);

        reply.Open();
        Assert.Null(await late);
        Assert.Equal(1, h.Database.Gets);
        Assert.Equal(0, h.Store.Fills);
    }

    [Fact]
    public async Task A_late_miss_whose_lookup_started_after_the_load_never_takes_its_value_past_a_write()
    {
        // A's load read "old"; another process then acknowledged "new", and its entry is gone by the time B looks (B
        // sees the same "absent" state A saw). B started after the write, so A's finished flight, whose load started
        // before B's lookup, must not answer it: B reads the database again.
        FlakyCacheStore? flaky = null;
        await using var h = new Harness(wrapStore: store => flaky = new FlakyCacheStore(store));
        await using var other = new Harness(database: h.Database, store: h.MemoryStore, time: h.Time);
        h.Database.Seed(new Preference(27, 1, "old", true));
        var fill = Gate.HoldNextFill(flaky!);

        var first = Task.Run(() => h.Repository.GetAsync(27).AsTask());
        await fill.Reached;
        await other.Repository.SaveAsync(new Preference(27, 2, "new", true));
        flaky!.Evicted = key => key == Harness.Key(27);
        var reply = Gate.HoldNextGetReply(flaky);
        var late = h.Repository.GetAsync(27).AsTask();
        await reply.Reached;

        fill.Open();
        Assert.Equal("old", (await first)!.Channel);
        Assert.Equal(1, h.Cache.CountFlights());
        reply.Open();
        Assert.Equal("new", (await late)!.Channel);
        Assert.Equal(2, h.Database.Gets);
    }

    [Fact]
    public async Task A_miss_returns_its_loaded_value_without_waiting_for_its_fill()
    {
        FlakyCacheStore? flaky = null;
        await using var h = new Harness(wrapStore: store => flaky = new FlakyCacheStore(store));
        h.Database.Seed(new Preference(28, 1, "sms", true));
        var fill = Gate.HoldNextFill(flaky!);
        using var cancellable = new CancellationTokenSource();

        // Both starters: one that cannot leave its flight (it awaits the load itself), one that can (it waits on the
        // flight's completion).
        Assert.Equal("sms", (await h.Repository.GetAsync(28).AsTask().WaitAsync(TimeSpan.FromSeconds(30)))!.Channel);
        await fill.Reached;
        Assert.False(h.Inspect(28).Found);
        var secondFill = Gate.HoldNextFill(flaky!);
        h.Database.Seed(new Preference(29, 1, "push", false));
        Assert.Equal("push", (await h.Repository.GetAsync(29, cancellable.Token).AsTask().WaitAsync(TimeSpan.FromSeconds(30)))!.Channel);
        await secondFill.Reached;
        Assert.False(h.Inspect(29).Found);

        // A read of the key while its fill is on its way waits for that fill and hits: no second load.
        var again = h.Repository.GetAsync(28).AsTask();
        var fillsStored = h.Runtime.WaitForPendingFillsAsync();
        fill.Open();
        Assert.Equal("sms", (await again.WaitAsync(TimeSpan.FromSeconds(30)))!.Channel);
        await Task.Delay(50);
        Assert.False(fillsStored.IsCompleted);
        secondFill.Open();
        await fillsStored.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(h.Inspect(28).Found);
        Assert.True(h.Inspect(29).Found);
        Assert.Equal("sms", (await h.Repository.GetAsync(28))!.Channel);
        Assert.Equal(2, h.Database.Gets);
    }

    [Fact]
    public async Task A_reader_that_joined_a_load_without_a_lookup_waits_for_the_fill_that_vouches_for_the_value()
    {
        // The starter has its value before the fill lands; a reader that joined without a lookup keeps the value only
        // if that fill is stored, so it waits for it, and needs no lookup of its own when it is.
        FlakyCacheStore? flaky = null;
        await using var h = new Harness(wrapStore: store => flaky = new FlakyCacheStore(store));
        h.Database.Seed(new Preference(30, 1, "email", true));
        var load = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        h.Database.BeforeGet = (_, _) => load.Task;
        var fill = Gate.HoldNextFill(flaky!);

        var first = h.Repository.GetAsync(30).AsTask();
        var joiner = h.Repository.GetAsync(30).AsTask();
        Assert.Equal(2, h.Cache.GetFlightWaiters(Harness.Key(30)));
        load.SetResult();
        Assert.Equal("email", (await first)!.Channel);
        await fill.Reached;
        await Task.Delay(50);
        Assert.False(joiner.IsCompleted);

        fill.Open();
        Assert.Equal("email", (await joiner)!.Channel);
        Assert.Equal(1, h.Store.Gets);
        Assert.Equal(1, h.Database.Gets);
    }

    [Fact]
    public async Task Disposing_the_runtime_waits_for_a_fill_on_its_way()
    {
        FlakyCacheStore? flaky = null;
        await using var h = new Harness(wrapStore: store => flaky = new FlakyCacheStore(store));
        h.Database.Seed(new Preference(31, 1, "sms", true));
        var fill = Gate.HoldNextFill(flaky!);
        Assert.Equal("sms", (await h.Repository.GetAsync(31))!.Channel);
        await fill.Reached;

        var disposing = h.Runtime.DisposeAsync().AsTask();
        await Task.Delay(50);
        Assert.False(disposing.IsCompleted);
        fill.Open();
        await disposing.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(h.Inspect(31).Found);
    }

    [Fact]
    public async Task A_value_that_cannot_be_encoded_is_returned_uncached_and_the_flight_ends()
    {
        await using var h = new Harness();
        var options = MessagePack.MessagePackSerializerOptions.Standard.WithResolver(new UnencodableResolver());
        var cache = h.Runtime.GetEntityCache<Preference>(new RepositoryDescriptor("Unencodable", "bad", options, false));
        var policy = new ReadPolicy("GetAsync(long)", TimeSpan.FromMinutes(5), null);
        var loads = 0;
        ValueTask<Preference?> Load(int _, CancellationToken __)
        {
            Interlocked.Increment(ref loads);
            return new ValueTask<Preference?>(new Preference(32, 1, "sms", true));
        }

        Assert.Equal("sms", (await cache.ReadThroughAsync("bad:32", policy, 0, Load, None))!.Channel);
        Assert.Equal("sms", (await cache.ReadThroughAsync("bad:32", policy, 0, Load, None).AsTask().WaitAsync(TimeSpan.FromSeconds(30)))!.Channel);
        Assert.Equal(2, loads);
        Assert.Equal(0, h.Store.Fills);
        Assert.Equal(2, h.Loggers.WithEvent(1102).Count());
    }

    /// <summary>Resolves a formatter that cannot write (a serializer bug, or a value it refuses).</summary>
    private sealed class UnencodableResolver : MessagePack.IFormatterResolver
    {
        public MessagePack.Formatters.IMessagePackFormatter<T>? GetFormatter<T>() => new Unencodable<T>();

        private sealed class Unencodable<T> : MessagePack.Formatters.IMessagePackFormatter<T>
        {
            public void Serialize(ref MessagePack.MessagePackWriter writer, T value, MessagePack.MessagePackSerializerOptions options)
                => throw new InvalidOperationException("this formatter cannot write");

            public T Deserialize(ref MessagePack.MessagePackReader reader, MessagePack.MessagePackSerializerOptions options)
                => throw new InvalidOperationException("this formatter cannot read");
        }
    }
}
