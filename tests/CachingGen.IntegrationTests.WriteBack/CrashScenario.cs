using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using CachingGen.MySql;
using CachingGen.Redis;
using CachingGen.Storage;
using CachingGen.TestSupport;
using Dapper;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using MySqlConnector;
using WriteBackFlusher;
using Xunit.Abstractions;

namespace CachingGen.IntegrationTests.WriteBack;

/// <summary>
/// One crash test's world: a private redis-server, unique MySQL tables and ledger, writers in this process (the
/// generated decorator over the sample's counter repository, flusher off) and flusher child processes (the sample's
/// <c>flusher</c> role). Each write of a key carries the key's next sequence number; the verification reads the
/// database's per-write journal and counts what was acknowledged, applied, duplicated, reordered and dead-lettered.
/// </summary>
internal sealed class CrashScenario : IAsyncDisposable
{
    public const int Shards = 4;

    private readonly ITestOutputHelper _output;
    private readonly Dictionary<string, string?> _settings;
    private readonly ServiceProvider _services;
    private readonly List<FlusherProcess> _flushers = new();
    private readonly ConcurrentDictionary<long, ConcurrentQueue<long>> _acknowledged = new();
    private readonly string _mySql;
    private long _unknown;
    private long _direct;

    private CrashScenario(ITestOutputHelper output, int seed, RedisServerProcess redis, string mySql, IDictionary<string, string> settings)
    {
        _output = output;
        Seed = seed;
        Random = new Random(seed);
        Redis = redis;
        _mySql = mySql;
        var stem = string.Create(CultureInfo.InvariantCulture, $"wbc_{seed}_{Guid.NewGuid():N}")[..28];
        Table = stem;
        _settings = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["redis"] = redis.Configuration,
            ["mysql"] = mySql,
            ["namespace"] = stem + ":",
            ["table"] = stem,
            ["ledger"] = stem + "_ledger",
            ["shards"] = Shards.ToString(CultureInfo.InvariantCulture),
            ["batch"] = "50",
            ["poll-ms"] = "50",
            ["lease-ms"] = "1500",
            ["retry-base-ms"] = "100",
            ["retry-max-ms"] = "1000",
            ["drain-seconds"] = "5",
        };
        foreach (var (name, value) in settings)
        {
            _settings[name] = value;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(_settings).Build();
        var services = new ServiceCollection();
        services.AddCounters(configuration, runFlusher: false);
        _services = services.BuildServiceProvider();
        Counters = _services.GetRequiredService<ICounterRepository>();
        Log = _services.GetRequiredService<RedisWriteBackLog>();
    }

    public int Seed { get; }

    public Random Random { get; }

    public RedisServerProcess Redis { get; }

    public string Table { get; }

    public ICounterRepository Counters { get; }

    public RedisWriteBackLog Log { get; }

    public IReadOnlyList<FlusherProcess> Flushers => _flushers;

    /// <summary>Acknowledged direct ([WriteThrough]) writes.</summary>
    public long DirectWrites => Interlocked.Read(ref _direct);

    /// <summary>Starts the world. <paramref name="redisSettings"/> go to redis-server; <paramref name="settings"/>
    /// override the flusher and writer settings (see the sample's CounterServices).</summary>
    public static async Task<CrashScenario> StartAsync(ITestOutputHelper output, string name, string[] redisSettings, IDictionary<string, string>? settings = null, string? mySql = null)
    {
        var seed = CrashEnvironment.Seed();
        var line = $"{name}: seed {seed} (repeat with CACHINGGEN_CRASH_SEED={seed})";
        output.WriteLine(line);
        Console.WriteLine(line);
        var redis = RedisServerProcess.Start(redisSettings);
        var scenario = new CrashScenario(output, seed, redis, mySql ?? CrashEnvironment.RequireMySql(), settings ?? new Dictionary<string, string>());
        await scenario.Log.InitializeAsync();
        await MySqlCounterRepository.CreateTablesAsync(scenario._services.GetRequiredService<IMySqlConnectionSource>(), scenario.Table);
        return scenario;
    }

    public void Print(string message)
    {
        var line = $"[{DateTime.UtcNow:HH:mm:ss.fff}] {message}";
        _output.WriteLine(line);
        Console.WriteLine(line);
    }

    public FlusherProcess StartFlusher(params string[] extra)
    {
        var flusher = FlusherProcess.Start(_settings, extra, _flushers.Count + 1);
        _flushers.Add(flusher);
        Print($"flusher #{flusher.Number} started (pid {flusher.Pid})");
        return flusher;
    }

