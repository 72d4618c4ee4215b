using CachingGen.Redis;
using Xunit.Abstractions;

namespace CachingGen.IntegrationTests.WriteBack;

/// <summary>
/// Kills things while writers write, then checks that every acknowledged write is in MySQL exactly once, in per-key
/// order, and that the backlog drains. Real redis-server (one per test, never the shared one) and MariaDB; bounded in
/// time; each prints its seed (CACHINGGEN_CRASH_SEED repeats a run) and its counts.
/// </summary>
[Collection(CrashCollection.Name)]
public sealed class WriteBackCrashTests(ITestOutputHelper output)
{
    private static readonly string[] EverySecond = { "--appendonly", "yes", "--appendfsync", "everysec" };
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(90);

    [CrashFact]
    public async Task Flusher_SIGKILLed_at_random_moments_including_between_commit_and_XACK_loses_and_duplicates_nothing()
    {
        await using var scenario = await CrashScenario.StartAsync(output, nameof(Flusher_SIGKILLed_at_random_moments_including_between_commit_and_XACK_loses_and_duplicates_nothing), EverySecond);
        var chaos = new[] { "--crash-before-ack", "0.03" };
        var flusher = scenario.StartFlusher(chaos);
        using var stop = new CancellationTokenSource();
        var writers = scenario.RunWritersAsync(keys: 40, writers: 3, stop.Token);
        int kills = 0, afterCommit = 0;
        while (kills < 10)
        {
            await Task.Delay(scenario.Random.Next(800, 2200));
            if (flusher.HasExited)
            {
                await AssertChaosExitAsync(flusher);
                afterCommit++;
                scenario.Print($"flusher #{flusher.Number} killed itself between a commit and its XACK");
            }
            else
            {
                flusher.Kill();
                scenario.Print($"flusher #{flusher.Number} SIGKILLed");
            }

            kills++;
            flusher = scenario.StartFlusher(chaos);
        }

        // At least one kill must land between the commit and the XACK: keep going until the chaos hook fired.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (afterCommit == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
            if (flusher.HasExited)
            {
                await AssertChaosExitAsync(flusher);
                afterCommit++;
                kills++;
                scenario.Print($"flusher #{flusher.Number} killed itself between a commit and its XACK");
                flusher = scenario.StartFlusher(chaos);
            }
        }

