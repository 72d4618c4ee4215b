using System.Diagnostics.Metrics;
using System.Globalization;
using CachingGen.MySql;
using CachingGen.Redis;
using CachingGen.Runtime;
using CachingGen.TestSupport;
using Dapper;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using MySqlConnector;
using WriteBackFlusher;

namespace CachingGen.IntegrationTests.WriteBack;

/// <summary>
/// The sample's <c>[WriteBack(ApplyManyWith = nameof(RecordManyAsync))]</c> on real MariaDB and a private redis-server,
/// flushed in this process: runs of counters go to MariaDB as multi-row statements, once each and in per-key order;
/// records the ledger holds are left out of the statement; a poison key inside a run is isolated and dead-lettered.
/// </summary>
[Collection(CrashCollection.Name)]
public sealed class MultiRowApplyTests
{
    private const string AppliedInBatches = "cachinggen.writeback.applied_in_batches";

    [CrashFact]
    public async Task Runs_of_counters_are_applied_in_multi_row_statements_once_each_in_key_order()
    {
        await using var world = await World.StartAsync();
        using var counted = new CountedRecords();
        const int keys = 30, rounds = 3;
        for (var round = 1; round <= rounds; round++)
        {
            for (var id = 1; id <= keys; id++)
            {
                await world.Counters.RecordAsync(new Counter(id, round));
            }
        }

        await world.Runtime.WriteBack.FlushAsync();

        // One shard, batches of 50 in log order: every run holds many keys (a key's next round starts a new run).
        Assert.Equal(keys * rounds, counted.Total);
        var rows = await world.QueryAsync<(long Id, long Applied, long LastSeq, long Reordered)>($"SELECT id, applied, last_seq, reordered FROM `{world.Table}` ORDER BY id");
        Assert.Equal(keys, rows.Count);
        Assert.All(rows, row => Assert.Equal((row.Id, (long)rounds, (long)rounds, 0L), row));
        var writes = await world.QueryAsync<(long Id, long Seq)>($"SELECT id, seq FROM `{world.Table}_writes` ORDER BY id, row_id");
        Assert.Equal(keys * rounds, writes.Count);
        foreach (var group in writes.GroupBy(w => w.Id))
        {
            Assert.Equal(new long[] { 1, 2, 3 }, group.Select(w => w.Seq));
        }

        Assert.Equal(keys * rounds, (await world.QueryAsync<long>($"SELECT COUNT(*) FROM `{world.Ledger}`")).Single());
        Assert.Equal(0, await world.BacklogAsync());
    }

    [CrashFact]
    public async Task Records_already_in_the_ledger_are_left_out_of_the_multi_row_statement()
    {
        await using var world = await World.StartAsync();
        using var counted = new CountedRecords();
        for (var id = 1; id <= 10; id++)
        {
            await world.Counters.RecordAsync(new Counter(id, 1));
        }

        // As if a flusher had committed 3 and 4 and died before acknowledging them (their rows are not written here,
        // so a replay would show up as rows).
        await using (var connection = new MySqlConnection(world.MySql))
        {
            await connection.OpenAsync();
            await MySqlWriteBackLedger.EnsureCreatedAsync(connection, world.Ledger);
            foreach (var key in new[] { "ctr:3@1", "ctr:4@1" })
            {
                await connection.ExecuteAsync($"INSERT INTO `{world.Ledger}` (key_hash, idempotency_key, applied_at) VALUES (UNHEX(SHA2(@key, 256)), @key, UTC_TIMESTAMP(6))", new { key });
            }
        }

        await world.Runtime.WriteBack.FlushAsync();

        var applied = await world.QueryAsync<long>($"SELECT id FROM `{world.Table}_writes` ORDER BY row_id");
        Assert.Equal(new long[] { 1, 2, 5, 6, 7, 8, 9, 10 }, applied);
        Assert.Equal(8, counted.Total);
        Assert.Equal(0, await world.BacklogAsync());
    }