    /// <summary>Writers: <paramref name="writers"/> tasks, each owning every <paramref name="writers"/>-th of
    /// <paramref name="keys"/> keys and writing their next sequence numbers one at a time, until stopped.</summary>
    /// <remarks>With <paramref name="directEvery"/> = N, every N-th write of a writer is a [WriteThrough] (direct) write,
    /// which must wait for the key's pending write-back records, flushed by a flusher process.</remarks>
    public Task RunWritersAsync(int keys, int writers, CancellationToken stop, int directEvery = 0)
    {
        var tasks = new Task[writers];
        for (var w = 0; w < writers; w++)
        {
            var writer = w;
            var random = new Random(Seed + writer);
            tasks[w] = Task.Run(async () =>
            {
                var owned = Enumerable.Range(0, keys).Where(k => k % writers == writer).Select(k => (long)k + 1).ToArray();
                var next = owned.ToDictionary(id => id, _ => 0L);
                var count = 0L;
                while (!stop.IsCancellationRequested)
                {
                    var id = owned[random.Next(owned.Length)];
                    var sequence = ++next[id];
                    try
                    {
                        if (directEvery > 0 && ++count % directEvery == 0)
                        {
                            await Counters.RecordDirectAsync(new Counter(id, sequence), CancellationToken.None);
                            Interlocked.Increment(ref _direct);
                        }
                        else
                        {
                            await Counters.RecordAsync(new Counter(id, sequence), CancellationToken.None);
                        }

                        _acknowledged.GetOrAdd(id, _ => new ConcurrentQueue<long>()).Enqueue(sequence);
                    }
                    catch (Exception)
                    {
                        // Outcome unknown (Redis down, timeout): it may or may not be applied, never twice.
                        Interlocked.Increment(ref _unknown);
                        await Task.Delay(20, CancellationToken.None);
                    }

                    await Task.Delay(random.Next(0, 3), CancellationToken.None);
                }
            });
        }

        return Task.WhenAll(tasks);
    }

    public async Task<long> BacklogAsync()
    {
        long total = 0;
        for (var shard = 0; shard < Shards; shard++)
        {
            total += await Log.GetBacklogAsync(shard, default);
        }

        return total;
    }

    public async Task WaitForDrainAsync(TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            long backlog;
            try
            {
                backlog = await BacklogAsync();
            }
            catch (CacheStoreUnavailableException)
            {
                backlog = -1;
            }

            if (backlog == 0)
            {
                return;
            }

            if (deadline.Elapsed > timeout)
            {
                foreach (var flusher in _flushers)
                {
                    Print($"flusher #{flusher.Number} output tail:{Environment.NewLine}{flusher.Tail(40)}");
                }

                Assert.Fail($"The backlog did not drain within {timeout}: {backlog} record(s) pending (seed {Seed}).");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Reads the database's journal and the dead letters, prints the counts, and checks the invariants:
    /// every acknowledged write applied exactly once (or dead-lettered, for <paramref name="poisonId"/>), per-key order.</summary>
    public async Task<CrashReport> VerifyAsync(long? poisonId = null)
    {
        await using var connection = new MySqlConnection(_mySql);
        await connection.OpenAsync();
        var rows = (await connection.QueryAsync<(long Id, long Seq)>($"SELECT id, seq FROM `{Table}_writes` ORDER BY id, row_id")).ToList();
        var applied = new Dictionary<long, HashSet<long>>();
        long duplicates = 0, reordered = 0;
        long? lastId = null;
        long lastSeq = 0;
        foreach (var (id, seq) in rows)
        {
            if (!applied.TryGetValue(id, out var set))
            {
                applied[id] = set = new HashSet<long>();
            }

            if (!set.Add(seq))
            {
                duplicates++;
            }

            if (lastId == id && seq <= lastSeq)
            {
                reordered++;
            }

            lastId = id;
            lastSeq = seq;
        }

        long deadLettered = 0;
        var deadKeys = new HashSet<string>(StringComparer.Ordinal);
        for (var shard = 0; shard < Shards; shard++)
        {
            foreach (var dead in await Log.ReadDeadLettersAsync(shard, 1_000_000))
            {
                deadLettered++;
                deadKeys.Add(dead.Record.IdempotencyKey);
            }
        }

        long acknowledged = 0, missing = 0, deadAcknowledged = 0;
        foreach (var (id, sequences) in _acknowledged)
        {
            foreach (var seq in sequences)
            {
                acknowledged++;
                if (applied.TryGetValue(id, out var set) && set.Contains(seq))
                {
                    continue;
                }

                if (deadKeys.Contains(string.Create(CultureInfo.InvariantCulture, $"ctr:{id}@{seq}")))
                {
                    deadAcknowledged++;
                    continue;
                }

                missing++;
            }
        }

        var report = new CrashReport(acknowledged, rows.Count, duplicates, reordered, deadLettered, missing, Interlocked.Read(ref _unknown), await BacklogAsync());
        Print($"seed {Seed}: acknowledged {report.Acknowledged}, applied {report.Applied}, duplicates {report.Duplicates}, reordered {report.Reordered}, " +
              $"dead-lettered {report.DeadLettered}, missing {report.Missing}, unknown outcome {report.Unknown}, backlog {report.Backlog}");
        Assert.Equal(0, report.Missing);
        Assert.Equal(0, report.Duplicates);
        Assert.Equal(0, report.Reordered);
        Assert.Equal(0, report.Backlog);
        if (poisonId is { } poison)
        {
            Assert.True(report.DeadLettered > 0, "the poison key's writes must be dead-lettered");
            Assert.Equal(deadAcknowledged, _acknowledged.GetValueOrDefault(poison)?.Count ?? 0);
            Assert.False(applied.ContainsKey(poison));
        }
        else
        {
            Assert.Equal(0, report.DeadLettered);
        }

        return report;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var flusher in _flushers)
        {
            flusher.Kill();
            flusher.Dispose();
        }

        await _services.DisposeAsync();
        Redis.Dispose();
    }
}

internal sealed record CrashReport(long Acknowledged, long Applied, long Duplicates, long Reordered, long DeadLettered, long Missing, long Unknown, long Backlog);

/// <summary>A flusher child process (the sample's flusher role), killed with SIGKILL by the tests.</summary>
internal sealed class FlusherProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();

