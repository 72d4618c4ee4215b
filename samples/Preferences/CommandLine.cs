using System.Globalization;

namespace Preferences;

/// <summary>A command-line mistake: the message says what was wrong and how to fix it.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>The parsed command line. Connection settings fall back to CACHINGGEN_REDIS / CACHINGGEN_MYSQL.</summary>
internal sealed record CommandLine(
    string Command,
    string? Redis,
    string? MySql,
    string? RedisSource,
    string? MySqlSource,
    string? Table,
    int Rows,
    int Workers,
    int Batch,
    int Seed,
    int Repeat,
    string? Markdown,
    IReadOnlyList<string> Arguments)
{
    public const string RedisVariable = "CACHINGGEN_REDIS";
    public const string MySqlVariable = "CACHINGGEN_MYSQL";

    public const string Usage = """
        usage: Preferences [demo|replay] [options]

          demo     (default) a few operations of every strategy, with the cache and database state after each
          replay   the article's bulk migration: the same updates with write-through, write-around,
                   pure write-around and plain database writes; throughput, ratios and cache traffic

        connection (default: environment, else the embedded in-memory cache + SQLite):
          --redis <configuration>   StackExchange.Redis configuration, e.g. 127.0.0.1:6379   (env CACHINGGEN_REDIS)
          --mysql <connection>      MySqlConnector connection string with Database=...      (env CACHINGGEN_MYSQL)
          --embedded                ignore the environment: in-memory cache and embedded SQLite
          --table <name>            table to use (default: preferences for demo, preferences_replay for replay)

        replay:
          --rows <n>        preference updates to replay (default 100000)
          --workers <n>     concurrent workers (default 16)
          --batch <n>       rows per SaveManyAsync call in the batched phase (default 500)
          --seed <n>        seed of the generated rows (default 20261126)
          --repeat <n>      runs of every mode, interleaved; the report shows the median (default 3)
          --markdown <file> also write the results as a markdown section to <file>
        """;

    public static CommandLine Parse(IReadOnlyList<string> args)
    {
        var command = "demo";
        string? redis = null, mysql = null, redisSource = null, mysqlSource = null, table = null, markdown = null;
        var embedded = false;
        int rows = 100_000, workers = 16, batch = 500, seed = 20261126, repeat = 3;
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            switch (arg)
            {
                case "demo" or "replay" when i == 0:
                    command = arg;
                    break;
                case "--redis":
                    redis = Value(args, ref i);
                    redisSource = "--redis";
                    break;
                case "--mysql":
                    mysql = Value(args, ref i);
                    mysqlSource = "--mysql";
                    break;
                case "--embedded":
                    embedded = true;
                    break;
                case "--table":
                    table = Value(args, ref i);
                    break;
                case "--rows":
                    rows = Number(args, ref i, 1);
                    break;
                case "--workers":
                    workers = Number(args, ref i, 1);
                    break;
                case "--batch":
                    batch = Number(args, ref i, 1);
                    break;
                case "--seed":
                    seed = Number(args, ref i, 0);
                    break;
                case "--repeat":
                    repeat = Number(args, ref i, 1);
                    break;
                case "--markdown":
                    markdown = Value(args, ref i);
                    break;
                case "-h" or "--help":
                    throw new UsageException("");
                default:
                    throw new UsageException($"unknown argument '{arg}'" + (i == 0 ? " (commands are demo and replay)" : ""));
            }
        }

        if (embedded && (redis is not null || mysql is not null))
        {
            throw new UsageException("--embedded cannot be combined with --redis or --mysql");
        }

        if (!embedded)
        {
            if (redis is null && Environment.GetEnvironmentVariable(RedisVariable) is { Length: > 0 } envRedis)
            {
                redis = envRedis;
                redisSource = RedisVariable;
            }

            if (mysql is null && Environment.GetEnvironmentVariable(MySqlVariable) is { Length: > 0 } envMySql)
            {
                mysql = envMySql;
                mysqlSource = MySqlVariable;
            }
        }

        return new CommandLine(command, redis, mysql, redisSource, mysqlSource, table, rows, workers, batch, seed, repeat, markdown, args.ToArray());
    }

    private static string Value(IReadOnlyList<string> args, ref int i)
    {
        var name = args[i];
        if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
        {
            throw new UsageException($"{name} needs a value");
        }

        return args[++i];
    }

    private static int Number(IReadOnlyList<string> args, ref int i, int minimum)
    {
        var name = args[i];
        var text = Value(args, ref i);
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < minimum)
        {
            throw new UsageException($"{name} must be a whole number of at least {minimum}, not '{text}'");
        }

        return value;
    }
}
