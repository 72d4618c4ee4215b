using Dapper;
using Microsoft.Data.Sqlite;

namespace Quickstart;

/// <summary>
/// The "inner" repository: plain Dapper over SQLite, knowing nothing of caching. It counts its database calls so
/// the quickstart can show what each strategy costs.
/// </summary>
public sealed class SqlitePreferenceRepository(SqliteDatabase database) : IPreferenceRepository
{
    public async ValueTask<Preference?> GetAsync(long userId, CancellationToken ct = default)
    {
        database.CountRead();
        await using var connection = await database.OpenAsync(ct);
        var row = await connection.QuerySingleOrDefaultAsync<PreferenceRow>(new CommandDefinition(
            "SELECT user_id AS UserId, channel AS Channel, enabled AS Enabled, version AS Version FROM preferences WHERE user_id = @userId",
            new { userId }, cancellationToken: ct));
        return row?.ToPreference();
    }

    public async Task SaveAsync(Preference preference, CancellationToken ct = default)
    {
        database.CountWrite(1);
        await using var connection = await database.OpenAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(Upsert, preference, cancellationToken: ct));
    }

    public async Task SaveManyAsync(IReadOnlyList<Preference> preferences, CancellationToken ct = default)
    {
        database.CountWrite(preferences.Count);
        await using var connection = await database.OpenAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(Upsert, preferences, transaction, cancellationToken: ct));
        await transaction.CommitAsync(ct);
    }

    public Task UpdateAsync(Preference preference, CancellationToken ct = default) => SaveAsync(preference, ct);

    public async Task DeleteAsync(long userId, CancellationToken ct = default)
    {
        database.CountWrite(1);
        await using var connection = await database.OpenAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition("DELETE FROM preferences WHERE user_id = @userId", new { userId }, cancellationToken: ct));
    }

    public async Task<int> CountAsync(CancellationToken ct = default)
    {
        database.CountRead();
        await using var connection = await database.OpenAsync(ct);
        return await connection.ExecuteScalarAsync<int>(new CommandDefinition("SELECT COUNT(*) FROM preferences", cancellationToken: ct));
    }

    // The version check keeps an older write from overwriting a newer one, whatever order they arrive in.
    private const string Upsert =
        "INSERT INTO preferences (user_id, channel, enabled, version) VALUES (@UserId, @Channel, @Enabled, @Version) " +
        "ON CONFLICT(user_id) DO UPDATE SET channel = excluded.channel, enabled = excluded.enabled, version = excluded.version " +
        "WHERE excluded.version >= preferences.version";

    private sealed class PreferenceRow
    {
        public long UserId { get; set; }

        public string Channel { get; set; } = string.Empty;

        public long Enabled { get; set; }

        public long Version { get; set; }

        public Preference ToPreference() => new(UserId, Channel, Enabled != 0, Version);
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
        _keepAlive.Execute("CREATE TABLE preferences (user_id INTEGER PRIMARY KEY, channel TEXT NOT NULL, enabled INTEGER NOT NULL, version INTEGER NOT NULL)");
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

    public async Task<Preference?> ReadDirectAsync(long userId)
    {
        await using var connection = await OpenAsync(CancellationToken.None);
        var row = await connection.QuerySingleOrDefaultAsync<(long UserId, string Channel, long Enabled, long Version)?>(
            "SELECT user_id, channel, enabled, version FROM preferences WHERE user_id = @userId", new { userId });
        return row is { } r ? new Preference(r.UserId, r.Channel, r.Enabled != 0, r.Version) : null;
    }

    public ValueTask DisposeAsync() => _keepAlive.DisposeAsync();
}
