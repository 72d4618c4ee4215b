using System.Diagnostics;
using System.Text;
using CachingGen.Redis;
using CachingGen.Storage;
using CachingGen.TestSupport;
using CachingGen.WriteBack;
using StackExchange.Redis;

namespace CachingGen.Redis.Tests;

/// <summary>The atomic append (entry + stream + pending hash in one script) on a real three-primary Redis Cluster.</summary>
public sealed class RedisWriteBackClusterTests
{
    private const int Shards = 8;

    [RedisFact]
    public async Task Append_read_acknowledge_and_settle_work_on_a_Redis_Cluster_because_entries_and_streams_share_hash_tags()
    {
        await using var cluster = await Cluster.StartAsync("--appendonly", "yes");
        var connection = cluster.Connection;
        var store = new RedisCacheStore(connection, new RedisCacheOptions { WriteBackShardCount = Shards, OperationTimeout = TimeSpan.FromSeconds(10) });
        var log = new RedisWriteBackLog(connection, store, Shards, new RedisWriteBackOptions { RefuseUnsafeServer = false });

        var keys = Enumerable.Range(1, 40).Select(i => $"pref:{i}").ToArray();
        Assert.True(keys.Select(k => RedisCacheStore.GetHashSlot(store.GetRedisKey(k))).Distinct().Count() > 1);
        foreach (var key in keys)
        {
            await log.AppendAsync(new WriteBackRecord("R", "M", key, key + "@1", new byte[] { 1 }, DateTimeOffset.UtcNow) { TimeToLive = TimeSpan.FromMinutes(1) },
                new CacheEntry(key, Encoding.UTF8.GetBytes(key), null), default);
        }

        long read = 0;
        for (var shard = 0; shard < Shards; shard++)
        {
            var records = await log.ReadAsync(shard, 100, default);
            read += records.Count;
            Assert.All(records, r => Assert.Equal(shard, WriteBackSharding.ShardOf(r.Record.EntityKey, Shards)));
            await log.AcknowledgeAsync(shard, records, default);
            Assert.Equal(0, await log.GetBacklogAsync(shard, default));
        }

        Assert.Equal(keys.Length, read);
        foreach (var key in keys)
        {
            Assert.Equal(0, await log.GetPendingCountAsync(key, default));
            await log.SettleAsync(key, TimeSpan.FromMinutes(1), default);
            var lookup = await store.GetAsync(key, default);
            Assert.True(lookup.Found);
            Assert.Equal(key, Encoding.UTF8.GetString(lookup.Value.Span));
        }
    }

