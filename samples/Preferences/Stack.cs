using System.Globalization;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;

namespace Preferences;

/// <summary>
/// The servers a command runs on: the database (MySQL/MariaDB or embedded SQLite) and the cache (Redis or in memory),
/// plus a separate Redis connection for looking at the cache from outside (TTLs, INFO counters, clearing the
/// sample's namespace), as an operator would with redis-cli.
/// </summary>
internal sealed class Stack : IAsyncDisposable
{
    private Stack(CommandLine commandLine, PreferenceDatabase database, ConnectionMultiplexer? inspection, string keyNamespace)
    {
        CommandLine = commandLine;
        Database = database;
        Inspection = inspection;
        KeyNamespace = keyNamespace;
    }

    public CommandLine CommandLine { get; }

    public PreferenceDatabase Database { get; }

    /// <summary>The outside view of Redis; null on the in-memory cache.</summary>
    public ConnectionMultiplexer? Inspection { get; }

    /// <summary>The Redis key namespace of this command (its keys are <c>{namespace}pref:{userId}</c>).</summary>
    public string KeyNamespace { get; }

    public bool UsesRedis => CommandLine.Redis is not null;

    /// <summary>The first output line: which servers, and where their settings came from.</summary>
    public string Description
    {
        get
        {
            var cache = CommandLine.Redis is { } redis
                ? $"Redis {PreferencesHost.DescribeRedis(redis)} (from {CommandLine.RedisSource}, key namespace '{KeyNamespace}')"
                : "in-memory cache (embedded default)";
            var database = CommandLine.MySql is not null
                ? $"{Database.Description} (from {CommandLine.MySqlSource})"
                : $"{Database.Description} (embedded default)";
            var hint = CommandLine.Redis is null && CommandLine.MySql is null
                ? $"; set {CommandLine.RedisVariable} / {CommandLine.MySqlVariable} or pass --redis / --mysql for the real stack"
                : "";
            return $"Preferences on {cache} + {database}{hint}";
        }
    }

    public static async Task<Stack> OpenAsync(CommandLine commandLine, string defaultTable, string keyNamespace)
    {
        var table = commandLine.Table ?? defaultTable;
        PreferenceDatabase database = commandLine.MySql is { } mysql ? new MySqlPreferenceDatabase(mysql, table) : new SqlitePreferenceDatabase(table);
        ConnectionMultiplexer? inspection = null;
        if (commandLine.Redis is { } redis)
        {
            var options = ConfigurationOptions.Parse(redis);
            options.AbortOnConnectFail = true;
            options.AllowAdmin = true; // INFO is an admin command for StackExchange.Redis.
            try
            {
                inspection = await ConnectionMultiplexer.ConnectAsync(options).ConfigureAwait(false);
            }
            catch (RedisConnectionException exception)
            {
                await database.DisposeAsync().ConfigureAwait(false);
                throw new UsageException($"cannot connect to Redis at {PreferencesHost.DescribeRedis(redis)} (from {commandLine.RedisSource}): {exception.Message}");
            }
        }

        return new Stack(commandLine, database, inspection, keyNamespace);
    }

    /// <summary>The Redis operation timeout of the demo and the replay. Neither may turn one slow cache step on a loaded
    /// machine into a pending invalidation (the demo would then print the state of an outage, the replay measure one);
    /// the default (250 ms) stays the right setting for a service, where a slow cache should fail fast.</summary>
    public static readonly TimeSpan CommandRedisTimeout = TimeSpan.FromSeconds(5);

    /// <summary>A host with the cached repository over this stack's database and cache.</summary>
    public IHost BuildHost(TimeSpan? redisOperationTimeout = null)
        => PreferencesHost.Build(Database, CommandLine.Redis, options =>
        {
            options.KeyNamespace = KeyNamespace;
            if (redisOperationTimeout is { } timeout)
            {
                options.OperationTimeout = timeout;
            }
        });

