using System.Diagnostics;
using System.Globalization;
using CachingGen.MySql;
using CachingGen.Redis;
using CachingGen.Runtime;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace WriteBackFlusher;

/// <summary>
/// The reproducible load command behind docs/benchmarks/write-back.md (<c>WriteBackFlusher bench ...</c>): measures, in
/// one run against the same servers and with the same number of concurrent callers, a raw Redis round trip, the
/// acknowledgement of [WriteBack] calls, [WriteThrough] calls of the same workload, the same inner write in MySQL
/// autocommit, and how fast one flusher drains the write-back backlog. Prints a Markdown report.
/// </summary>
internal static class LoadBenchmark
{
    public static async Task<int> RunAsync(IConfiguration settings)
    {
        var seconds = settings.GetValue("seconds", 5);
        var concurrency = settings.GetValue("concurrency", 16);
        var keys = settings.GetValue("keys", 10_000);
        var duration = TimeSpan.FromSeconds(seconds);
        var run = string.Create(CultureInfo.InvariantCulture, $"bench{DateTime.UtcNow:HHmmss}");

        var writeBack = await WorldAsync(settings, run + "wb");
        var writeThrough = await WorldAsync(settings, run + "wt");
        var autocommit = await WorldAsync(settings, run + "ac");
        var floor = await WorldAsync(settings, run + "fl");
        using var redis = await ConnectionMultiplexer.ConnectAsync(settings["redis"]!);
        var raw = redis.GetDatabase();
        var payload = new byte[64];

        // The raw keys expire: a benchmark must not leave a million keys behind on a server it does not own (they
        // would slow every later SCAN and AOF rewrite on it, and so every later measurement).
        var rawExpiry = TimeSpan.FromMinutes(10);

        // Warm-up: connections, scripts, JIT.
        await MeasureAsync(TimeSpan.FromSeconds(1), concurrency, (caller, i) => new ValueTask(raw.StringSetAsync($"{run}:raw:{caller}", payload, rawExpiry)));
        await MeasureAsync(TimeSpan.FromSeconds(1), concurrency, (caller, i) => new ValueTask(writeBack.Counters.RecordAsync(new Counter(1_000_000 + caller, i + 1))));
        await writeBack.Runtime.WriteBack.FlushAsync();

        var rawResult = await MeasureAsync(duration, concurrency, (caller, i) => new ValueTask(raw.StringSetAsync($"{run}:raw:{caller}:{i % keys}", payload, rawExpiry)));
        var sequences = new long[keys];
        // INFO is an admin command: a separate connection reads the server's command statistics.
        using var admin = await ConnectionMultiplexer.ConnectAsync(settings["redis"]! + ",allowAdmin=true");
        var server = admin.GetServer(admin.GetEndPoints()[0]);
        var statsBefore = await CommandStatsAsync(server);
        var wbResult = await MeasureAsync(duration, concurrency, (caller, i) =>
        {
            var id = (caller + (i * concurrency)) % keys;
            return new ValueTask(writeBack.Counters.RecordAsync(new Counter(id, Interlocked.Increment(ref sequences[id]))));
        });
        var statsAfter = await CommandStatsAsync(server);
        var wtSequences = new long[keys];
        var wtResult = await MeasureAsync(duration, concurrency, (caller, i) =>
        {
            var id = (caller + (i * concurrency)) % keys;
            return new ValueTask(writeThrough.Counters.RecordDirectAsync(new Counter(id, Interlocked.Increment(ref wtSequences[id]))));
        });

        var acSequences = new long[keys];
        var inner = autocommit.Services.GetRequiredService<MySqlCounterRepository>();
        var acResult = await MeasureAsync(duration, 1, (caller, i) =>
        {
            var id = i % keys;
            return new ValueTask(inner.RecordAsync(new Counter(id, Interlocked.Increment(ref acSequences[id]))));
        });

        // The database floor: the flusher's multi-row statements alone, one transaction per batch, one connection per
        // shard worker, without the ledger, Redis or CachingGen. No flusher can drain faster on this MariaDB.
        var shards = writeBack.Runtime.Options.ShardCount;
        var batch = writeBack.Runtime.Options.BatchSize;
        var floorRepository = floor.Services.GetRequiredService<MySqlCounterRepository>();
        var floorSequences = new long[keys];
        var floorResult = await MeasureAsync(duration, shards, async (worker, i) =>
        {
            var counters = new Counter[batch];
            for (var j = 0; j < batch; j++)
            {
                // Each worker writes its own keys (as each shard does), distinct within a batch.
                var id = worker + (shards * (((i * batch) + j) % (keys / shards)));
                counters[j] = new Counter(id, Interlocked.Increment(ref floorSequences[id]));
            }

            await using var connection = new MySqlConnector.MySqlConnection(settings["mysql"]);
            await connection.OpenAsync();
            await using var transaction = await connection.BeginTransactionAsync();
            await floorRepository.WriteManyAsync(connection, transaction, counters);
            await transaction.CommitAsync();
        });
        var floorRate = floorResult.Throughput * batch;

        // The same, plus the idempotency ledger rows the flusher claims in each transaction (CachingGen.MySql's claim,
        // on the same connections): what the database alone allows a flusher that is exactly-once.
        var ledgerTable = run + "fl_ledger";
        await using (var setup = new MySqlConnector.MySqlConnection(settings["mysql"]))
        {
            await setup.OpenAsync();
            await MySqlWriteBackLedger.EnsureCreatedAsync(setup, ledgerTable);
        }

        var ledgerResult = await MeasureAsync(duration, shards, async (worker, i) =>
        {
            var counters = new Counter[batch];
            var idempotencyKeys = new string[batch];
            for (var j = 0; j < batch; j++)
            {
                var id = worker + (shards * (((i * batch) + j) % (keys / shards)));
                counters[j] = new Counter(id, Interlocked.Increment(ref floorSequences[id]));
                idempotencyKeys[j] = string.Create(CultureInfo.InvariantCulture, $"ctr:{id}@{counters[j].Sequence}");
            }

            await using var connection = new MySqlConnector.MySqlConnection(settings["mysql"]);
            await connection.OpenAsync();
            await using var transaction = await connection.BeginTransactionAsync();
            await MySqlWriteBackLedger.TryClaimManyAsync(connection, transaction, idempotencyKeys, ledgerTable);
            await floorRepository.WriteManyAsync(connection, transaction, counters);
            await transaction.CommitAsync();
        });
        var ledgerRate = ledgerResult.Throughput * batch;

        var backlog = await BacklogAsync(writeBack);
        var drainStatsBefore = await CommandStatsAsync(server);
        var drain = Stopwatch.StartNew();
        await writeBack.Runtime.WriteBack.FlushAsync();
        drain.Stop();
        var drainStatsAfter = await CommandStatsAsync(server);
        var drainRate = backlog / drain.Elapsed.TotalSeconds;

        var report = new System.Text.StringBuilder();
        report.AppendLine(CultureInfo.InvariantCulture, $"Run {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, {concurrency} concurrent callers, {seconds} s per phase, {keys} keys, shards {writeBack.Runtime.Options.ShardCount}, batch {writeBack.Runtime.Options.BatchSize}, durability {writeBack.Services.GetRequiredService<RedisWriteBackLog>().Durability}.");
        if (File.Exists("/proc/loadavg"))
        {
            // The machine may be shared: the ratios are only comparable between runs on a quiet machine.
            report.AppendLine(CultureInfo.InvariantCulture, $"Load average at the end (1, 5, 15 min): {string.Join(", ", (await File.ReadAllTextAsync("/proc/loadavg")).Split(' ').Take(3))}.");
        }

        report.AppendLine();
        report.AppendLine("| Phase | Calls | Throughput (/s) | p50 (ms) | p99 (ms) | Allocated per call (B) |");
        report.AppendLine("|---|---:|---:|---:|---:|---:|");
        Row(report, "Raw Redis round trip (SET, 64 B)", rawResult);
        Row(report, "[WriteBack] acknowledgement", wbResult);
        Row(report, "[WriteThrough] (MySQL autocommit + Redis)", wtResult);
        Row(report, "Inner write in MySQL autocommit, 1 connection", acResult);
        Row(report, string.Create(CultureInfo.InvariantCulture, $"Database floor: the flusher's multi-row statements alone, {batch} records per transaction, {shards} connections"), floorResult);
        Row(report, string.Create(CultureInfo.InvariantCulture, $"Database floor with the idempotency ledger: the same plus the ledger claim of the {batch} records, in the same transaction"), ledgerResult);
        report.AppendLine();
        report.AppendLine(CultureInfo.InvariantCulture, $"Redis server time during the [WriteBack] phase (INFO commandstats): {ServerTime(statsBefore, statsAfter)}.");
        report.AppendLine();
        report.AppendLine(CultureInfo.InvariantCulture, $"Flusher drain: {backlog} records in {drain.Elapsed.TotalSeconds:0.00} s = {drainRate:0} records/s (one flusher, {writeBack.Runtime.Options.ShardCount} shard workers, one transaction per batch).");
        report.AppendLine();
        report.AppendLine(CultureInfo.InvariantCulture, $"Redis server time during the drain: {ServerTime(drainStatsBefore, drainStatsAfter)}.");
        report.AppendLine();
        report.AppendLine(CultureInfo.InvariantCulture, $"Database floor: {floorRate:0} records/s = {floorRate / acResult.Throughput:0.00}x the autocommit rate, the flusher's data statements alone (no idempotency ledger, no Redis); the drain reached {drainRate / floorRate:P0} of it. With the idempotency ledger: {ledgerRate:0} records/s = {ledgerRate / acResult.Throughput:0.00}x autocommit; the drain reached {drainRate / ledgerRate:P0} of it. A drain target above the floor with the ledger cannot be met by an exactly-once flusher on this database and machine.");
        report.AppendLine();
        report.AppendLine("| Target | Measured | Required | Met |");
        report.AppendLine("|---|---:|---:|:---:|");
        Target(report, "[WriteBack] ack throughput / [WriteThrough] throughput", wbResult.Throughput / wtResult.Throughput, 10, atLeast: true);
        Target(report, "[WriteBack] ack p99 / raw Redis p99", wbResult.P99 / rawResult.P99, 3, atLeast: false);
        Target(report, "Flusher drain rate / single-row autocommit rate", drainRate / acResult.Throughput, 20, atLeast: true);
        Console.WriteLine(report.ToString());
        foreach (var world in new[] { writeBack, writeThrough, autocommit, floor })
        {
            await world.Services.DisposeAsync();
        }

        return 0;
    }

