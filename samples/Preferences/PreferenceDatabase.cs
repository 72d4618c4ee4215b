using System.Collections.Concurrent;
using System.Data.Common;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Dapper;

namespace Preferences;

/// <summary>
/// The preferences table of one database engine: connections, the table's DDL and the engine's upsert. The inner
/// repository (<see cref="DapperPreferenceRepository"/>) is written once against this; MySQL/MariaDB is the real
/// stack, SQLite the embedded default.
/// </summary>
/// <remarks>Every value goes to the server as a parameter. The table name is the one identifier in the SQL; it is
/// checked once, here, against a strict pattern and quoted.</remarks>
public abstract partial class PreferenceDatabase : IAsyncDisposable
{
    /// <summary>The longest channel the column holds; a longer one fails the write (strict SQL mode).</summary>
    public const int MaxChannelLength = 32;

    /// <summary>Rows per INSERT statement of a bulk upsert (4 parameters each).</summary>
    public const int RowsPerStatement = 500;

    private readonly ConcurrentDictionary<int, string> _upserts = new();
    private long _reads;
    private long _rowsWritten;

    protected PreferenceDatabase(string table)
    {
        ArgumentNullException.ThrowIfNull(table);
        if (!TableName().IsMatch(table))
        {
            throw new ArgumentException(
                $"'{table}' is not a usable table name: use 1 to 64 ASCII letters, digits and underscores, starting with a letter or underscore.",
                nameof(table));
        }

        Table = table;
    }

    /// <summary>The table's name.</summary>
    public string Table { get; }

    /// <summary>The engine, where it is and which table, without credentials (for output).</summary>
    public abstract string Description { get; }

    /// <summary>Rows read by the repository since start.</summary>
    public long Reads => Interlocked.Read(ref _reads);

    /// <summary>Rows written (upserted or deleted) by the repository since start.</summary>
    public long RowsWritten => Interlocked.Read(ref _rowsWritten);

    /// <summary>Opens a pooled connection.</summary>
    public abstract ValueTask<DbConnection> OpenAsync(CancellationToken ct);

    /// <summary>The server's version text (e.g. <c>11.4.5-MariaDB</c>).</summary>
    public abstract Task<string> GetServerVersionAsync(CancellationToken ct);

    /// <summary>CPU time the database server has used, when it runs as its own process on this machine and that can be
    /// read; null otherwise (an embedded database's time is the client process's own).</summary>
    public virtual Task<TimeSpan?> ReadServerCpuAsync(CancellationToken ct) => Task.FromResult<TimeSpan?>(null);