    /// <summary>Deletes every Redis key of this command's namespace (nothing to do in memory: each host has its own store).</summary>
    public async Task ClearCacheAsync()
    {
        if (Inspection is null)
        {
            return;
        }

        var database = Inspection.GetDatabase();
        foreach (var server in PrimaryServers())
        {
            var batch = new List<RedisKey>(1000);
            await foreach (var key in server.KeysAsync(pattern: KeyNamespace + "*", pageSize: 1000).ConfigureAwait(false))
            {
                batch.Add(key);
                if (batch.Count == 1000)
                {
                    await database.KeyDeleteAsync(batch.ToArray()).ConfigureAwait(false);
                    batch.Clear();
                }
            }

            if (batch.Count > 0)
            {
                await database.KeyDeleteAsync(batch.ToArray()).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Redis' own counters, summed over the primaries: commands processed, and calls per command.</summary>
    public async Task<RedisCounters> ReadRedisCountersAsync()
    {
        var calls = new Dictionary<string, long>(StringComparer.Ordinal);
        long total = 0;
        var cpu = 0.0;
        foreach (var server in PrimaryServers())
        {
            foreach (var group in await server.InfoAsync("cpu").ConfigureAwait(false))
            {
                foreach (var pair in group)
                {
                    // used_cpu_sys and used_cpu_user: seconds of CPU the server has used (its main and I/O threads).
                    if (pair.Key is "used_cpu_sys" or "used_cpu_user")
                    {
                        cpu += double.Parse(pair.Value, CultureInfo.InvariantCulture);
                    }
                }
            }

            foreach (var group in await server.InfoAsync("stats").ConfigureAwait(false))
            {
                foreach (var pair in group)
                {
                    if (pair.Key == "total_commands_processed")
                    {
                        total += long.Parse(pair.Value, CultureInfo.InvariantCulture);
                    }
                }
            }

            foreach (var group in await server.InfoAsync("commandstats").ConfigureAwait(false))
            {
                foreach (var pair in group)
                {
                    // cmdstat_set: calls=12,usec=34,usec_per_call=2.83,rejected_calls=0,failed_calls=0
                    if (!pair.Key.StartsWith("cmdstat_", StringComparison.Ordinal))
                    {
                        continue;
                    }

                    var fields = pair.Value.Split(',');
                    var first = fields[0];
                    if (first.StartsWith("calls=", StringComparison.Ordinal))
                    {
                        var command = pair.Key["cmdstat_".Length..];
                        calls[command] = calls.GetValueOrDefault(command) + long.Parse(first["calls=".Length..], CultureInfo.InvariantCulture);
                    }
                }
            }
        }

        return new RedisCounters(total, calls, cpu);
    }

    /// <summary>The server's version text, e.g. <c>7.0.15</c>.</summary>
    public string? RedisServerVersion() => Inspection is null ? null : string.Join(", ", PrimaryServers().Select(server => server.Version.ToString()).Distinct());

    public async ValueTask DisposeAsync()
    {
        if (Inspection is not null)
        {
            await Inspection.DisposeAsync().ConfigureAwait(false);
        }

        await Database.DisposeAsync().ConfigureAwait(false);
    }

    private IEnumerable<IServer> PrimaryServers() => Inspection!.GetServers().Where(server => !server.IsReplica);
}

/// <summary>A snapshot of Redis' counters (INFO stats and commandstats).</summary>
internal sealed record RedisCounters(long CommandsProcessed, IReadOnlyDictionary<string, long> Calls, double CpuSeconds)
{
    /// <summary>The commands the cache can have caused (not the INFO, PING... of monitoring and connections). Redis also
    /// counts the commands a script runs (the fill script's GETRANGE and SET) under their own names.</summary>
    public static readonly string[] DataCommands = ["get", "set", "setex", "psetex", "evalsha", "eval", "getrange", "pexpire", "del", "unlink", "exists"];

    public RedisCounters Minus(RedisCounters earlier)
        => new(CommandsProcessed - earlier.CommandsProcessed,
            Calls.ToDictionary(pair => pair.Key, pair => pair.Value - earlier.Calls.GetValueOrDefault(pair.Key), StringComparer.Ordinal),
            CpuSeconds - earlier.CpuSeconds);

    /// <summary>Calls of the data commands.</summary>
    public long DataCalls => DataCommands.Sum(command => Calls.GetValueOrDefault(command));

    /// <summary>E.g. <c>set 500, get 12</c> (data commands with calls only), or <c>none</c>.</summary>
    public string DescribeDataCalls()
    {
        var parts = DataCommands.Where(command => Calls.GetValueOrDefault(command) > 0)
            .Select(command => string.Create(CultureInfo.InvariantCulture, $"{command} {Calls[command]:N0}")).ToArray();
        return parts.Length == 0 ? "none" : string.Join(", ", parts);
    }
}
