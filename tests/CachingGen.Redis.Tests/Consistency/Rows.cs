using System.Collections.Concurrent;
using CachingGen.Runtime;
using CachingGen.Storage;
using Dapper;
using MessagePack;
using MessagePack.Formatters;
using MySqlConnector;

namespace CachingGen.Redis.Tests.Consistency;

/// <summary>The entity of the consistency tests: every written <see cref="Value"/> is unique. <see cref="Version"/> is
/// the row's version column, used as the [CacheVersion] member by <see cref="CachedRowRepository"/>'s versioned
/// variant (0 elsewhere).</summary>
public sealed record Row(long Id, string Value, long Version = 0);

/// <summary>An optimistic-concurrency failure: the row already holds this version or a newer one, nothing was written.</summary>
public sealed class StaleVersionException(long id, long version) : Exception($"row {id} already has version {version} or newer");

/// <summary>The repository the tests decorate by hand (what the generator would emit for it is thin: keys and calls).</summary>
public interface IRowRepository
{
    ValueTask<Row?> GetAsync(long id, CancellationToken cancellationToken);

    ValueTask SaveAsync(Row row, CancellationToken cancellationToken);
}

/// <summary>A hand-written MessagePack formatter and resolver for <see cref="Row"/> (no dynamic resolver).</summary>
internal sealed class RowFormatter : IMessagePackFormatter<Row?>, IFormatterResolver
{
    public static readonly RowFormatter Instance = new();

    public static readonly MessagePackSerializerOptions Options = MessagePackSerializerOptions.Standard.WithResolver(Instance);

    public IMessagePackFormatter<T>? GetFormatter<T>()
        => typeof(T) == typeof(Row) ? (IMessagePackFormatter<T>)(object)this : null;

    public void Serialize(ref MessagePackWriter writer, Row? value, MessagePackSerializerOptions options)
    {
        if (value is null)
        {
            writer.WriteNil();
            return;
        }

        writer.WriteArrayHeader(3);
        writer.Write(value.Id);
        writer.Write(value.Value);
        writer.Write(value.Version);
    }

    public Row? Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        if (reader.TryReadNil())
        {
            return null;
        }

        if (reader.ReadArrayHeader() != 3)
        {
            throw new MessagePackSerializationException("a Row has three fields");
        }

        var id = reader.ReadInt64();
        var value = reader.ReadString() ?? throw new MessagePackSerializationException("a Row value is never nil");
        return new Row(id, value, reader.ReadInt64());
    }
}

/// <summary>The caching decorator, written by hand the way the generator writes one: keys and calls, nothing else.
/// <see cref="Naive"/> swaps write-through for the textbook "write the database, then SET the cache" (test only: the
/// consistency checker must catch it).</summary>
internal sealed class CachedRowRepository : IRowRepository
{
    public static readonly RepositoryDescriptor Descriptor = new("CachingGen.Redis.Tests.IRowRepository", "row", RowFormatter.Options, HasWriteBack: false);
    public static readonly RepositoryDescriptor VersionedDescriptor = new("CachingGen.Redis.Tests.IVersionedRowRepository", "row", RowFormatter.Options, HasWriteBack: false);
    private static readonly ReadPolicy GetPolicy = new("GetAsync", TimeSpan.FromMinutes(10), null);
    private static readonly WriteThroughPolicy SavePolicy = new("SaveAsync", TimeSpan.FromMinutes(10));
    public static readonly WriteAroundPolicy MigratePolicy = new("MigrateAsync", TimeSpan.FromSeconds(30), Invalidate: true);

    private readonly IRowRepository _inner;
    private readonly CachingGenRuntime _runtime;
    private readonly EntityCache<Row> _cache;

    /// <param name="inner">The database repository.</param>
    /// <param name="runtime">The runtime.</param>
    /// <param name="versioned">Whether <see cref="Row.Version"/> is the entity's [CacheVersion] member (one-step,
    /// compare-and-set write-through) or the entity has none (write markers around the database write).</param>
    public CachedRowRepository(IRowRepository inner, CachingGenRuntime runtime, bool versioned = false)
    {
        _inner = inner;
        _runtime = runtime;
        _cache = versioned ? runtime.GetEntityCache<Row>(VersionedDescriptor, static row => row.Version) : runtime.GetEntityCache<Row>(Descriptor);
    }

    public bool IsVersioned => _cache.IsVersioned;

    public bool Naive { get; init; }

    public static string KeyOf(long id) => CacheKey.Create("row", id);

    public ValueTask<Row?> GetAsync(long id, CancellationToken cancellationToken)
        => _cache.ReadThroughAsync(KeyOf(id), GetPolicy, (Inner: _inner, Id: id), static (state, ct) => state.Inner.GetAsync(state.Id, ct), cancellationToken);

