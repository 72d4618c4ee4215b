using MySqlConnector;

namespace CachingGen.MySql.Tests;

/// <summary>Where the real MariaDB/MySQL of the tests is: env CACHINGGEN_MYSQL (a connection string), set by
/// scripts/test.sh or by <c>eval "$(scripts/services.sh env)"</c>.</summary>
internal static class MySqlTestEnvironment
{
    public const string Variable = "CACHINGGEN_MYSQL";

    public static string? ConnectionString => string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(Variable)) ? null : Environment.GetEnvironmentVariable(Variable);

    public static bool IsCI => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI"));

    public static string Require()
        => ConnectionString ?? throw new InvalidOperationException(
            $"{Variable} is not set, but CI is: the MySQL tests must run against a real server in CI. " +
            "Run them through scripts/test.sh or export the variables of `scripts/services.sh env`.");

    public static async Task<MySqlConnection> OpenAsync()
    {
        var connection = new MySqlConnection(Require());
        await connection.OpenAsync();
        return connection;
    }

    /// <summary>A table name no other test uses.</summary>
    public static string UniqueTable(string stem) => $"{stem}_{Guid.NewGuid():N}"[..Math.Min(60, stem.Length + 33)];
}

/// <summary>Needs the real MySQL: skipped when CACHINGGEN_MYSQL is missing on a developer machine, run (and failing
/// with a clear message) when it is missing in CI.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class MySqlFactAttribute : FactAttribute
{
    public MySqlFactAttribute()
    {
        if (MySqlTestEnvironment.ConnectionString is null && !MySqlTestEnvironment.IsCI)
        {
            Skip = $"{MySqlTestEnvironment.Variable} is not set (run scripts/test.sh, or `scripts/services.sh start` and eval \"$(scripts/services.sh env)\")";
        }
    }
}

/// <summary>Plays the flusher's part of making a batch's transaction ambient.</summary>
internal static class WriteBackTransactionTestAccess
{
    public static void SetCurrent(CachingGen.WriteBack.IWriteBackTransaction? transaction) => CachingGen.WriteBack.WriteBackTransaction.SetCurrent(transaction);
}
