using System.Diagnostics.Metrics;
using CachingGen.Storage;
using CachingGen.Tests.Support;
using CachingGen.WriteBack;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Sample;

namespace CachingGen.Tests.WriteBack;

public sealed class WriteBackObservabilityTests
{
    private const string Update = "Sample.IPreferenceRepository.UpdateAsync(Sample.Preference)";

    [Fact]
    public async Task Consecutive_writes_of_a_coalescible_method_apply_only_the_last_but_record_every_idempotency_key()
    {
        await using var h = new Harness(o => o.CoalescedWriteBackMethods.Add(Update));
        using var metrics = new MetricCapture(h.Runtime.Telemetry.Meter);
        for (var version = 1; version <= 4; version++)
        {
            await h.Repository.UpdateAsync(new Preference(1, version, $"c{version}", true));
        }

        await h.Repository.UpdateAsync(new Preference(2, 1, "x", true));
        await h.Runtime.WriteBack.FlushAsync();

        Assert.Equal(new long[] { 4 }, h.Database.HistoryOf(1));
        Assert.Equal("c4", h.Database.Rows[1].Channel);
        Assert.Equal(new long[] { 1 }, h.Database.HistoryOf(2));
        for (var version = 1; version <= 4; version++)
        {
            Assert.True(h.Ledger.IsApplied($"pref:1@{version}"));
        }

        metrics.Collect();
        Assert.Equal(3, metrics.Sum("cachinggen.writeback.coalesced"));
        Assert.Contains(metrics.Values("cachinggen.writeback.batch_size"), v => v >= 3);
        Assert.Contains(metrics.Values("cachinggen.writeback.coalescing_ratio"), v => v > 0);
    }

    [Fact]
    public async Task Without_opting_in_every_write_is_replayed_in_order()
    {
        await using var h = new Harness();
        for (var version = 1; version <= 3; version++)
        {
            await h.Repository.UpdateAsync(new Preference(1, version, $"c{version}", true));
        }

        await h.Runtime.WriteBack.FlushAsync();
        Assert.Equal(new long[] { 1, 2, 3 }, h.Database.HistoryOf(1));
    }

    [Fact]
    public async Task Health_check_turns_unhealthy_when_the_oldest_pending_write_passes_the_threshold()
    {
        await using var h = new Harness();
        var check = new WriteBackHealthCheck(h.Runtime, TimeSpan.FromSeconds(30));
        var context = new HealthCheckContext { Registration = new HealthCheckRegistration("wb", check, HealthStatus.Unhealthy, null) };
        Assert.Equal(HealthStatus.Healthy, (await check.CheckHealthAsync(context)).Status);

        await h.Repository.UpdateAsync(new Preference(3, 1, "a", true));
        h.Time.Advance(TimeSpan.FromSeconds(10));
        var young = await check.CheckHealthAsync(context);
        Assert.Equal(HealthStatus.Healthy, young.Status);
        Assert.Equal(1L, young.Data["backlog"]);

        h.Time.Advance(TimeSpan.FromSeconds(25));
        var old = await check.CheckHealthAsync(context);
        Assert.Equal(HealthStatus.Unhealthy, old.Status);
        Assert.Contains("35 s old", old.Description);

        await h.Runtime.WriteBack.FlushAsync();
        Assert.Equal(HealthStatus.Healthy, (await check.CheckHealthAsync(context)).Status);
    }

    [Fact]
    public async Task Oldest_pending_age_gauge_reports_what_the_flusher_last_saw()
    {
        await using var h = new Harness(o => o.BatchSize = 1);
        using var metrics = new MetricCapture(h.Runtime.Telemetry.Meter);
        await h.Repository.UpdateAsync(new Preference(4, 1, "a", true));
        await h.Repository.UpdateAsync(new Preference(4, 2, "b", true));
        h.Time.Advance(TimeSpan.FromSeconds(12));

        // Observed while the pass that read the oldest record (12 s old) applies it; 0 once the shard is empty.
        h.Database.BeforeWrite = (_, _, _) =>
        {
            metrics.Collect();
            return Task.CompletedTask;
        };
        await h.Runtime.WriteBack.FlushAsync();
        Assert.Contains(metrics.Values("cachinggen.writeback.oldest_pending_age"), v => v >= 12);
        var before = metrics.Values("cachinggen.writeback.oldest_pending_age").Count;
        metrics.Collect();
        Assert.All(metrics.Values("cachinggen.writeback.oldest_pending_age").Skip(before), v => Assert.Equal(0, v));
    }

