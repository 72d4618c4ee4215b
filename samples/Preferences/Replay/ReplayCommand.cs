using System.Diagnostics;
using System.Globalization;
using CachingGen.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Preferences.Replay;

/// <summary>The write path a replay measures.</summary>
internal enum Mode
{
    /// <summary><c>[WriteThrough]</c> SaveAsync / SaveManyAsync: database, then the cache entries.</summary>
    WriteThrough,

    /// <summary><c>[WriteAround]</c> MigrateAsync / MigrateManyAsync: database, then one invalidation batch.</summary>
    WriteAround,

    /// <summary><c>[WriteAround(Invalidate = false)]</c> ImportAsync / ImportManyAsync: database only.</summary>
    WriteAroundPure,

    /// <summary>The inner Dapper repository alone: no decorator, no cache.</summary>
    PlainDatabase,

    /// <summary>What a developer writes by hand without CachingGen: the inner repository, then a raw
    /// StackExchange.Redis <c>KeyDeleteAsync</c> (DEL, or UNLINK on Redis 4+) of the written keys (one pipelined batch per bulk call). The same one round trip
    /// per call as write-around, without its tombstone and fill TTL; Redis only.</summary>
    HandWrittenDelete,
}

/// <summary>How the rows are written: one call per row, or <c>SaveManyAsync</c>-style calls of a batch.</summary>
internal enum Phase
{
    Single,
    Batched,
}

/// <summary>
/// Replays the article's bulk migration: the same preference updates, from the same concurrent workers, through
/// each write path in turn, first one row per call, then in batches. Before each measurement the table is reset to
/// the same initial rows, the cache namespace is emptied, a fresh host (runtime, store, connections) is started, reads
/// every row once (so the cache holds it, as in a read-heavy service) and is
/// warmed up with users outside the measured range; after it, the database and a sample of cache keys are checked.
/// </summary>
internal static class ReplayCommand
{
    private const int CacheSampleSize = 200;

    public static async Task<int> RunAsync(CommandLine commandLine)
    {
        await using var stack = await Stack.OpenAsync(commandLine, defaultTable: "preferences_replay", keyNamespace: "preferences-replay:");
        Console.WriteLine(stack.Description);
        var workload = Workload.Create(commandLine.Rows, commandLine.Batch, commandLine.Seed);
        Console.WriteLine($"Replaying {workload.Rows:N0} preference updates from {commandLine.Workers} workers, one row per call and in batches of {workload.Batch}; warm-up {workload.WarmupRows:N0} other rows; seed {workload.Seed}.");
        var environment = ReplayEnvironment.Capture(stack, commandLine);
        using var counters = new CachingGenCounters();
        var measurements = new List<Measurement>();
        var valueBytes = 0;
        // The hand-written baseline talks to Redis directly: there is none on the embedded default.
        var modes = Enum.GetValues<Mode>().Where(mode => mode != Mode.HandWrittenDelete || stack.UsesRedis).ToArray();
        for (var run = 0; run < commandLine.Repeat; run++)
        {
            foreach (var phase in Enum.GetValues<Phase>())
            {
                // Each run starts with another mode, so no mode always runs first (or right after a given other one).
                for (var m = 0; m < modes.Length; m++)
                {
                    var mode = modes[(m + run) % modes.Length];
                    var measurement = await MeasureAsync(stack, workload, commandLine.Workers, mode, phase, counters) with { Run = run + 1 };
                    measurements.Add(measurement);
                    valueBytes = Math.Max(valueBytes, measurement.CachedValueBytes);
                    Console.WriteLine($"  run {run + 1} {phase,-7} {ReplayReport.Name(mode),-32} {measurement.RowsPerSecond,10:N0} rows/s  mean {measurement.Latency.MeanMicroseconds,8:N0} µs/call  CPU µs/row {measurement.Cpu.Describe(measurement.Rows)}  {measurement.Verification}");
                }
            }
        }

        RawRedisResult? raw = null;
        if (commandLine.Redis is { } redis)
        {
            Console.WriteLine("  measuring raw Redis SET round trips and pipelined batches...");
            raw = await RawRedisProbe.MeasureAsync(redis, stack.KeyNamespace, valueBytes, commandLine.Workers, workload.Batch, workload.Rows);
            await stack.ClearCacheAsync();
        }

        environment = environment with { LoadAverageAtEnd = ReplayEnvironment.ReadLoadAverage() };
        var report = new ReplayReport(environment, workload, commandLine.Workers, commandLine.Repeat, measurements, raw);
        Console.WriteLine();
        Console.WriteLine(report.ToText());
        if (commandLine.Markdown is { } path)
        {
            var directory = Path.GetDirectoryName(Path.GetFullPath(path));
            if (directory is not null)
            {
                Directory.CreateDirectory(directory);
            }

            await File.WriteAllTextAsync(path, report.ToMarkdown());
            Console.WriteLine($"Wrote {path}");
        }

        return measurements.All(measurement => measurement.Verified) ? 0 : 1;
    }

