using System.Data.Common;
using Dapper;
using Microsoft.Data.Sqlite;

namespace Preferences;

/// <summary>The embedded default: the preferences table in a private SQLite file (write-ahead log), deleted on dispose.</summary>
public sealed class SqlitePreferenceDatabase : PreferenceDatabase
{
    private readonly string _path;
    private readonly string _connectionString;

    public SqlitePreferenceDatabase(string table)
        : base(table)
    {
        _path = Path.Combine(Path.GetTempPath(), $"cachinggen-preferences-{Guid.NewGuid():N}.db");
        // Default Timeout: concurrent writers wait for SQLite's single write lock instead of failing at once.
        _connectionString = new SqliteConnectionStringBuilder { DataSource = _path, Pooling = true, DefaultTimeout = 60 }.ToString();
        using var connection = new SqliteConnection(_connectionString);
        connection.Open();
        connection.Execute("PRAGMA journal_mode=WAL");
    }

    public override string Description => $"embedded SQLite ({_path}), table {Table}";

    protected override string QuotedTable => "\"" + Table + "\"";

    protected override string CreateTableSql =>
        $"CREATE TABLE IF NOT EXISTS {QuotedTable} (" +
        "user_id INTEGER NOT NULL PRIMARY KEY, " +
        $"channel TEXT NOT NULL CHECK (length(channel) <= {MaxChannelLength}), " +
        "enabled INTEGER NOT NULL, " +
        "version INTEGER NOT NULL)";

    protected override string UpsertConflictClause =>
        "ON CONFLICT(user_id) DO UPDATE SET channel = excluded.channel, enabled = excluded.enabled, version = excluded.version " +
        $"WHERE excluded.version >= {QuotedTable}.version";

    public override async ValueTask<DbConnection> OpenAsync(CancellationToken ct)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(ct).ConfigureAwait(false);
        // Per connection: with a write-ahead log, NORMAL syncs at checkpoints instead of every commit and still
        // survives an application crash (the usual setting for WAL).
        await connection.ExecuteAsync(new CommandDefinition("PRAGMA synchronous=NORMAL", cancellationToken: ct)).ConfigureAwait(false);
        return connection;
    }

    public override Task<string> GetServerVersionAsync(CancellationToken ct) => Task.FromResult("SQLite " + SqliteVersion());

    public override ValueTask DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            try
            {
                File.Delete(_path + suffix);
            }
            catch (IOException)
            {
                // A leftover temporary file is harmless.
            }
        }

        return ValueTask.CompletedTask;
    }

    private string SqliteVersion()
    {
        using var connection = new SqliteConnection(_connectionString);
        connection.Open();
        return connection.ServerVersion;
    }
}
