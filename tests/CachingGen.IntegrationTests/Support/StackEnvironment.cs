using StackExchange.Redis;

namespace CachingGen.IntegrationTests.Support;

/// <summary>Where the real Redis and MariaDB are: CACHINGGEN_REDIS (host:port) and CACHINGGEN_MYSQL (a MySqlConnector
/// connection string), set by scripts/test.sh or by <c>eval "$(bash scripts/services.sh env)"</c>.</summary>
internal static class StackEnvironment
{
    public const string RedisVariable = "CACHINGGEN_REDIS";
    public const string MySqlVariable = "CACHINGGEN_MYSQL";

    private static readonly Lazy<ConnectionMultiplexer> SharedRedis = new(() =>
    {
        var options = ConfigurationOptions.Parse(RequireRedis());
        options.AbortOnConnectFail = false;
        options.ConnectTimeout = 5000;
        return ConnectionMultiplexer.Connect(options);
    });

    public static string? Redis => NullIfBlank(Environment.GetEnvironmentVariable(RedisVariable));

    public static string? MySql => NullIfBlank(Environment.GetEnvironmentVariable(MySqlVariable));

    public static bool IsCI => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI"));

    /// <summary>The tests' own view of Redis (reading keys as an operator would), shared by every test.</summary>
    public static IConnectionMultiplexer RedisConnection => SharedRedis.Value;

    public static string RequireRedis() => Redis ?? throw Missing(RedisVariable);

    public static string RequireMySql() => MySql ?? throw Missing(MySqlVariable);

    private static InvalidOperationException Missing(string variable) => new(
        $"{variable} is not set, but CI is: the integration tests must run against the real Redis and MariaDB in CI. " +
        "Run them through scripts/test.sh (it starts private servers) or export the variables of `bash scripts/services.sh env`.");

    private static string? NullIfBlank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}

/// <summary>A test that needs the real Redis AND the real MariaDB: skipped when CACHINGGEN_REDIS or CACHINGGEN_MYSQL is
/// missing on a developer machine, run (and so failing with a clear message) when one is missing in CI.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class StackFactAttribute : FactAttribute
{
    /// <summary>Decides, when xunit discovers the test, whether it is skipped.</summary>
    public StackFactAttribute()
    {
        if ((StackEnvironment.Redis is null || StackEnvironment.MySql is null) && !StackEnvironment.IsCI)
        {
            Skip = $"{StackEnvironment.RedisVariable} or {StackEnvironment.MySqlVariable} is not set (run scripts/test.sh, or `bash scripts/services.sh start` and eval \"$(bash scripts/services.sh env)\")";
        }
    }
}