    private static async Task<Measurement> MeasureAsync(Stack stack, Workload workload, int workers, Mode mode, Phase phase, CachingGenCounters counters)
    {
        using var host = stack.BuildHost(Stack.CommandRedisTimeout);
        await host.StartAsync();
        var database = stack.Database;
        var inner = host.Services.GetRequiredService<DapperPreferenceRepository>();
        var repository = host.Services.GetRequiredService<IPreferenceRepository>();

        await database.ResetAsync(CancellationToken.None);
        foreach (var chunk in workload.Initial.Chunk(5_000))
        {
            await inner.SaveManyAsync(chunk);
        }

        await stack.ClearCacheAsync();

        // A read-heavy service caches its users' preferences: every row is read once through the decorator, so the
        // migration updates cached entries (the write-through replaces each with its new version).
        await Workers.RunAsync(workload.Initial, workers, async preference => await repository.GetAsync(preference.UserId));
        await host.Services.GetRequiredService<CachingGen.Runtime.CachingGenRuntime>().WaitForPendingFillsAsync();

        var rawRedis = stack.Inspection?.GetDatabase();
        Func<Preference, Task> single = mode switch
        {
            Mode.WriteThrough => preference => repository.SaveAsync(preference),
            Mode.WriteAround => preference => repository.MigrateAsync(preference),
            Mode.WriteAroundPure => preference => repository.ImportAsync(preference),
            Mode.HandWrittenDelete => async preference =>
            {
                await inner.SaveAsync(preference);
                await rawRedis!.KeyDeleteAsync(stack.KeyNamespace + CacheInspector.KeyOf(preference.UserId));
            },
            _ => preference => inner.SaveAsync(preference),
        };
        Func<Preference[], Task> many = mode switch
        {
            Mode.WriteThrough => batch => repository.SaveManyAsync(batch),
            Mode.WriteAround => batch => repository.MigrateManyAsync(batch),
            Mode.WriteAroundPure => batch => repository.ImportManyAsync(batch),
            Mode.HandWrittenDelete => async batch =>
            {
                await inner.SaveManyAsync(batch);
                var deletes = rawRedis!.CreateBatch();
                var sent = batch.Select(preference => deletes.KeyDeleteAsync(stack.KeyNamespace + CacheInspector.KeyOf(preference.UserId))).ToArray();
                deletes.Execute();
                await Task.WhenAll(sent);
            },
            _ => batch => inner.SaveManyAsync(batch),
        };

        if (phase == Phase.Single)
        {
            await Workers.RunAsync(workload.Warmup, workers, single);
        }
        else
        {
            await Workers.RunAsync(workload.WarmupBatches, workers, many);
        }

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var redisBefore = stack.UsesRedis ? await stack.ReadRedisCountersAsync() : null;
        var databaseCpuBefore = await database.ReadServerCpuAsync(CancellationToken.None);
        var metersBefore = counters.Snapshot();
        var clientCpuBefore = Environment.CpuUsage.TotalTime;
        var clock = Stopwatch.StartNew();
        var durations = phase == Phase.Single
            ? await Workers.RunAsync(workload.Updates, workers, single)
            : await Workers.RunAsync(workload.UpdateBatches, workers, many);
        clock.Stop();
        var clientCpu = Environment.CpuUsage.TotalTime - clientCpuBefore;
        var databaseCpuAfter = await database.ReadServerCpuAsync(CancellationToken.None);
        var redisAfter = stack.UsesRedis ? await stack.ReadRedisCountersAsync() : null;
        var meters = CachingGenCounters.Describe(metersBefore, counters.Snapshot());

        var (verified, verification, valueBytes) = await VerifyAsync(stack, host, workload, mode);
        await host.StopAsync();
        var redis = redisAfter is null || redisBefore is null ? null : redisAfter.Minus(redisBefore);
        var cpu = new CpuUse(clientCpu, redis is null ? null : TimeSpan.FromSeconds(redis.CpuSeconds), databaseCpuAfter - databaseCpuBefore);
        return new Measurement(mode, phase, workload.Rows, durations.Length, clock.Elapsed, LatencyStats.From(durations),
            redis, cpu, meters, verified, verification, valueBytes);
    }