    /// <summary>Creates the table if it is missing.</summary>
    public async Task EnsureTableAsync(CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition(CreateTableSql, cancellationToken: ct)).ConfigureAwait(false);
    }

    /// <summary>Removes every row (the table stays).</summary>
    public async Task ResetAsync(CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition(DeleteAllSql, cancellationToken: ct)).ConfigureAwait(false);
    }

    /// <summary>Drops the table if it exists.</summary>
    public async Task DropTableAsync(CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct).ConfigureAwait(false);
        await connection.ExecuteAsync(new CommandDefinition($"DROP TABLE IF EXISTS {QuotedTable}", cancellationToken: ct)).ConfigureAwait(false);
    }

    /// <summary>Reads one row without counting it (for showing the database state next to the cache state).</summary>
    public async Task<Preference?> ReadDirectAsync(long userId, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct).ConfigureAwait(false);
        return await QueryOneAsync(connection, userId, ct).ConfigureAwait(false);
    }

    /// <summary>The number of rows, without counting it as a repository read.</summary>
    public async Task<long> CountDirectAsync(CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct).ConfigureAwait(false);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition($"SELECT COUNT(*) FROM {QuotedTable}", cancellationToken: ct)).ConfigureAwait(false);
    }

    /// <summary>The number of rows with user ids 1..<paramref name="lastUserId"/> at exactly <paramref name="version"/>.</summary>
    public async Task<long> CountAtVersionAsync(long lastUserId, long version, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct).ConfigureAwait(false);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            $"SELECT COUNT(*) FROM {QuotedTable} WHERE user_id BETWEEN 1 AND @lastUserId AND version = @version",
            new { lastUserId, version }, cancellationToken: ct)).ConfigureAwait(false);
    }

    public abstract ValueTask DisposeAsync();

    internal void CountRead() => Interlocked.Increment(ref _reads);

    internal void CountWritten(int rows) => Interlocked.Add(ref _rowsWritten, rows);

    internal async Task<Preference?> QueryOneAsync(DbConnection connection, long userId, CancellationToken ct)
    {
        var row = await connection.QuerySingleOrDefaultAsync<PreferenceRow>(new CommandDefinition(
            $"SELECT user_id AS UserId, channel AS Channel, enabled AS Enabled, version AS Version FROM {QuotedTable} WHERE user_id = @userId",
            new { userId }, cancellationToken: ct)).ConfigureAwait(false);
        return row?.ToPreference();
    }

    /// <summary>Upserts <paramref name="preferences"/> with multi-row statements of at most
    /// <see cref="RowsPerStatement"/> rows, in one transaction when there is more than one statement. A row only
    /// replaces one with a lower or equal version, whatever order concurrent writes arrive in.</summary>
    internal async Task UpsertAsync(DbConnection connection, IReadOnlyList<Preference> preferences, CancellationToken ct)
    {
        if (preferences.Count == 0)
        {
            return;
        }

        DbTransaction? transaction = preferences.Count > RowsPerStatement ? await connection.BeginTransactionAsync(ct).ConfigureAwait(false) : null;
        try
        {
            for (var start = 0; start < preferences.Count; start += RowsPerStatement)
            {
                var count = Math.Min(RowsPerStatement, preferences.Count - start);
                var parameters = new DynamicParameters();
                for (var i = 0; i < count; i++)
                {
                    var preference = preferences[start + i];
                    var index = i.ToString(CultureInfo.InvariantCulture);
                    parameters.Add("u" + index, preference.UserId);
                    parameters.Add("c" + index, preference.Channel);
                    parameters.Add("e" + index, preference.Enabled);
                    parameters.Add("v" + index, preference.Version);
                }

                await connection.ExecuteAsync(new CommandDefinition(UpsertSql(count), parameters, transaction, cancellationToken: ct)).ConfigureAwait(false);
            }

            if (transaction is not null)
            {
                await transaction.CommitAsync(ct).ConfigureAwait(false);
            }
        }
        finally
        {
            if (transaction is not null)
            {
                await transaction.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    internal async Task DeleteAsync(DbConnection connection, IReadOnlyList<long> userIds, CancellationToken ct)
    {
        if (userIds.Count == 0)
        {
            return;
        }

        // Dapper expands the list into one parameter per id: IN (@userIds1, @userIds2, ...).
        await connection.ExecuteAsync(new CommandDefinition(
            $"DELETE FROM {QuotedTable} WHERE user_id IN @userIds", new { userIds }, cancellationToken: ct)).ConfigureAwait(false);
    }

    /// <summary>The table name quoted for this engine.</summary>
    protected abstract string QuotedTable { get; }

    protected abstract string CreateTableSql { get; }

    protected virtual string DeleteAllSql => $"DELETE FROM {QuotedTable}";

    /// <summary>What follows the VALUES list of the upsert: the engine's "on conflict, keep the higher version".</summary>
    protected abstract string UpsertConflictClause { get; }

    private string UpsertSql(int rows) => _upserts.GetOrAdd(rows, static (count, self) =>
    {
        var sql = new StringBuilder($"INSERT INTO {self.QuotedTable} (user_id, channel, enabled, version) VALUES ");
        for (var i = 0; i < count; i++)
        {
            sql.Append(i == 0 ? "" : ", ").Append(CultureInfo.InvariantCulture, $"(@u{i}, @c{i}, @e{i}, @v{i})");
        }

        return sql.Append(' ').Append(self.UpsertConflictClause).ToString();
    }, this);

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,63}$")]
    private static partial Regex TableName();

    private sealed class PreferenceRow
    {
        public long UserId { get; set; }

        public string Channel { get; set; } = string.Empty;

        public bool Enabled { get; set; }

        public long Version { get; set; }

        public Preference ToPreference() => new(UserId, Channel, Enabled, Version);
    }
}
