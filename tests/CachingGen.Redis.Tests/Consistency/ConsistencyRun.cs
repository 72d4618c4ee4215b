using System.Diagnostics;
using CachingGen.Runtime;
using CachingGen.Storage;
using CachingGen.WriteBack;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace CachingGen.Redis.Tests.Consistency;

/// <summary>
/// Writers and readers hammer keys through the decorator (write-through + read-through) on real Redis and MariaDB for
/// a bounded time, then the history is checked: no read returned a value older than the last write acknowledged
/// before the read started, and the cache agrees with the database on every key.
/// </summary>
internal sealed class ConsistencyRun
{
    public const string SecondsVariable = "CACHINGGEN_CONSISTENCY_SECONDS";
    public const string SeedVariable = "CACHINGGEN_CONSISTENCY_SEED";

    public int Keys { get; init; } = 1_000;

    /// <summary>Half of all operations go to this many keys, so writes of one key overlap often.</summary>
    public int HotKeys { get; init; } = 16;

    public int Writers { get; init; } = 8;

    public int Readers { get; init; } = 8;

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(15);

    public int Seed { get; init; } = Environment.TickCount;

    public bool Naive { get; init; }

    /// <summary>The entity has a [CacheVersion] member (the row's version column, written with optimistic
    /// concurrency): write-through is one compare-and-set after the database write.</summary>
    public bool Versioned { get; init; }

    public static TimeSpan DurationFromEnvironment(TimeSpan fallback)
        => double.TryParse(Environment.GetEnvironmentVariable(SecondsVariable), System.Globalization.CultureInfo.InvariantCulture, out var seconds) && seconds > 0
            ? TimeSpan.FromSeconds(seconds)
            : fallback;

    public static int SeedFromEnvironment()
        => int.TryParse(Environment.GetEnvironmentVariable(SeedVariable), out var seed) ? seed : Environment.TickCount;

    public async Task<ConsistencyReport> RunAsync(Action<string> output)
    {
        output($"consistency run: seed {Seed} ({SeedVariable}), {Duration.TotalSeconds:0.#} s ({SecondsVariable}), {Writers} writers, {Readers} readers, {Keys} keys ({HotKeys} hot), naive = {Naive}, versioned = {Versioned}");
        var table = $"cg_consistency_{Guid.NewGuid():N}";
        var database = new MySqlRowRepository(MySqlTestEnvironment.RequireConnectionString(), table) { Versioned = Versioned };
        await database.CreateAsync(Keys);
        try
        {
            var store = RedisTestEnvironment.NewStore();
            var options = new CachingGenOptions();
            await using var runtime = new CachingGenRuntime(store, new InMemoryWriteBackLog(store), new InMemoryWriteBackTransactionFactory(), [],
                Microsoft.Extensions.Options.Options.Create(options), TimeProvider.System, NullLoggerFactory.Instance);
            var repository = new CachedRowRepository(database, runtime, Versioned) { Naive = Naive };
            if (repository.IsVersioned != Versioned)
            {
                throw new InvalidOperationException("the decorator did not take the requested write-through path");
            }

            long lastVersion = 0;
            var rejected = 0;

            var writes = new List<WriteAck>[Writers];
            var reads = new List<ReadRecord>[Readers];
            var deadline = Stopwatch.GetTimestamp() + (long)(Duration.TotalSeconds * Stopwatch.Frequency);
            var workers = new List<Task>();
            for (var w = 0; w < Writers; w++)
            {
                var index = w;
                writes[w] = new List<WriteAck>();
                workers.Add(Task.Run(async () =>
                {
                    var random = new Random(HashCode.Combine(Seed, "writer", index));
                    for (var n = 0; Stopwatch.GetTimestamp() < deadline; n++)
                    {
                        var id = PickKey(random);
                        var value = $"w{index}-{n}";
                        try
                        {
                            // Versions from one counter: two writers of a row race, and the database keeps the newer.
                            await repository.SaveAsync(new Row(id, value, Versioned ? Interlocked.Increment(ref lastVersion) : 0), CancellationToken.None);
                        }
                        catch (StaleVersionException)
                        {
                            Interlocked.Increment(ref rejected);
                            continue;
                        }

                        writes[index].Add(new WriteAck(id, Stopwatch.GetTimestamp(), value));
                    }
                }));
            }

            for (var r = 0; r < Readers; r++)
            {
                var index = r;
                reads[r] = new List<ReadRecord>();
                workers.Add(Task.Run(async () =>
                {
                    var random = new Random(HashCode.Combine(Seed, "reader", index));
                    while (Stopwatch.GetTimestamp() < deadline)
                    {
                        var id = PickKey(random);
                        var started = Stopwatch.GetTimestamp();
                        var row = await repository.GetAsync(id, CancellationToken.None);
                        reads[index].Add(new ReadRecord(id, started, row?.Value));
                    }
                }));
            }

            await Task.WhenAll(workers);
            var report = Check(database, writes.SelectMany(w => w).ToList(), reads.SelectMany(r => r).ToList());
            await runtime.WaitForPendingFillsAsync();
            await CompareCacheWithDatabaseAsync(store, database, report);
            output($"{report.Writes} writes ({rejected} refused as stale by the database), {report.Reads} reads, {report.CachedKeys} keys cached at the end, {report.StaleReads.Count} stale read(s), {report.CacheMismatches.Count} cache/database mismatch(es)");
            output($"group commit: {store.PipelinedBatches} pipelined batches carried the cache steps of {report.Writes} write-through calls");
            foreach (var line in report.StaleReads.Take(5).Concat(report.CacheMismatches.Take(5)))
            {
                output("  " + line);
            }

            return report;
        }
        finally
        {
            await database.DropAsync();
        }
    }

