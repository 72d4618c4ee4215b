using System.Data.Common;
using Dapper;
using MySqlConnector;

namespace Preferences;

/// <summary>The preferences table on MySQL or MariaDB, through MySqlConnector's pooled data source.</summary>
public sealed class MySqlPreferenceDatabase : PreferenceDatabase
{
    private readonly MySqlDataSource _dataSource;
    private readonly string _description;

    /// <summary>The server's process id once looked up; -1 when it is not a process of this machine.</summary>
    private int? _serverPid;

    /// <summary>Connects with <paramref name="connectionString"/> (a MySqlConnector connection string naming the
    /// database) and uses <paramref name="table"/>.</summary>
    public MySqlPreferenceDatabase(string connectionString, string table)
        : base(table)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        MySqlConnectionStringBuilder builder;
        try
        {
            builder = new MySqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException exception)
        {
            throw new ArgumentException($"The MySQL connection string is malformed: {exception.Message}", nameof(connectionString), exception);
        }

        if (string.IsNullOrEmpty(builder.Database))
        {
            throw new ArgumentException("The MySQL connection string names no database: add 'Database=...'.", nameof(connectionString));
        }

        _dataSource = new MySqlDataSource(builder.ConnectionString);
        _description = $"MySQL/MariaDB at {builder.Server}:{builder.Port}, database {builder.Database}, table {table}";
    }

    public override string Description => _description;

    protected override string QuotedTable => "`" + Table + "`";

    protected override string CreateTableSql =>
        $"CREATE TABLE IF NOT EXISTS {QuotedTable} (" +
        "user_id BIGINT NOT NULL PRIMARY KEY, " +
        $"channel VARCHAR({MaxChannelLength}) NOT NULL, " +
        "enabled BOOLEAN NOT NULL, " +
        "version BIGINT NOT NULL" +
        ") ENGINE=InnoDB";

    // TRUNCATE is DDL (no undo log), so resetting a large table between replay runs costs nothing.
    protected override string DeleteAllSql => $"TRUNCATE TABLE {QuotedTable}";

    // Assignments run left to right: version must be the last one, after the others compared against the old version.
    protected override string UpsertConflictClause =>
        "ON DUPLICATE KEY UPDATE " +
        "channel = IF(VALUES(version) >= version, VALUES(channel), channel), " +
        "enabled = IF(VALUES(version) >= version, VALUES(enabled), enabled), " +
        "version = GREATEST(version, VALUES(version))";

    public override async ValueTask<DbConnection> OpenAsync(CancellationToken ct)
        => await _dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);

    public override async Task<string> GetServerVersionAsync(CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct).ConfigureAwait(false);
        return await connection.ExecuteScalarAsync<string>(new CommandDefinition("SELECT VERSION()", cancellationToken: ct)).ConfigureAwait(false) ?? "?";
    }

    /// <summary>Reads the server's pid file (<c>@@pid_file</c>), which exists here only when the server runs on this
    /// machine, and that process's CPU time.</summary>
    public override async Task<TimeSpan?> ReadServerCpuAsync(CancellationToken ct)
    {
        if (_serverPid is null)
        {
            await using var connection = await OpenAsync(ct).ConfigureAwait(false);
            var pidFile = await connection.ExecuteScalarAsync<string>(new CommandDefinition("SELECT @@pid_file", cancellationToken: ct)).ConfigureAwait(false);
            _serverPid = ProcessCpu.ReadPidFile(pidFile) ?? -1;
        }

        return _serverPid > 0 ? ProcessCpu.Read(_serverPid.Value) : null;
    }

    public override ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
