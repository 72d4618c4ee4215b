using Microsoft.Data.Sqlite;

namespace Quickstart;

/// <summary>
/// The "inner" repository: plain ADO.NET over SQLite, knowing nothing of caching. It counts its database calls so
/// the quickstart can show what each strategy costs.
/// </summary>
/// <remarks>
/// Plain ADO.NET rather than Dapper (which the production stack uses with MySqlConnector) because Dapper builds its
/// mappers with Reflection.Emit, which Native AOT cannot run: this sample also publishes with <c>PublishAot=true</c>
/// (scripts/aot.sh). The decorator does not care how the inner repository talks to its database.
/// </remarks>
public sealed class SqlitePreferenceRepository(SqliteDatabase database) : IPreferenceRepository
{
    // The version check keeps an older write from overwriting a newer one, whatever order they arrive in.
    private const string Upsert =
        "INSERT INTO preferences (user_id, channel, enabled, version) VALUES ($userId, $channel, $enabled, $version) " +
        "ON CONFLICT(user_id) DO UPDATE SET channel = excluded.channel, enabled = excluded.enabled, version = excluded.version " +
        "WHERE excluded.version >= preferences.version";

    public async ValueTask<Preference?> GetAsync(long userId, CancellationToken ct = default)
    {
        database.CountRead();
        await using var connection = await database.OpenAsync(ct);
        return await SqliteDatabase.ReadAsync(connection, userId, ct);
    }

    public async Task SaveAsync(Preference preference, CancellationToken ct = default)
    {
        database.CountWrite(1);
        await using var connection = await database.OpenAsync(ct);
        await using var command = UpsertCommand(connection, null);
        Bind(command, preference);
        await command.ExecuteNonQueryAsync(ct);
    }

    public async Task SaveManyAsync(IReadOnlyList<Preference> preferences, CancellationToken ct = default)
    {
        database.CountWrite(preferences.Count);
        await using var connection = await database.OpenAsync(ct);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(ct);
        await using var command = UpsertCommand(connection, transaction);
        foreach (var preference in preferences)
        {
            Bind(command, preference);
            await command.ExecuteNonQueryAsync(ct);
        }

        await transaction.CommitAsync(ct);
    }

    public Task UpdateAsync(Preference preference, CancellationToken ct = default) => SaveAsync(preference, ct);

    public async Task DeleteAsync(long userId, CancellationToken ct = default)
    {
        database.CountWrite(1);
        await using var connection = await database.OpenAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM preferences WHERE user_id = $userId";
        command.Parameters.AddWithValue("$userId", userId);
        await command.ExecuteNonQueryAsync(ct);
    }

    public async Task<int> CountAsync(CancellationToken ct = default)
    {
        database.CountRead();
        await using var connection = await database.OpenAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM preferences";
        return Convert.ToInt32(await command.ExecuteScalarAsync(ct), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static SqliteCommand UpsertCommand(SqliteConnection connection, SqliteTransaction? transaction)
    {
        var command = connection.CreateCommand();
        command.CommandText = Upsert;
        command.Transaction = transaction;
        command.Parameters.Add("$userId", SqliteType.Integer);
        command.Parameters.Add("$channel", SqliteType.Text);
        command.Parameters.Add("$enabled", SqliteType.Integer);
        command.Parameters.Add("$version", SqliteType.Integer);
        return command;
    }

    private static void Bind(SqliteCommand command, Preference preference)
    {
        command.Parameters["$userId"].Value = preference.UserId;
        command.Parameters["$channel"].Value = preference.Channel;
        command.Parameters["$enabled"].Value = preference.Enabled ? 1L : 0L;
        command.Parameters["$version"].Value = preference.Version;
    }
}

/// <summary>An in-memory SQLite database shared by every connection of this process, with call counters.</summary>
public sealed class SqliteDatabase : IAsyncDisposable
{
    private readonly string _connectionString = $"Data Source=quickstart-{Guid.NewGuid():N};Mode=Memory;Cache=Shared";
    private readonly SqliteConnection _keepAlive;
    private long _reads;
    private long _writes;

    public SqliteDatabase()
    {
        // A shared in-memory database lives as long as one connection to it stays open.
        _keepAlive = new SqliteConnection(_connectionString);
        _keepAlive.Open();
        using var create = _keepAlive.CreateCommand();
        create.CommandText = "CREATE TABLE preferences (user_id INTEGER PRIMARY KEY, channel TEXT NOT NULL, enabled INTEGER NOT NULL, version INTEGER NOT NULL)";
        create.ExecuteNonQuery();
    }

    public long Reads => Interlocked.Read(ref _reads);

    public long Writes => Interlocked.Read(ref _writes);

    public void CountRead() => Interlocked.Increment(ref _reads);

    public void CountWrite(int rows) => Interlocked.Add(ref _writes, rows);

    public async Task<SqliteConnection> OpenAsync(CancellationToken ct)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(ct);
        return connection;
    }

    /// <summary>Reads a row without counting it (what the quickstart shows as "the database has").</summary>
    public async Task<Preference?> ReadDirectAsync(long userId)
    {
        await using var connection = await OpenAsync(CancellationToken.None);
        return await ReadAsync(connection, userId, CancellationToken.None);
    }

    internal static async Task<Preference?> ReadAsync(SqliteConnection connection, long userId, CancellationToken ct)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT user_id, channel, enabled, version FROM preferences WHERE user_id = $userId";
        command.Parameters.AddWithValue("$userId", userId);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct)
            ? new Preference(reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2) != 0, reader.GetInt64(3))
            : null;
    }

    public ValueTask DisposeAsync() => _keepAlive.DisposeAsync();
}