    /// <summary>Every measured row reached the database at version 2, and a seeded sample of keys holds what the mode
    /// promises: the new value (write-through), nothing readable (write-around), or the old value the reads cached
    /// before the run (no cache work: pure write-around, plain database writes).</summary>
    private static async Task<(bool Verified, string Text, int ValueBytes)> VerifyAsync(Stack stack, IHost host, Workload workload, Mode mode)
    {
        var atVersion2 = await stack.Database.CountAtVersionAsync(workload.Rows, 2, CancellationToken.None);
        var inspector = new CacheInspector(host.Services.GetRequiredService<ICacheStore>(), stack);
        var random = new Random(workload.Seed);
        var expectedRows = mode switch
        {
            Mode.WriteThrough => workload.Updates.ToDictionary(update => update.UserId),
            Mode.WriteAround or Mode.HandWrittenDelete => null,
            _ => workload.Initial.ToDictionary(row => row.UserId),
        };
        var wrong = 0;
        var valueBytes = 0;
        for (var i = 0; i < CacheSampleSize; i++)
        {
            var userId = random.NextInt64(1, workload.Rows + 1);
            var (lookup, cached) = await inspector.ReadAsync(userId);
            var expected = expectedRows?[userId];
            if (expected is null ? lookup.Found : cached != expected)
            {
                wrong++;
            }

            if (lookup.Found && stack.Inspection is not null)
            {
                valueBytes = (int)await stack.Inspection.GetDatabase().StringLengthAsync(stack.KeyNamespace + CacheInspector.KeyOf(userId));
            }
        }

        var verified = atVersion2 == workload.Rows && wrong == 0;
        var cacheExpectation = mode switch
        {
            Mode.WriteThrough => "hold the new value",
            Mode.WriteAround or Mode.HandWrittenDelete => "read as misses",
            _ => "still hold the old value (no cache work)",
        };
        var text = verified
            ? $"verified: {atVersion2:N0} rows at v2, {CacheSampleSize} sampled keys {cacheExpectation}"
            : $"NOT VERIFIED: {atVersion2:N0} of {workload.Rows:N0} rows at v2, {wrong} of {CacheSampleSize} sampled keys do not {cacheExpectation}";
        return (verified, text, valueBytes);
    }
}

/// <summary>One measured run of one mode and phase.</summary>
internal sealed record Measurement(
    Mode Mode,
    Phase Phase,
    int Rows,
    int Calls,
    TimeSpan Elapsed,
    LatencyStats Latency,
    RedisCounters? Redis,
    CpuUse Cpu,
    string Meters,
    bool Verified,
    string Verification,
    int CachedValueBytes)
{
    /// <summary>Which run (1-based) of <c>--repeat</c> this was.</summary>
    public int Run { get; init; }

    public double RowsPerSecond => Rows / Elapsed.TotalSeconds;
}

/// <summary>CPU time used during one measured run: by this process (the workers, CachingGen, the clients), and by the
/// Redis and database servers when they can be read (null: in memory, embedded, or not a process of this machine).
/// Redis' time is the whole server's, so other clients of the same server count too.</summary>
internal sealed record CpuUse(TimeSpan Client, TimeSpan? Redis, TimeSpan? Database)
{
    /// <summary>All three together; null when the database server's time is unknown. Without Redis (the in-memory
    /// cache) the cache's time is the client's own.</summary>
    public TimeSpan? Total => Database is { } database ? Client + database + (Redis ?? TimeSpan.Zero) : null;

    /// <summary>E.g. <c>client 5.3 + Redis 0.1 + database 26.0</c> (µs per row; n/a where unknown).</summary>
    public string Describe(int rows) => $"client {Format(PerRow(Client, rows))} + Redis {Format(PerRow(Redis, rows))} + database {Format(PerRow(Database, rows))}";

    /// <summary>Microseconds with one decimal, or n/a.</summary>
    public static string Format(double? microseconds) => microseconds is { } value ? value.ToString("N1", CultureInfo.InvariantCulture) : "n/a";

    /// <summary>Microseconds of <paramref name="time"/> per row of <paramref name="rows"/>.</summary>
    public static double? PerRow(TimeSpan? time, int rows) => time is { } t ? t.TotalMicroseconds / rows : null;
}