    [RedisFact]
    public async Task Write_steps_go_out_as_one_script_call_per_hash_slot_on_a_Redis_Cluster_and_each_key_gets_its_own_outcome()
    {
        await using var cluster = await Cluster.StartAsync();
        var connection = cluster.Connection;
        var counting = new CountingConnection(connection);
        var minute = TimeSpan.FromMinutes(1);

        // With write-back shards a key carries its shard's hash tag: 40 keys in 4 slots. Without, 40 keys in as many
        // slots as they hash to (one call each, unless two happen to share a slot).
        foreach (var shards in new[] { 4, 0 })
        {
            var store = new RedisCacheStore(counting.Connection, new RedisCacheOptions { WriteBackShardCount = shards, KeyNamespace = $"s{shards}:", OperationTimeout = TimeSpan.FromSeconds(10) });
            var keys = Enumerable.Range(1, 40).Select(i => $"pref:{i}").ToArray();
            var slots = keys.Select(k => RedisCacheStore.GetHashSlot(store.GetRedisKey(k))).Distinct().Count();
            Assert.True(shards == 0 ? slots > 20 : slots <= shards, $"{slots} slots");

            // The first round lets every node learn the scripts (a NOSCRIPT answer is retried with the source);
            // the second is counted.
            for (var round = 1; round <= 2; round++)
            {
                counting.Reset();
                var tokens = await store.BeginWritesAsync(keys, minute, default);
                if (round == 2)
                {
                    Assert.Equal(slots, Assert.Single(counting.Batches).Commands.Count);
                }

                Assert.Equal(keys.Length, tokens.Distinct().Count());
                var outcomes = await store.CompleteWritesAsync(keys.Select((k, i) => new WriteCompletion(k, tokens[i], Encoding.UTF8.GetBytes($"{k}#{round}"), minute, i % 5 != 0)).ToArray(), default);
                for (var i = 0; i < keys.Length; i++)
                {
                    var lookup = await store.GetAsync(keys[i], default);
                    if (i % 5 != 0)
                    {
                        Assert.Equal(WriteCompletionOutcome.Stored, outcomes[i]);
                        Assert.Equal($"{keys[i]}#{round}", Encoding.UTF8.GetString(lookup.Value.Span));
                    }
                    else
                    {
                        Assert.Equal(WriteCompletionOutcome.Invalidated, outcomes[i]);
                        Assert.False(lookup.Found);
                    }
                }

                counting.Reset();
                var pinned = await store.InvalidateUnlessPinnedAsync(keys, null, default);
                if (round == 2)
                {
                    Assert.Equal(slots, Assert.Single(counting.Batches).Commands.Count);
                }

                Assert.All(pinned, Assert.False);

                foreach (var key in keys)
                {
                    var lookup = await store.GetAsync(key, default);
                    Assert.False(lookup.Found);
                    Assert.NotEqual(0, lookup.FillToken);
                }
            }
        }
    }

    /// <summary>A three-primary Redis Cluster of private servers, and a connection to it.</summary>
    private sealed class Cluster : IAsyncDisposable
    {
        private readonly List<RedisServerProcess> _nodes;

        private Cluster(List<RedisServerProcess> nodes, ConnectionMultiplexer connection)
        {
            _nodes = nodes;
            Connection = connection;
        }

        public ConnectionMultiplexer Connection { get; }

        public static async Task<Cluster> StartAsync(params string[] serverArguments)
        {
            var nodes = Enumerable.Range(0, 3).Select(_ => RedisServerProcess.Start(["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", .. serverArguments])).ToList();
            try
            {
                CreateCluster(nodes);
                var configuration = new ConfigurationOptions { AbortOnConnectFail = false, ConnectTimeout = 5000 };
                foreach (var node in nodes)
                {
                    configuration.EndPoints.Add(node.Configuration);
                }

                return new Cluster(nodes, await ConnectionMultiplexer.ConnectAsync(configuration));
            }
            catch
            {
                nodes.ForEach(node => node.Dispose());
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            await Connection.DisposeAsync();
            _nodes.ForEach(node => node.Dispose());
        }
    }

    private static void CreateCluster(IReadOnlyList<RedisServerProcess> nodes)
    {
        var start = new ProcessStartInfo("redis-cli") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "--cluster", "create" }.Concat(nodes.Select(n => n.Configuration)).Concat(new[] { "--cluster-replicas", "0", "--cluster-yes" }))
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(60_000), "redis-cli --cluster create did not finish");
        Assert.True(process.ExitCode == 0, $"redis-cli --cluster create failed: {output.Result}{error.Result}");

        // Every node must agree before a client maps the slots (a node that has not heard of the others yet would
        // hand out a partial map).
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            var ready = nodes.All(node =>
            {
                using var probe = ConnectionMultiplexer.Connect(node.Configuration + ",allowAdmin=true");
                var info = probe.GetServers()[0].Execute("CLUSTER", "INFO").ToString();
                return info.Contains("cluster_state:ok", StringComparison.Ordinal) && info.Contains("cluster_known_nodes:3", StringComparison.Ordinal);
            });
            if (ready)
            {
                return;
            }

            Thread.Sleep(200);
        }

        Assert.Fail("the cluster did not reach cluster_state:ok within 30 s");
    }
}
