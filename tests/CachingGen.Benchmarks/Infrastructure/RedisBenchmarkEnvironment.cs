using StackExchange.Redis;

namespace CachingGen.Benchmarks.Infrastructure;

/// <summary>
/// Where the real Redis is: env CACHINGGEN_REDIS (host:port), as for the integration tests (scripts/services.sh env).
/// Benchmarks that need it are left out, with a message saying so, when it is not set; under CI that is an error.
/// </summary>
public static class RedisBenchmarkEnvironment
{
    public const string Variable = "CACHINGGEN_REDIS";

    public static string? Configuration
        => Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } value && !string.IsNullOrWhiteSpace(value) ? value : null;

    public static bool IsAvailable => Configuration is not null;

    public static string MissingMessage
        => $"{Variable} is not set: the Redis benchmarks need a real Redis. Start one with `bash scripts/services.sh start-redis` " +
           "and `eval \"$(bash scripts/services.sh env)\"`, or run through scripts/test.sh.";

    /// <summary>A new connection. Each contender gets its own (as each application would have one), so no contender
    /// sees another's traffic and each may dispose its own, as RedisCache does.</summary>
    public static ConnectionMultiplexer Connect()
    {
        var options = ConfigurationOptions.Parse(Configuration ?? throw new InvalidOperationException(MissingMessage));
        options.AbortOnConnectFail = false;
        options.ConnectTimeout = 5000;
        options.SyncTimeout = 10000;
        options.AsyncTimeout = 10000;
        return ConnectionMultiplexer.Connect(options);
    }

    /// <summary>The version the server reports.</summary>
    public static string ServerVersion()
    {
        using var connection = Connect();
        return connection.GetServer(connection.GetEndPoints()[0]).Version.ToString();
    }

    /// <summary>A key prefix no earlier run used, so each run starts from an empty key space.</summary>
    public static string RunPrefix { get; } = "cgbench:" + Guid.NewGuid().ToString("N")[..8] + ":";

    /// <summary>Deletes every key of this run (<see cref="RunPrefix"/>). A read-miss case fills a key per read, with a
    /// 10 s TTL; left in place, they expire during the cases that follow, and Redis's expiry cycle (up to a quarter of
    /// its time) slows whichever contender is measured next. Returns the number of keys deleted.</summary>
    public static long DeleteRunKeys()
    {
        using var connection = Connect();
        var database = connection.GetDatabase();
        var pending = new List<Task<bool>>();
        foreach (var endpoint in connection.GetEndPoints())
        {
            var server = connection.GetServer(endpoint);
            if (server.IsReplica)
            {
                continue;
            }

            // One DEL per key, pipelined: a multi-key DEL would fail across the slots of a cluster.
            foreach (var key in server.Keys(pattern: RunPrefix + "*", pageSize: 1000))
            {
                pending.Add(database.KeyDeleteAsync(key, CommandFlags.DemandMaster));
            }
        }

        Task.WaitAll(pending.ToArray());
        return pending.Count(task => task.Result);
    }
}