    [CrashFact]
    public async Task A_poison_counter_inside_a_run_is_dead_lettered_alone_and_every_other_counter_is_applied_once()
    {
        await using var world = await World.StartAsync(new Dictionary<string, string?> { ["poison-id"] = "7", ["max-attempts"] = "3" });
        for (var id = 1; id <= 12; id++)
        {
            await world.Counters.RecordAsync(new Counter(id, 1));
        }

        await world.Counters.RecordAsync(new Counter(3, 2));
        await world.Runtime.WriteBack.FlushAsync();

        var writes = await world.QueryAsync<(long Id, long Seq)>($"SELECT id, seq FROM `{world.Table}_writes` ORDER BY id, row_id");
        var expected = Enumerable.Range(1, 12).Where(id => id != 7).Select(id => ((long)id, 1L)).ToList();
        expected.Insert(3, (3L, 2L));
        Assert.Equal(expected, writes);
        var dead = Assert.Single(await world.Log.ReadDeadLettersAsync(0, 100));
        Assert.Equal("ctr:7@1", dead.Record.IdempotencyKey);
        Assert.Contains("poisoned", dead.Error, StringComparison.Ordinal);
        Assert.Equal(0, await world.BacklogAsync());
    }

    /// <summary>Counts the records applied through multi-row calls (the CachingGen meter of this process: the crash
    /// collection runs one test at a time, and its flushers are child processes).</summary>
    private sealed class CountedRecords : IDisposable
    {
        private readonly MeterListener _listener = new();
        private long _total;

        public CountedRecords()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == "CachingGen" && instrument.Name == AppliedInBatches)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _total, value));
            _listener.Start();
        }

        public long Total => Interlocked.Read(ref _total);

        public void Dispose() => _listener.Dispose();
    }

    private sealed class World : IAsyncDisposable
    {
        private readonly RedisServerProcess _redis;
        private readonly ServiceProvider _services;

        private World(RedisServerProcess redis, ServiceProvider services, string mySql, string table)
        {
            _redis = redis;
            _services = services;
            MySql = mySql;
            Table = table;
            Counters = services.GetRequiredService<ICounterRepository>();
            Runtime = services.GetRequiredService<CachingGenRuntime>();
            Log = services.GetRequiredService<RedisWriteBackLog>();
        }

        public string MySql { get; }

        public string Table { get; }

        public string Ledger => Table + "_ledger";

        public ICounterRepository Counters { get; }

        public CachingGenRuntime Runtime { get; }

        public RedisWriteBackLog Log { get; }

        public static async Task<World> StartAsync(IDictionary<string, string?>? overrides = null)
        {
            var mySql = CrashEnvironment.RequireMySql();
            var redis = RedisServerProcess.Start("--appendonly", "yes", "--appendfsync", "everysec");
            var table = string.Create(CultureInfo.InvariantCulture, $"wbm_{Guid.NewGuid():N}")[..28];
            var settings = new Dictionary<string, string?>(StringComparer.Ordinal)
            {
                ["redis"] = redis.Configuration,
                ["mysql"] = mySql,
                ["namespace"] = table + ":",
                ["table"] = table,
                ["ledger"] = table + "_ledger",
                ["shards"] = "1",
                ["batch"] = "50",
                ["retry-base-ms"] = "10",
                ["retry-max-ms"] = "50",
            };
            foreach (var (name, value) in overrides ?? new Dictionary<string, string?>())
            {
                settings[name] = value;
            }

            var services = new ServiceCollection();
            services.AddCounters(new ConfigurationBuilder().AddInMemoryCollection(settings).Build(), runFlusher: false);
            var provider = services.BuildServiceProvider();
            var world = new World(redis, provider, mySql, table);
            await world.Log.InitializeAsync();
            await MySqlCounterRepository.CreateTablesAsync(provider.GetRequiredService<IMySqlConnectionSource>(), table);
            return world;
        }

        public async Task<List<T>> QueryAsync<T>(string sql)
        {
            await using var connection = new MySqlConnection(MySql);
            await connection.OpenAsync();
            return (await connection.QueryAsync<T>(sql)).ToList();
        }

        public Task<long> BacklogAsync() => Log.GetBacklogAsync(0, default).AsTask();

        public async ValueTask DisposeAsync()
        {
            await _services.DisposeAsync();
            _redis.Dispose();
        }
    }
}
