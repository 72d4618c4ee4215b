namespace CachingGen.Redis.Tests.Consistency;

/// <summary>Where the real MariaDB of the integration tests is: env CACHINGGEN_MYSQL (a MySqlConnector connection
/// string), set by scripts/test.sh or by <c>eval "$(scripts/services.sh env)"</c>.</summary>
internal static class MySqlTestEnvironment
{
    public const string MySqlVariable = "CACHINGGEN_MYSQL";

    public static string? ConnectionString
        => string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(MySqlVariable)) ? null : Environment.GetEnvironmentVariable(MySqlVariable);

    public static string RequireConnectionString()
        => ConnectionString ?? throw new InvalidOperationException(
            $"{MySqlVariable} is not set, but CI is: the consistency tests must run against a real MariaDB in CI. " +
            "Run them through scripts/test.sh or export the variables of `scripts/services.sh env`.");
}

/// <summary>A test that needs the real Redis and the real MariaDB: skipped when CACHINGGEN_REDIS or CACHINGGEN_MYSQL is
/// missing on a developer machine, run (and so failing with a clear message) when one is missing in CI.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class RedisAndMySqlFactAttribute : FactAttribute
{
    /// <summary>Decides, when xunit discovers the test, whether it is skipped.</summary>
    public RedisAndMySqlFactAttribute()
    {
        if ((RedisTestEnvironment.Configuration is null || MySqlTestEnvironment.ConnectionString is null) && !RedisTestEnvironment.IsCI)
        {
            Skip = $"{RedisTestEnvironment.RedisVariable} or {MySqlTestEnvironment.MySqlVariable} is not set (run scripts/test.sh, or `scripts/services.sh start` and eval \"$(scripts/services.sh env)\")";
        }
    }
}
