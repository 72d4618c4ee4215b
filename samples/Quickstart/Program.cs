using System.Diagnostics.Metrics;
using CachingGen;
using CachingGen.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Quickstart;

// The quickstart: the article's notification-preference repository on the embedded default
// (in-memory cache and write-back log, SQLite through plain ADO.NET as the database), one step per strategy.
var builder = Host.CreateApplicationBuilder(args);
builder.Logging.ClearProviders();
builder.Logging.AddSimpleConsole(options => options.SingleLine = true);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.AddSingleton<SqliteDatabase>();
// The background flusher is off here so each step's effect is visible; the "flush" step does its work by hand.
// In an application it runs as a hosted service and flushes as soon as records arrive.
// The in-memory write-back log loses unflushed writes when the process stops: fine for a demo, so the quickstart
// accepts it explicitly; an application registers a durable log instead (CGEN027, and the runtime refuses otherwise).
builder.Services
    .AddCachingGen(options => options.RunWriteBackFlusher = false)
    .UseInMemoryWriteBackLog()
    .AddCachedPreferenceRepository<SqlitePreferenceRepository>(ServiceLifetime.Singleton);

using var host = builder.Build();
await host.StartAsync();

var database = host.Services.GetRequiredService<SqliteDatabase>();
var runtime = host.Services.GetRequiredService<CachingGenRuntime>();
var repository = host.Services.GetRequiredService<IPreferenceRepository>();
using var counters = new CacheCounters();
var table = new StepTable(database, counters);

Console.WriteLine("CachingGen quickstart: notification preferences, in-memory cache in front of SQLite");
Console.WriteLine();

await table.RunAsync("save user 1", "WriteThrough", async () =>
{
    await repository.SaveAsync(new Preference(1, "email", true, 1));
    return "db and cache both hold v1";
});

await table.RunAsync("read user 1", "Cached", async () => Describe(await repository.GetAsync(1)) + " (hit: no database read)");

await table.RunAsync("bulk save users 1..1000", "WriteAround", async () =>
{
    var batch = Enumerable.Range(1, 1000).Select(id => new Preference(id, "sms", id % 2 == 0, 2)).ToList();
    await repository.SaveManyAsync(batch);
    return "1,000 rows, no cache writes; written keys invalidated";
});

await table.RunAsync("read user 7", "Cached", async () => Describe(await repository.GetAsync(7)) + " (miss, filled for 30 s)");
await table.RunAsync("read user 7 again", "Cached", async () => Describe(await repository.GetAsync(7)) + " (hit)");

await table.RunAsync("100 concurrent reads of user 8", "Cached", async () =>
{
    var reads = await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => repository.GetAsync(8).AsTask()));
    return $"{reads.Length} answers, one database read";
});

await table.RunAsync("update user 1", "WriteBack", async () =>
{
    await repository.UpdateAsync(new Preference(1, "push", true, 3));
    var stored = await database.ReadDirectAsync(1);
    return "acknowledged; database still has " + Describe(stored);
});

await table.RunAsync("read user 1", "Cached", async () => Describe(await repository.GetAsync(1)) + " (hit: the pending write)");

await table.RunAsync("flush write-back", "flusher", async () =>
{
    await runtime.WriteBack.FlushAsync();
    return "database now has " + Describe(await database.ReadDirectAsync(1));
});

await table.RunAsync("delete user 7", "Evict", async () =>
{
    await repository.DeleteAsync(7);
    return "row deleted, entry evicted";
});

await table.RunAsync("read user 7", "Cached", async () => Describe(await repository.GetAsync(7)) + " (miss: not found)");

await table.RunAsync("count rows", "pass-through", async () => (await repository.CountAsync()).ToString(System.Globalization.CultureInfo.InvariantCulture) + " rows");

table.Print();
await host.StopAsync();

static string Describe(Preference? preference)
    => preference is null ? "null" : $"user {preference.UserId}: {preference.Channel}, {(preference.Enabled ? "on" : "off")}, v{preference.Version}";

/// <summary>Counts CachingGen's own metrics (hits, misses, write-back records) with a MeterListener.</summary>
internal sealed class CacheCounters : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly Dictionary<string, long> _totals = new(StringComparer.Ordinal);
    private readonly object _gate = new();

    public CacheCounters()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "CachingGen")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            lock (_gate)
            {
                _totals[instrument.Name] = _totals.GetValueOrDefault(instrument.Name) + value;
            }
        });
        _listener.Start();
    }

    public long this[string instrument]
    {
        get
        {
            lock (_gate)
            {
                return _totals.GetValueOrDefault(instrument);
            }
        }
    }

    public void Dispose() => _listener.Dispose();
}

/// <summary>Runs the steps and prints what each one cost, as a table.</summary>
internal sealed class StepTable(SqliteDatabase database, CacheCounters counters)
{
    private static readonly string[] Instruments =
    {
        "cachinggen.cache.hits", "cachinggen.cache.misses", "cachinggen.writeback.appends", "cachinggen.writeback.flushed",
    };

    private readonly List<string[]> _rows = new();

    public async Task RunAsync(string step, string strategy, Func<Task<string>> action)
    {
        var reads = database.Reads;
        var writes = database.Writes;
        var before = Instruments.Select(name => counters[name]).ToArray();
        var outcome = await action();
        var after = Instruments.Select(name => counters[name]).ToArray();
        _rows.Add(new[]
        {
            step, strategy,
            (database.Reads - reads).ToString(System.Globalization.CultureInfo.InvariantCulture),
            (database.Writes - writes).ToString(System.Globalization.CultureInfo.InvariantCulture),
            (after[0] - before[0]).ToString(System.Globalization.CultureInfo.InvariantCulture),
            (after[1] - before[1]).ToString(System.Globalization.CultureInfo.InvariantCulture),
            (after[2] - before[2]).ToString(System.Globalization.CultureInfo.InvariantCulture),
            (after[3] - before[3]).ToString(System.Globalization.CultureInfo.InvariantCulture),
            outcome,
        });
    }

    public void Print()
    {
        string[] header = { "step", "strategy", "db reads", "db rows written", "cache hits", "cache misses", "wb queued", "wb flushed", "what happened" };
        var widths = header.Select((h, i) => Math.Max(h.Length, _rows.Max(r => r[i].Length))).ToArray();
        string Line(string[] cells) => "| " + string.Join(" | ", cells.Select((c, i) => c.PadRight(widths[i]))) + " |";
        Console.WriteLine(Line(header));
        Console.WriteLine("|" + string.Join("|", widths.Select(w => new string('-', w + 2))) + "|");
        foreach (var row in _rows)
        {
            Console.WriteLine(Line(row));
        }
    }
}