    public ValueTask SaveAsync(Row row, CancellationToken cancellationToken)
        => Naive
            ? NaiveSaveAsync(row, cancellationToken)
            : _cache.WriteThroughAsync(KeyOf(row.Id), row, SavePolicy, (Inner: _inner, Row: row), static (state, ct) => state.Inner.SaveAsync(state.Row, ct), cancellationToken);

    /// <summary>A write-around of <paramref name="row"/>: the database only, then the key's invalidation with the
    /// policy's 30 s fill TTL.</summary>
    public ValueTask MigrateAsync(Row row, CancellationToken cancellationToken)
        => _cache.WriteAroundAsync([KeyOf(row.Id)], MigratePolicy, (Inner: _inner, Row: row), static (state, ct) => state.Inner.SaveAsync(state.Row, ct), cancellationToken);

    private async ValueTask NaiveSaveAsync(Row row, CancellationToken cancellationToken)
    {
        await _inner.SaveAsync(row, cancellationToken);

        // The network between the application and Redis is never instant: a short random pause widens the window in
        // which two writers' SETs cross, so the checker sees the race within seconds.
        await Task.Delay(Random.Shared.Next(2));
        var entry = new CacheEntry(KeyOf(row.Id), CacheEnvelope.Encode(row, _cache.SchemaFingerprint, RowFormatter.Options), SavePolicy.TimeToLive);
        await _runtime.Store.SetManyAsync([entry], CancellationToken.None);
    }
}

/// <summary>The inner repository on MariaDB through MySqlConnector and Dapper, on a table of its own. Every write bumps
/// the row's <c>seq</c> in the same transaction and reads it back, so <see cref="CommitOrder"/> knows each written
/// value's position in the row's commit order.</summary>
internal sealed class MySqlRowRepository : IRowRepository
{
    private readonly string _connectionString;
    private readonly string _table;

    public MySqlRowRepository(string connectionString, string table)
    {
        _connectionString = connectionString;
        _table = table;
    }

    /// <summary>Whether writes are optimistic-concurrency updates of the version column: a write whose version is not
    /// newer than the row's throws <see cref="StaleVersionException"/> and changes nothing, so each row's versions grow
    /// with its commit order.</summary>
    public bool Versioned { get; init; }

    /// <summary>Written value → its commit order in its row (the seeded values have 0).</summary>
    public ConcurrentDictionary<string, long> CommitOrder { get; } = new(StringComparer.Ordinal);

    public static string InitialValue(long id) => $"init-{id}";

    public async Task CreateAsync(int rows)
    {
        await using var connection = await OpenAsync(CancellationToken.None);
        await connection.ExecuteAsync($"CREATE TABLE {_table} (id BIGINT NOT NULL PRIMARY KEY, value VARCHAR(64) NOT NULL, seq BIGINT NOT NULL, version BIGINT NOT NULL DEFAULT 0) ENGINE=InnoDB");
        for (var start = 0; start < rows; start += 500)
        {
            var batch = Enumerable.Range(start, Math.Min(500, rows - start)).Select(id => new { Id = (long)id, Value = InitialValue(id) });
            await connection.ExecuteAsync($"INSERT INTO {_table} (id, value, seq) VALUES (@Id, @Value, 0)", batch);
        }

        for (long id = 0; id < rows; id++)
        {
            CommitOrder[InitialValue(id)] = 0;
        }
    }

    public async Task DropAsync()
    {
        await using var connection = await OpenAsync(CancellationToken.None);
        await connection.ExecuteAsync($"DROP TABLE IF EXISTS {_table}");
    }

    public async Task<Dictionary<long, string>> ReadAllAsync()
    {
        await using var connection = await OpenAsync(CancellationToken.None);
        var rows = await connection.QueryAsync<(long Id, string Value)>($"SELECT id, value FROM {_table}");
        return rows.ToDictionary(r => r.Id, r => r.Value);
    }

    public async ValueTask<Row?> GetAsync(long id, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<(string Value, long Version)?>(new CommandDefinition($"SELECT value, version FROM {_table} WHERE id = @id", new { id }, cancellationToken: cancellationToken));
        return row is { } found ? new Row(id, found.Value, found.Version) : null;
    }

    public async ValueTask SaveAsync(Row row, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var sql = Versioned
            ? $"UPDATE {_table} SET value = @Value, seq = seq + 1, version = @Version WHERE id = @Id AND version < @Version"
            : $"UPDATE {_table} SET value = @Value, seq = seq + 1 WHERE id = @Id";
        var updated = await connection.ExecuteAsync(new CommandDefinition(sql, row, transaction, cancellationToken: cancellationToken));
        if (updated != 1)
        {
            throw Versioned ? new StaleVersionException(row.Id, row.Version) : new InvalidOperationException($"row {row.Id} does not exist");
        }

        var seq = await connection.ExecuteScalarAsync<long>(new CommandDefinition($"SELECT seq FROM {_table} WHERE id = @Id", row, transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
        CommitOrder[row.Value] = seq;
    }

    private async Task<MySqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new MySqlConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }
}
