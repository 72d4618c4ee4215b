using System.Text;
using CachingGen.Redis;
using CachingGen.Storage;
using CachingGen.TestSupport;
using CachingGen.WriteBack;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;

namespace CachingGen.Redis.Tests;

public sealed class RedisWriteBackRegistrationAndReplicationTests
{
    [Fact]
    public void UseRedisWriteBackLog_without_UseRedis_names_the_fix()
    {
        var services = new ServiceCollection();
        var error = Assert.Throws<InvalidOperationException>(() => services.AddCachingGen().UseRedisWriteBackLog());
        Assert.Contains("call UseRedis(...) before UseRedisWriteBackLog", error.Message);
    }

    [RedisFact]
    public async Task Registration_tags_cache_keys_with_the_shard_count_and_checks_the_server_before_the_flusher_starts()
    {
        var services = new ServiceCollection();
        services.AddCachingGen(o => o.ShardCount = 8)
            .UseRedis(RedisTestEnvironment.RequireConfiguration(), o => o.KeyNamespace = RedisTestEnvironment.UniqueNamespace())
            .UseRedisWriteBackLog(o => o.RefuseUnsafeServer = false);
        await using var provider = services.BuildServiceProvider();

        Assert.IsType<RedisWriteBackLog>(provider.GetRequiredService<IWriteBackLog>());
        var store = provider.GetRequiredService<RedisCacheStore>();
        Assert.Contains($"{{cg-wb:{WriteBackSharding.ShardOf("pref:1", 8)}}}pref:1", store.GetRedisKey("pref:1"));
        var hosted = provider.GetServices<IHostedService>().ToList();
        Assert.Equal("RedisWriteBackStartup", hosted[0].GetType().Name);
        await hosted[0].StartAsync(default);
    }

    [RedisFact]
    public async Task A_Redis_that_does_not_answer_at_start_up_does_not_stop_the_application_and_the_log_works_once_it_answers()
    {
        using var server = RedisServerProcess.Start("--appendonly", "yes");
        server.Kill();
        var services = new ServiceCollection();
        services.AddCachingGen(o => o.ShardCount = 2)
            .UseRedis($"{server.Configuration},abortConnect=false,connectTimeout=500", o => o.OperationTimeout = TimeSpan.FromSeconds(1))
            .UseRedisWriteBackLog(o => o.OperationTimeout = TimeSpan.FromSeconds(1));
        await using var provider = services.BuildServiceProvider();
        var startup = provider.GetServices<IHostedService>().First();

        // A flusher process started during a Redis restart must keep running, not die in its host's start.
        await startup.StartAsync(default);

        server.Restart();
        var log = provider.GetRequiredService<RedisWriteBackLog>();
        var appended = false;
        for (var attempt = 0; attempt < 100 && !appended; attempt++)
        {
            try
            {
                await log.AppendAsync(new WriteBackRecord("R", "M", "pref:1", "pref:1@1", new byte[] { 1 }, DateTimeOffset.UtcNow), new CacheEntry("pref:1", Encoding.UTF8.GetBytes("v"), null), default);
                appended = true;
            }
            catch (CacheStoreUnavailableException)
            {
                await Task.Delay(100);
            }
        }

        Assert.True(appended, "the log did not work within 10 s of Redis answering");
        Assert.Equal(1, await log.GetBacklogAsync(WriteBackSharding.ShardOf("pref:1", 2), default));
    }

    [RedisFact]
    public async Task Replicated_durability_waits_for_the_replicas_and_fails_clearly_when_too_few_acknowledge()
    {
        using var primary = RedisServerProcess.Start("--appendonly", "yes");
        using var replica = RedisServerProcess.Start("--appendonly", "yes", "--replicaof", "127.0.0.1", primary.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var connection = await ConnectionMultiplexer.ConnectAsync(primary.Configuration);
        Assert.True(await RedisTestEnvironment.EventuallyAsync(
            async () => (await connection.GetDatabase().ExecuteAsync("INFO", "replication")).ToString().Contains("state=online", StringComparison.Ordinal),
            TimeSpan.FromSeconds(20)), "the replica did not connect");

        var store = new RedisCacheStore(connection, new RedisCacheOptions { WriteBackShardCount = 2 });
        var one = new RedisWriteBackLog(connection, store, 2, new RedisWriteBackOptions { Durability = WriteBackDurability.Replicated, ReplicaCount = 1, ReplicationTimeout = TimeSpan.FromSeconds(5) });
        await one.AppendAsync(Record(1), new CacheEntry("pref:1", Encoding.UTF8.GetBytes("v1"), null), default);
        using var replicaConnection = await ConnectionMultiplexer.ConnectAsync(replica.Configuration);
        Assert.Equal(1, (long)await replicaConnection.GetDatabase().HashGetAsync(store.KeyLayout.Pending(WriteBackSharding.ShardOf("pref:1", 2)), "pref:1"));

        var two = new RedisWriteBackLog(connection, store, 2, new RedisWriteBackOptions { Durability = WriteBackDurability.Replicated, ReplicaCount = 2, ReplicationTimeout = TimeSpan.FromMilliseconds(300) });
        var error = await Assert.ThrowsAsync<WriteBackDurabilityException>(async () => await two.AppendAsync(Record(2), new CacheEntry("pref:1", Encoding.UTF8.GetBytes("v2"), null), default));
        Assert.Contains("reached 1 of 2 replica(s)", error.Message);
        Assert.Contains("same idempotency key", error.Message);
    }

    private static WriteBackRecord Record(int version)
        => new("Sample.IPreferenceRepository", "UpdateAsync(Sample.Preference)", "pref:1", $"pref:1@{version}", new byte[] { 1, 2, 3 }, DateTimeOffset.UtcNow);
}
