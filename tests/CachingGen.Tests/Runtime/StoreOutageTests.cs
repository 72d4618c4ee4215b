using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using CachingGen.Storage;
using CachingGen.Tests.Support;
using CachingGen.WriteBack;
using Sample;

namespace CachingGen.Tests.Runtime;

/// <summary>The runtime's side of a cache store outage, on the in-memory store behind a wrapper that fails on demand:
/// callers never see <see cref="CacheStoreUnavailableException"/>, reads go to the database, writes commit and leave
/// their keys pending until a background retry invalidates them.</summary>
public sealed class StoreOutageTests
{
    private const int UnavailableEvent = 1105;

    private static (Harness Harness, FlakyCacheStore Flaky) Create()
    {
        FlakyCacheStore? flaky = null;
        var h = new Harness(wrapStore: store => flaky = new FlakyCacheStore(store));
        return (h, flaky!);
    }

    private static MeterTotals Listen(Harness h) => new(h);

    [Fact]
    public async Task Reads_go_to_the_database_without_a_fill_and_are_counted_and_logged_without_flooding()
    {
        var (h, flaky) = Create();
        await using var _ = h;
        using var totals = Listen(h);
        h.Database.Seed(new Preference(1, 1, "db", true));
        flaky.Down = true;

        for (var i = 0; i < 50; i++)
        {
            Assert.Equal("db", (await h.Repository.GetAsync(1))!.Channel);
        }

        // No single flight and no fill during an outage: every read is its own database read.
        Assert.Equal(50, h.Database.Gets);
        Assert.Equal(0, flaky.Attempts.GetValueOrDefault("fill"));
        Assert.Equal(50, totals["cachinggen.cache.unavailable"]);
        Assert.Single(h.Loggers.WithEvent(UnavailableEvent));

        // One line per interval, telling how many failures it did not log.
        h.Time.Advance(TimeSpan.FromSeconds(11));
        await h.Repository.GetAsync(1);
        var lines = h.Loggers.WithEvent(UnavailableEvent).ToArray();
        Assert.Equal(2, lines.Length);
        Assert.Contains("49 more failure(s)", lines[1].Message, StringComparison.Ordinal);

        // The store is back: reads use it again.
        flaky.Down = false;
        await h.Repository.GetAsync(1);
        await h.Repository.GetAsync(1);
        Assert.Equal(52, h.Database.Gets);
    }

    [Fact]
    public async Task A_fill_that_fails_is_counted_and_the_value_still_returned()
    {
        var (h, flaky) = Create();
        await using var _ = h;
        using var totals = Listen(h);
        h.Database.Seed(new Preference(1, 1, "db", true));
        flaky.FailWhen = op => op == "fill";
        Assert.Equal("db", (await h.Repository.GetAsync(1))!.Channel);
        Assert.Equal(1, totals["cachinggen.cache.unavailable"]);
        Assert.Empty(h.Loggers.WithEvent(1102));
    }

    [Fact]
    public async Task Write_through_whose_begin_step_fails_commits_and_keeps_the_key_away_from_the_cache_until_invalidated()
    {
        var (h, flaky) = Create();
        await using var _ = h;
        await h.Repository.SaveAsync(new Preference(1, 1, "old", true));
        Assert.Equal("old", h.Inspect(1).Value!.Channel);

        flaky.Down = true;
        await h.Repository.SaveAsync(new Preference(1, 2, "new", true));
        Assert.Equal("new", h.Database.Rows[1].Channel);
        Assert.True(h.Runtime.PendingInvalidations.Contains(Harness.Key(1)));

        // The store answers again but still holds the old entry: this process must not serve it.
        flaky.Down = false;
        var gets = h.Database.Gets;
        Assert.Equal("new", (await h.Repository.GetAsync(1))!.Channel);
        Assert.Equal(gets + 1, h.Database.Gets);
        Assert.Equal("old", h.Inspect(1).Value!.Channel);

        // The retry (on the runtime's clock) invalidates it, then reads fill and hit again.
        await DrainPendingAsync(h);
        Assert.False(h.Inspect(1).Found);
        Assert.Equal("new", (await h.Repository.GetAsync(1))!.Channel);
        Assert.Equal("new", h.Inspect(1).Value!.Channel);
        gets = h.Database.Gets;
        Assert.Equal("new", (await h.Repository.GetAsync(1))!.Channel);
        Assert.Equal(gets, h.Database.Gets);
    }