    private static async Task<World> WorldAsync(IConfiguration settings, string name)
    {
        var overrides = new ConfigurationBuilder().AddConfiguration(settings).AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["namespace"] = name + ":",
            ["table"] = name,
            ["ledger"] = name + "_ledger",
        }).Build();
        var services = new ServiceCollection();
        services.AddCounters(overrides, runFlusher: false);
        var provider = services.BuildServiceProvider();
        await provider.GetRequiredService<RedisWriteBackLog>().InitializeAsync();
        await MySqlCounterRepository.CreateTablesAsync(provider.GetRequiredService<IMySqlConnectionSource>(), name);
        return new World(provider, provider.GetRequiredService<ICounterRepository>(), provider.GetRequiredService<CachingGenRuntime>());
    }

    private static async Task<long> BacklogAsync(World world)
    {
        long total = 0;
        for (var shard = 0; shard < world.Runtime.Options.ShardCount; shard++)
        {
            total += await world.Runtime.WriteBackLog.GetBacklogAsync(shard, default);
        }

        return total;
    }

    private static async Task<Result> MeasureAsync(TimeSpan duration, int concurrency, Func<int, int, ValueTask> call)
    {
        var latencies = new List<double>[concurrency];
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var total = Stopwatch.StartNew();
        var callers = Enumerable.Range(0, concurrency).Select(caller => Task.Run(async () =>
        {
            var mine = latencies[caller] = new List<double>(100_000);
            for (var i = 0; total.Elapsed < duration; i++)
            {
                var start = Stopwatch.GetTimestamp();
                await call(caller, i);
                mine.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
        })).ToArray();
        await Task.WhenAll(callers);
        var elapsed = total.Elapsed.TotalSeconds;
        // Whole-process allocations (the latency lists included, 8 B per call): the client's cost per call.
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        var all = latencies.SelectMany(l => l).Order().ToArray();
        return new Result(all.Length, all.Length / elapsed, Percentile(all, 0.50), Percentile(all, 0.99), all.Length == 0 ? 0 : allocated / all.Length);
    }

    /// <summary>Per command: (calls, total server microseconds) from INFO commandstats.</summary>
    private static async Task<Dictionary<string, (long Calls, long Usec)>> CommandStatsAsync(IServer server)
    {
        var stats = new Dictionary<string, (long, long)>(StringComparer.Ordinal);
        foreach (var group in await server.InfoAsync("commandstats"))
        {
            foreach (var (name, value) in group)
            {
                // cmdstat_evalsha: calls=1,usec=2,usec_per_call=2.00,...
                var fields = value.Split(',').Select(f => f.Split('=')).Where(f => f.Length == 2).ToDictionary(f => f[0], f => f[1], StringComparer.Ordinal);
                if (fields.TryGetValue("calls", out var calls) && fields.TryGetValue("usec", out var usec))
                {
                    stats[name.Replace("cmdstat_", string.Empty, StringComparison.Ordinal)] = (long.Parse(calls, CultureInfo.InvariantCulture), long.Parse(usec, CultureInfo.InvariantCulture));
                }
            }
        }

        return stats;
    }

    private static string ServerTime(Dictionary<string, (long Calls, long Usec)> before, Dictionary<string, (long Calls, long Usec)> after)
    {
        var parts = new List<string>();
        foreach (var (name, (calls, usec)) in after.OrderByDescending(kv => kv.Value.Usec - before.GetValueOrDefault(kv.Key).Usec))
        {
            var (calls0, usec0) = before.GetValueOrDefault(name);
            if (calls - calls0 >= 100)
            {
                parts.Add(string.Create(CultureInfo.InvariantCulture, $"{name} {calls - calls0} calls, {(double)(usec - usec0) / (calls - calls0):0.0} µs/call"));
            }
        }

        return parts.Count == 0 ? "none" : string.Join("; ", parts);
    }

    private static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];

    private static void Row(System.Text.StringBuilder report, string phase, Result result)
        => report.AppendLine(CultureInfo.InvariantCulture, $"| {phase} | {result.Calls} | {result.Throughput:0} | {result.P50:0.000} | {result.P99:0.000} | {result.AllocatedPerCall} |");

    private static void Target(System.Text.StringBuilder report, string name, double measured, double required, bool atLeast)
        => report.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {measured:0.00}x | {(atLeast ? "≥" : "≤")} {required}x | {((atLeast ? measured >= required : measured <= required) ? "yes" : "NO")} |");

    private sealed record World(ServiceProvider Services, ICounterRepository Counters, CachingGenRuntime Runtime);

    private readonly record struct Result(long Calls, double Throughput, double P50, double P99, long AllocatedPerCall);
}