    private long PickKey(Random random) => random.Next(2) == 0 ? random.Next(HotKeys) : random.Next(Keys);

    /// <summary>Each read must return a value whose commit order is at least that of every write acknowledged before
    /// the read started.</summary>
    private static ConsistencyReport Check(MySqlRowRepository database, List<WriteAck> writes, List<ReadRecord> reads)
    {
        var report = new ConsistencyReport { Writes = writes.Count, Reads = reads.Count };
        var acksByKey = writes.GroupBy(w => w.Id).ToDictionary(g => g.Key, g =>
        {
            var sorted = g.OrderBy(w => w.AckedAt).ToArray();
            var floor = new long[sorted.Length];
            long max = 0;
            for (var i = 0; i < sorted.Length; i++)
            {
                max = Math.Max(max, database.CommitOrder[sorted[i].Value]);
                floor[i] = max;
            }

            return (Times: sorted.Select(w => w.AckedAt).ToArray(), Floor: floor, Acks: sorted);
        });

        foreach (var read in reads)
        {
            if (read.Value is null)
            {
                report.StaleReads.Add($"row {read.Id}: read returned nothing");
                continue;
            }

            var seen = database.CommitOrder.TryGetValue(read.Value, out var order) ? order : -1;
            if (!acksByKey.TryGetValue(read.Id, out var acks))
            {
                continue;
            }

            // The last acknowledgement strictly before the read started.
            var index = Array.BinarySearch(acks.Times, read.StartedAt);
            index = index >= 0 ? index - 1 : ~index - 1;
            while (index >= 0 && acks.Times[index] >= read.StartedAt)
            {
                index--;
            }

            if (index >= 0 && seen < acks.Floor[index])
            {
                report.StaleReads.Add($"row {read.Id}: read '{read.Value}' (commit #{seen}) after a write of commit #{acks.Floor[index]} was acknowledged");
            }
        }

        return report;
    }

    /// <summary>Reads every key straight from Redis: a value must decode to the database's row; no write marker may
    /// be left once every writer is done.</summary>
    private async Task CompareCacheWithDatabaseAsync(RedisCacheStore store, MySqlRowRepository database, ConsistencyReport report)
    {
        var rows = await database.ReadAllAsync();
        var redis = RedisTestEnvironment.Shared.GetDatabase();
        var fingerprint = 0UL;
        for (long id = 0; id < Keys; id++)
        {
            var stored = await redis.StringGetAsync(store.GetRedisKey(CachedRowRepository.KeyOf(id)));
            var lookup = RedisEntryFormat.Parse(stored);
            if (lookup.WriteInProgress)
            {
                report.CacheMismatches.Add($"row {id}: a write marker is left");
                continue;
            }

            if (!lookup.Found)
            {
                continue;
            }

            report.CachedKeys++;
            if (!CacheEnvelope.TryDecode<Row>(lookup.Value, fingerprint, RowFormatter.Options, out var cached, out var reason) || cached is null)
            {
                report.CacheMismatches.Add($"row {id}: cached bytes do not decode ({reason})");
            }
            else if (cached.Value != rows[id])
            {
                report.CacheMismatches.Add($"row {id}: cache holds '{cached.Value}' (commit #{database.CommitOrder[cached.Value]}), database '{rows[id]}' (commit #{database.CommitOrder[rows[id]]})");
            }
        }
    }

    private readonly record struct WriteAck(long Id, long AckedAt, string Value);

    private readonly record struct ReadRecord(long Id, long StartedAt, string? Value);
}

internal sealed class ConsistencyReport
{
    public int Writes { get; init; }

    public int Reads { get; init; }

    public int CachedKeys { get; set; }

    public List<string> StaleReads { get; } = new();

    public List<string> CacheMismatches { get; } = new();
}