    [Fact]
    public async Task Write_through_whose_complete_step_fails_leaves_the_marker_and_the_key_pending()
    {
        var (h, flaky) = Create();
        await using var _ = h;
        await h.Repository.SaveAsync(new Preference(1, 1, "old", true));
        flaky.FailWhen = op => op == "complete";

        await h.Repository.SaveAsync(new Preference(1, 2, "new", true));
        Assert.True(h.Runtime.PendingInvalidations.Contains(Harness.Key(1)));

        // Other processes see the write marker (no value, no fill) until the lease ends or the retry invalidates.
        var lookup = await h.MemoryStore.GetAsync(Harness.Key(1), CancellationToken.None);
        Assert.True(lookup.WriteInProgress);

        flaky.FailWhen = null;
        Assert.Equal("new", (await h.Repository.GetAsync(1))!.Channel);
        await DrainPendingAsync(h);
        Assert.Equal("new", (await h.Repository.GetAsync(1))!.Channel);
        Assert.Equal("new", h.Inspect(1).Value!.Channel);
    }

    [Fact]
    public async Task Write_around_and_evict_commit_and_leave_their_keys_pending()
    {
        var (h, flaky) = Create();
        await using var _ = h;
        await h.Repository.SaveAsync(new Preference(1, 1, "old1", true));
        await h.Repository.SaveAsync(new Preference(2, 1, "old2", true));
        flaky.Down = true;

        await h.Repository.SaveManyAsync(new[] { new Preference(1, 2, "new1", true) });
        await h.Repository.DeleteAsync(2);
        Assert.True(h.Runtime.PendingInvalidations.Contains(Harness.Key(1)));
        Assert.True(h.Runtime.PendingInvalidations.Contains(Harness.Key(2)));

        flaky.Down = false;
        Assert.Equal("new1", (await h.Repository.GetAsync(1))!.Channel);
        Assert.Null(await h.Repository.GetAsync(2));
        await DrainPendingAsync(h);
        Assert.False(h.Inspect(1).Found);
        Assert.False(h.Inspect(2).Found);

        // The repair leaves the write-around's fill TTL (30 s), not the read's, as the invalidation would have.
        Assert.Equal(TimeSpan.FromSeconds(30), (await h.MemoryStore.GetAsync(Harness.Key(1), CancellationToken.None)).FillTimeToLive);
        Assert.Null((await h.MemoryStore.GetAsync(Harness.Key(2), CancellationToken.None)).FillTimeToLive);
        Assert.Equal("new1", (await h.Repository.GetAsync(1))!.Channel);
        Assert.Equal(h.Time.GetUtcNow() + TimeSpan.FromSeconds(30), h.Inspect(1).ExpiresAt);
    }