    private FlusherProcess(Process process, int number)
    {
        _process = process;
        Number = number;
    }

    public int Number { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public static FlusherProcess Start(IReadOnlyDictionary<string, string?> settings, string[] extra, int number)
    {
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(CrashEnvironment.FlusherAssembly());
        start.ArgumentList.Add("flusher");
        foreach (var (name, value) in settings)
        {
            if (value is not null)
            {
                start.ArgumentList.Add("--" + name);
                start.ArgumentList.Add(value);
            }
        }

        foreach (var argument in extra)
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the flusher");
        var flusher = new FlusherProcess(process, number);
        process.OutputDataReceived += (_, e) => flusher.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => flusher.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return flusher;
    }

    /// <summary>SIGKILL: no drain, no lease release, no goodbye.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            if (_process.WaitForExit(10_000))
            {
                _process.WaitForExit();
            }
        }
    }

    /// <summary>Waits until the process printed <paramref name="text"/> (for example that it owns a shard).</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (!_lines.Any(line => line.Contains(text, StringComparison.Ordinal)))
        {
            if (deadline.Elapsed > timeout || _process.HasExited)
            {
                Assert.Fail($"flusher #{Number} did not print '{text}' within {timeout} (exited: {_process.HasExited}):{Environment.NewLine}{Tail(40)}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>SIGTERM: the host stops gracefully (the flusher drains, then the log releases its leases).</summary>
    public bool Terminate(TimeSpan timeout)
    {
        using (var kill = Process.Start("kill", new[] { "-TERM", Pid.ToString(CultureInfo.InvariantCulture) }))
        {
            kill.WaitForExit(10_000);
        }

        if (!_process.WaitForExit(timeout))
        {
            return false;
        }

        // WaitForExit(timeout) does not wait for the redirected output to be read to its end; the parameterless
        // overload does, so the tail holds the drain report the process printed on its way out.
        _process.WaitForExit();
        return true;
    }

    public string Tail(int lines) => string.Join(Environment.NewLine, _lines.TakeLast(lines));

    /// <summary>Whether the process printed <paramref name="text"/> so far.</summary>
    public bool Printed(string text) => _lines.Any(line => line is not null && line.Contains(text, StringComparison.Ordinal));

    /// <summary>Waits (briefly: the output of a process that just exited may still be in flight) for <paramref name="text"/>.</summary>
    public async Task<bool> PrintedAsync(string text)
    {
        var deadline = Stopwatch.StartNew();
        while (!Printed(text) && deadline.Elapsed < TimeSpan.FromSeconds(5))
        {
            await Task.Delay(50);
        }

        return Printed(text);
    }

    /// <summary>The shards this flusher has printed that it owns (it took their leases), so far.</summary>
    public IReadOnlyList<int> OwnedShards()
        => Enumerable.Range(0, CrashScenario.Shards).Where(shard => _lines.Any(line => line.Contains($"owns write-back shard {shard}.", StringComparison.Ordinal))).ToList();

    public void Dispose() => _process.Dispose();

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        _lines.Enqueue(line);
        while (_lines.Count > 400 && _lines.TryDequeue(out _))
        {
        }
    }
}
