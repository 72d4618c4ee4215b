using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using CachingGen.Tests.Support;
using Sample;

namespace CachingGen.Tests.Runtime;

public sealed class TelemetryTests
{
    [Fact]
    public async Task Meter_counts_cache_and_write_back_operations()
    {
        await using var h = new Harness(o => o.ShardCount = 1);
        var totals = new ConcurrentDictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter, h.Runtime.Telemetry.Meter))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => totals.AddOrUpdate(instrument.Name, value, (_, sum) => instrument.Name.EndsWith("backlog", StringComparison.Ordinal) ? value : sum + value));
        listener.Start();

        h.Database.Seed(new Preference(1, 1, "a", true));
        await h.Repository.GetAsync(1);
        await h.Repository.GetAsync(1);
        await h.Repository.SaveAsync(new Preference(2, 1, "b", true));
        await h.Repository.UpdateAsync(new Preference(3, 1, "c", true));
        await h.Repository.UpdateAsync(new Preference(4, 1, "d", true));
        await h.Runtime.WriteBack.FlushAsync();
        listener.RecordObservableInstruments();

        Assert.Equal(1, totals["cachinggen.cache.misses"]);
        Assert.Equal(1, totals["cachinggen.cache.hits"]);
        Assert.Equal(1, totals["cachinggen.cache.fills"]);
        Assert.Equal(3, totals["cachinggen.writes"]);
        Assert.Equal(2, totals["cachinggen.writeback.appends"]);
        Assert.Equal(2, totals["cachinggen.writeback.flushed"]);
        Assert.Equal(0, totals["cachinggen.writeback.backlog"]);
    }
}