    [Fact]
    public async Task Retries_dead_letters_and_records_the_ledger_skips_are_counted()
    {
        // A poison record: two failed attempts are retries, the third dead-letters it.
        await using (var h = new Harness(o =>
        {
            o.ShardCount = 1;
            o.MaxAttempts = 3;
            o.RetryBaseDelay = TimeSpan.Zero;
            o.RetryMaxDelay = TimeSpan.Zero;
        }))
        {
            using var metrics = new MetricCapture(h.Runtime.Telemetry.Meter);
            await h.Repository.UpdateAsync(new Preference(13, 1, "poison", true));
            await h.Repository.UpdateAsync(new Preference(14, 1, "fine", true));
            h.Database.BeforeWrite = (op, p, _) => op == "update" && p is { UserId: 13 } ? throw new InvalidOperationException("poison") : Task.CompletedTask;
            await h.Runtime.WriteBack.FlushAsync();

            Assert.Equal(2, metrics.Sum("cachinggen.writeback.retries"));
            Assert.Equal(1, metrics.Sum("cachinggen.writeback.dead_letters"));
            Assert.Equal(1, metrics.Sum("cachinggen.writeback.flushed"));
            Assert.Equal(0, metrics.Sum("cachinggen.writeback.duplicates"));
        }

        // A batch committed but not acknowledged (the process died in between) is read again and skipped by the ledger.
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var store = new InMemoryCacheStore(time);
        var durableLog = new InMemoryWriteBackLog(store, 2);
        var ledger = new TransactionalTestLedger();
        var database = new FakePreferenceDatabase();
        var first = new Harness(log: new FaultyWriteBackLog(durableLog) { FailNextAcknowledge = true }, ledger: ledger, database: database, store: store, time: time);
        await first.Repository.UpdateAsync(new Preference(5, 1, "a", true));
        await Assert.ThrowsAsync<IOException>(() => first.Runtime.WriteBack.FlushAsync());

        await using var second = new Harness(log: durableLog, ledger: ledger, database: database, store: store, time: time);
        using var replay = new MetricCapture(second.Runtime.Telemetry.Meter);
        await second.Runtime.WriteBack.FlushAsync();
        Assert.Equal(1, replay.Sum("cachinggen.writeback.duplicates"));
        Assert.Equal(1, replay.Sum("cachinggen.writeback.flushed"));
        Assert.Equal(1, database.Updates);
    }

    /// <summary>Listens to one runtime's meter (other tests' runtimes run in parallel).</summary>
    private sealed class MetricCapture : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly List<(string Name, double Value)> _values = new();

        public MetricCapture(Meter meter)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (ReferenceEquals(instrument.Meter, meter))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((i, v, _, _) => Add(i.Name, v));
            _listener.SetMeasurementEventCallback<int>((i, v, _, _) => Add(i.Name, v));
            _listener.SetMeasurementEventCallback<double>((i, v, _, _) => Add(i.Name, v));
            _listener.Start();
        }

        public void Collect() => _listener.RecordObservableInstruments();

        public double Sum(string name)
        {
            lock (_values)
            {
                return _values.Where(v => v.Name == name).Sum(v => v.Value);
            }
        }

        public IReadOnlyList<double> Values(string name)
        {
            lock (_values)
            {
                return _values.Where(v => v.Name == name).Select(v => v.Value).ToList();
            }
        }

        public void Dispose() => _listener.Dispose();

        private void Add(string name, double value)
        {
            lock (_values)
            {
                _values.Add((name, value));
            }
        }
    }
}