    [Fact]
    public async Task A_failed_database_write_during_an_outage_surfaces_the_database_error()
    {
        var (h, flaky) = Create();
        await using var _ = h;
        flaky.Down = true;
        h.Database.BeforeWrite = (_, _, _) => throw new InvalidOperationException("constraint violated");
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => h.Repository.SaveAsync(new Preference(1, 1, "x", true)));
        Assert.Equal("constraint violated", error.Message);
    }

    [Fact]
    public async Task Pending_invalidations_are_retried_with_backoff_until_the_store_returns()
    {
        var (h, flaky) = Create();
        await using var _ = h;
        flaky.Down = true;
        await h.Repository.SaveManyAsync(new[] { new Preference(1, 1, "a", true) });
        var attempts = () => flaky.Attempts.GetValueOrDefault("invalidate");
        Assert.Equal(1, attempts());

        // Each retry waits at least twice as long as the previous one (InvalidationRetryBaseDelay = 100 ms, doubling).
        Assert.True(await AdvanceUntilAsync(h, () => attempts() == 2) >= TimeSpan.FromMilliseconds(100));
        Assert.True(await AdvanceUntilAsync(h, () => attempts() == 3) >= TimeSpan.FromMilliseconds(200));
        Assert.True(await AdvanceUntilAsync(h, () => attempts() == 4) >= TimeSpan.FromMilliseconds(400));
        Assert.True(h.Runtime.PendingInvalidations.Contains(Harness.Key(1)));

        flaky.Down = false;
        Assert.True(await AdvanceUntilAsync(h, () => h.Runtime.PendingInvalidations.Count == 0) >= TimeSpan.FromMilliseconds(800));
        Assert.Single(h.Loggers.WithEvent(1106));
        Assert.False(h.Inspect(1).Found);
    }

    [Fact]
    public async Task Pending_invalidations_are_retried_at_once_when_the_store_recovers_instead_of_at_the_end_of_the_backoff()
    {
        var (h, flaky) = Create();
        await using var _ = h;
        flaky.Down = true;
        await h.Repository.SaveManyAsync(new[] { new Preference(1, 1, "a", true) });
        var attempts = () => flaky.Attempts.GetValueOrDefault("invalidate");
        await AdvanceUntilAsync(h, () => attempts() == 4);

        // The next retry is 800 ms of (fake) time away; the store says it is back, and the time does not move.
        flaky.Down = false;
        flaky.RaiseRecovered();
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (h.Runtime.PendingInvalidations.Count > 0 && waited.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(5);
        }

        Assert.Equal(0, h.Runtime.PendingInvalidations.Count);
        Assert.Equal(5, attempts());
        Assert.False(h.Inspect(1).Found);
    }

    [Fact]
    public async Task A_write_back_acknowledged_after_the_store_returned_ends_the_pending_invalidation_and_its_retry_keeps_the_pinned_value()
    {
        var (h, flaky) = Create();
        await using var _ = h;
        await h.Repository.SaveAsync(new Preference(1, 1, "old", true));
        flaky.Down = true;
        await h.Repository.SaveManyAsync(new[] { new Preference(1, 2, "around", true) });
        Assert.True(h.Runtime.PendingInvalidations.Contains(Harness.Key(1)));

        // The store is back; a write-back of the key is acknowledged before the retry runs: its pinned value is the
        // newest state of the key, and the retry must not erase it (a read would fill "around" back in).
        flaky.Down = false;
        await h.Repository.UpdateAsync(new Preference(1, 3, "write-back", true));

        // Reads see the acknowledged write-back at once (bypassing the cache would read "around" from the database).
        Assert.False(h.Runtime.PendingInvalidations.Contains(Harness.Key(1)));
        Assert.Equal("write-back", (await h.Repository.GetAsync(1))!.Channel);

        // A retry that took its snapshot of pending keys before the append runs after it: it must not erase the pinned
        // value either (a read would fill "around" back in before the record is flushed).
        h.Runtime.PendingInvalidations.Add(new[] { Harness.Key(1) }, fillTimeToLive: null);
        await DrainPendingAsync(h);
        Assert.Equal("write-back", h.Inspect(1).Value!.Channel);
        Assert.Equal("write-back", (await h.Repository.GetAsync(1))!.Channel);

        await h.Runtime.WriteBack.FlushAsync();
        Assert.Equal("write-back", h.Database.Rows[1].Channel);
    }

    [Fact]
    public async Task A_settle_that_fails_during_an_outage_leaves_the_flushed_key_pending_and_never_fails_a_direct_write()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var store = new InMemoryCacheStore(time);
        var memoryLog = new FaultyWriteBackLog(new InMemoryWriteBackLog(store, 2)) { SettleUnavailable = true };
        await using var h = new Harness(log: memoryLog, store: store, time: time);
        await h.Repository.UpdateAsync(new Preference(31, 1, "pinned", true));

        await h.Runtime.WriteBack.FlushAsync();
        Assert.Equal("pinned", h.Database.Rows[31].Channel);
        Assert.True(h.Runtime.PendingInvalidations.Contains(Harness.Key(31)));
        Assert.Equal("pinned", (await h.Repository.GetAsync(31))!.Channel);

        // A direct write of the key succeeds although the store is still "down" for settles.
        await h.Repository.SaveAsync(new Preference(31, 2, "direct", true));
        Assert.Equal("direct", h.Database.Rows[31].Channel);

        memoryLog.SettleUnavailable = false;
        await AdvanceUntilAsync(h, () => h.Runtime.PendingInvalidations.Count == 0);
        Assert.Equal("direct", (await h.Repository.GetAsync(31))!.Channel);
    }

    /// <summary>Moves fake time in 10 ms steps until <paramref name="condition"/> holds; returns how much time that took.</summary>
    private static async Task<TimeSpan> AdvanceUntilAsync(Harness h, Func<bool> condition)
    {
        var advanced = TimeSpan.Zero;
        for (var round = 0; round < 2_000; round++)
        {
            for (var spin = 0; spin < 20 && !condition(); spin++)
            {
                await Task.Delay(1);
            }

            if (condition())
            {
                return advanced;
            }

            h.Time.Advance(TimeSpan.FromMilliseconds(10));
            advanced += TimeSpan.FromMilliseconds(10);
        }

        Assert.Fail("the retry loop did not act");
        return advanced;
    }

    private static Task DrainPendingAsync(Harness h) => AdvanceUntilAsync(h, () => h.Runtime.PendingInvalidations.Count == 0);

    private sealed class MeterTotals : IDisposable
    {
        private readonly ConcurrentDictionary<string, long> _totals = new();
        private readonly MeterListener _listener = new();

        public MeterTotals(Harness h)
        {
            _listener.InstrumentPublished = (instrument, l) =>
            {
                if (ReferenceEquals(instrument.Meter, h.Runtime.Telemetry.Meter))
                {
                    l.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => _totals.AddOrUpdate(instrument.Name, value, (_, sum) => sum + value));
            _listener.Start();
        }

        public long this[string name] => _totals.GetValueOrDefault(name);

        public void Dispose() => _listener.Dispose();
    }
}