        await stop.CancelAsync();
        await writers;
        flusher.Kill();
        scenario.StartFlusher();
        await scenario.WaitForDrainAsync(DrainTimeout);
        var report = await scenario.VerifyAsync();
        scenario.Print($"kills {kills} (between commit and XACK: {afterCommit})");
        Assert.True(afterCommit > 0, "no kill landed between a commit and its XACK");
        Assert.True(report.Acknowledged > 0);
    }

    /// <summary>A flusher that exited on its own must have been killed by the chaos hook, after a commit and before
    /// its XACK; any other exit is a crash the test must not count as one.</summary>
    private static async Task AssertChaosExitAsync(FlusherProcess flusher)
        => Assert.True(await flusher.PrintedAsync("chaos: killing the flusher after the commit"),
            $"flusher #{flusher.Number} exited without the chaos hook (a crash, not a kill between commit and XACK):{Environment.NewLine}{flusher.Tail(40)}");

    [CrashFact]
    public async Task Redis_SIGKILLed_and_restarted_with_Fsync_durability_keeps_every_acknowledged_write()
    {
        await using var scenario = await CrashScenario.StartAsync(output, nameof(Redis_SIGKILLed_and_restarted_with_Fsync_durability_keeps_every_acknowledged_write),
            new[] { "--appendonly", "yes", "--appendfsync", "always" }, new Dictionary<string, string> { ["durability"] = nameof(WriteBackDurability.Fsync) });
        scenario.StartFlusher();
        using var stop = new CancellationTokenSource();
        var writers = scenario.RunWritersAsync(keys: 40, writers: 3, stop.Token);
        for (var crash = 1; crash <= 3; crash++)
        {
            await Task.Delay(scenario.Random.Next(800, 2000));
            scenario.Redis.Restart();
            scenario.Print($"redis-server SIGKILLed and restarted ({crash}/3)");
        }

        await Task.Delay(1500);
        await stop.CancelAsync();
        await writers;
        await scenario.WaitForDrainAsync(DrainTimeout);
        var report = await scenario.VerifyAsync();
        Assert.True(report.Acknowledged > 0);
    }

    [CrashFact]
    public async Task Database_stopped_for_ten_seconds_while_writes_continue_then_everything_flushes_once()
    {
        var port = Environment.GetEnvironmentVariable("CACHINGGEN_PRIVATE_MYSQL_PORT") ?? "6419";
        var directory = Environment.GetEnvironmentVariable("CACHINGGEN_PRIVATE_SERVICES_DIR") ?? Path.Combine(Path.GetTempPath(), "cachinggen-private-mysql");
        var environment = new Dictionary<string, string> { ["CACHINGGEN_MYSQL_PORT"] = port, ["CACHINGGEN_SERVICES_DIR"] = directory };
        CrashEnvironment.RunServices(environment, "start-mysql");
        try
        {
            var mySql = $"Server=127.0.0.1;Port={port};User ID=cachinggen;Password=cachinggen;Database=cachinggen_test;Connection Timeout=2";
            await using var scenario = await CrashScenario.StartAsync(output, nameof(Database_stopped_for_ten_seconds_while_writes_continue_then_everything_flushes_once), EverySecond, mySql: mySql);
            await scenario.StartFlusher().WaitForOutputAsync("owns write-back shard", TimeSpan.FromSeconds(60));
            using var stop = new CancellationTokenSource();
            var writers = scenario.RunWritersAsync(keys: 40, writers: 3, stop.Token);
            await Task.Delay(scenario.Random.Next(1000, 2500));
            CrashEnvironment.RunServices(environment, "stop-mysql");
            scenario.Print("MariaDB stopped");
            await Task.Delay(TimeSpan.FromSeconds(10));
            scenario.Print($"backlog while the database is down: {await scenario.BacklogAsync()}");
            CrashEnvironment.RunServices(environment, "start-mysql");
            scenario.Print("MariaDB started");
            await Task.Delay(1500);
            await stop.CancelAsync();
            await writers;
            await scenario.WaitForDrainAsync(DrainTimeout);
            var report = await scenario.VerifyAsync();
            Assert.True(report.Acknowledged > 0);
        }
        finally
        {
            // The private server is this test's alone: stop it, so the test command leaves no server running.
            CrashEnvironment.RunServices(environment, "stop-mysql");
        }
    }

    [CrashFact]
    public async Task Two_flusher_processes_run_at_once_and_the_survivor_takes_over_the_shards_of_the_one_killed()
    {
        await using var scenario = await CrashScenario.StartAsync(output, nameof(Two_flusher_processes_run_at_once_and_the_survivor_takes_over_the_shards_of_the_one_killed), EverySecond);
        var first = scenario.StartFlusher();
        var second = scenario.StartFlusher();
        await first.WaitForOutputAsync("Write-back flusher started", TimeSpan.FromSeconds(60));
        await second.WaitForOutputAsync("Write-back flusher started", TimeSpan.FromSeconds(60));
        using var stop = new CancellationTokenSource();
        var writers = scenario.RunWritersAsync(keys: 40, writers: 3, stop.Token);
        await Task.Delay(scenario.Random.Next(1500, 3000));

        // Kill a flusher that owns shards (killing an idle standby would test nothing), chosen by the seed when both do.
        var owners = new[] { first, second }.Where(f => f.OwnedShards().Count > 0).ToList();
        Assert.NotEmpty(owners);
        var victim = owners[scenario.Random.Next(owners.Count)];
        var survivor = ReferenceEquals(victim, first) ? second : first;
        var taken = victim.OwnedShards();
        var survivorOwnedBefore = survivor.OwnedShards();
        victim.Kill();
        scenario.Print($"flusher #{victim.Number} (owner of shards {string.Join(", ", taken)}) SIGKILLed; #{survivor.Number} (owner of {survivorOwnedBefore.Count} shards) keeps running");
        await Task.Delay(3000);
        await stop.CancelAsync();
        await writers;
        await scenario.WaitForDrainAsync(DrainTimeout);
        await scenario.VerifyAsync();
        Assert.False(survivor.HasExited);
        Assert.Equal(Enumerable.Range(0, CrashScenario.Shards), survivor.OwnedShards());
        Assert.Empty(taken.Intersect(survivorOwnedBefore));
    }

    [CrashFact]
    public async Task Direct_writes_wait_for_pending_write_back_records_that_another_process_flushes()
    {
        await using var scenario = await CrashScenario.StartAsync(output, nameof(Direct_writes_wait_for_pending_write_back_records_that_another_process_flushes), EverySecond);
        var flusher = scenario.StartFlusher();
        await flusher.WaitForOutputAsync("owns write-back shard", TimeSpan.FromSeconds(60));
        using var stop = new CancellationTokenSource();
        var writers = scenario.RunWritersAsync(keys: 10, writers: 3, stop.Token, directEvery: 7);
        await Task.Delay(4000);
        await stop.CancelAsync();
        await writers;
        await scenario.WaitForDrainAsync(DrainTimeout);
        scenario.Print($"direct writes acknowledged: {scenario.DirectWrites}");
        await scenario.VerifyAsync();
        Assert.True(scenario.DirectWrites > 0);
        Assert.False(flusher.HasExited);
    }

    [CrashFact]
    public async Task A_flusher_stopped_gracefully_drains_reports_and_hands_its_shards_over_at_once()
    {
        await using var scenario = await CrashScenario.StartAsync(output, nameof(A_flusher_stopped_gracefully_drains_reports_and_hands_its_shards_over_at_once), EverySecond,
            new Dictionary<string, string> { ["lease-ms"] = "60000" });
        var first = scenario.StartFlusher();

        // SIGTERM before the host has started its flusher would test start-up, not the drain.
        await first.WaitForOutputAsync("Write-back flusher started", TimeSpan.FromSeconds(60));
        using var stop = new CancellationTokenSource();
        var writers = scenario.RunWritersAsync(keys: 40, writers: 3, stop.Token);
        await Task.Delay(2500);
        await stop.CancelAsync();
        await writers;
        Assert.True(first.Terminate(TimeSpan.FromSeconds(30)), "the flusher did not stop within 30 s of SIGTERM");
        var tail = first.Tail(400);
        scenario.Print($"flusher #1 after SIGTERM:{Environment.NewLine}{string.Join(Environment.NewLine, tail.Split(Environment.NewLine).Where(l => l.Contains("drain", StringComparison.OrdinalIgnoreCase)))}");
        Assert.True(tail.Contains("Write-back flusher drained: no pending records.", StringComparison.Ordinal)
            || tail.Contains("still pending", StringComparison.Ordinal), "the drain must report its outcome");

        // The leases (60 s) were released on the way out, so a new flusher takes over at once.
        using (var redis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(scenario.Redis.Configuration))
        {
            for (var shard = 0; shard < CrashScenario.Shards; shard++)
            {
                Assert.False(await redis.GetDatabase().KeyExistsAsync($"{scenario.Table}:{{cg-wb:{shard}}}lease"), $"the lease of shard {shard} was not released");
            }
        }

        var second = scenario.StartFlusher();
        await scenario.WaitForDrainAsync(TimeSpan.FromSeconds(30));
        await scenario.VerifyAsync();
        Assert.False(second.HasExited);
    }

    [CrashFact]
    public async Task A_poison_write_is_dead_lettered_while_every_other_key_flushes()
    {
        const long poison = 3;
        await using var scenario = await CrashScenario.StartAsync(output, nameof(A_poison_write_is_dead_lettered_while_every_other_key_flushes), EverySecond,
            new Dictionary<string, string> { ["poison-id"] = "3", ["max-attempts"] = "3", ["retry-base-ms"] = "20", ["retry-max-ms"] = "50" });
        scenario.StartFlusher();
        using var stop = new CancellationTokenSource();
        var writers = scenario.RunWritersAsync(keys: 20, writers: 2, stop.Token);
        await Task.Delay(3000);
        await stop.CancelAsync();
        await writers;
        await scenario.WaitForDrainAsync(DrainTimeout);
        await scenario.VerifyAsync(poisonId: poison);
    }
}
