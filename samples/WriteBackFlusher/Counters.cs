using CachingGen;
using CachingGen.MySql;
using Dapper;
using Microsoft.Extensions.Options;

namespace WriteBackFlusher;

/// <summary>One write of a per-key counter: the key and the write's sequence number (its idempotency key).</summary>
public sealed record Counter([property: CacheKey] long Id, long Sequence);

/// <summary>The workload of the sample and of the crash tests: every write of a key carries the next sequence number,
/// so the database can count duplicates (a sequence applied twice) and reordering (a sequence applied after a larger one).</summary>
[CachedRepository(KeyPrefix = "ctr")]
public interface ICounterRepository
{
    /// <summary>The key's latest write.</summary>
    [Cached(Ttl = 60)]
    ValueTask<Counter?> GetAsync(long id, CancellationToken ct = default);

    /// <summary>Acknowledged once it is in Redis; the flusher applies it to MySQL, a run of records of distinct keys in
    /// one call of <see cref="RecordManyAsync"/>.</summary>
    [WriteBack(IdempotencyKey = nameof(Counter.Sequence), Ttl = 60, ApplyManyWith = nameof(RecordManyAsync))]
    Task RecordAsync(Counter counter, CancellationToken ct = default);

    /// <summary>The same as <see cref="RecordAsync"/> once per element, in order, as two multi-row statements. The flusher
    /// calls the MySQL repository's; called on the decorator, it is a bulk write-around (after the keys' pending
    /// write-back records).</summary>
    [WriteAround(Ttl = 60)]
    Task RecordManyAsync(IReadOnlyList<Counter> counters, CancellationToken ct = default);

    /// <summary>Applied to MySQL in the request path, after the key's pending write-back records.</summary>
    [WriteThrough(Ttl = 60)]
    Task RecordDirectAsync(Counter counter, CancellationToken ct = default);
}

/// <summary>Where the counter tables are, and the chaos settings of the crash tests.</summary>
public sealed class CounterOptions
{
    /// <summary>The stem of the two tables: <c>{Table}</c> (one row per key) and <c>{Table}_writes</c> (one row per applied write).</summary>
    public string Table { get; set; } = "counters";

    /// <summary>A key whose writes the repository always refuses (the poison-write test); null for none.</summary>
    public long? PoisonId { get; set; }
}

/// <summary>The inner repository: plain Dapper over <see cref="IMySqlConnectionSource"/>, so inside a write-back flush
/// its statements run in the flush's transaction, together with the idempotency ledger.</summary>
public sealed class MySqlCounterRepository(IMySqlConnectionSource connections, IOptions<CounterOptions> options) : ICounterRepository
{
    private readonly string _table = options.Value.Table;
    private readonly long? _poison = options.Value.PoisonId;

    /// <summary>Creates the two tables.</summary>
    public static async Task CreateTablesAsync(IMySqlConnectionSource connections, string table, CancellationToken ct = default)
    {
        await using var session = await connections.OpenAsync(ct);
        await session.Connection.ExecuteAsync(new CommandDefinition($"""
            CREATE TABLE IF NOT EXISTS `{table}` (
              id BIGINT NOT NULL PRIMARY KEY, applied BIGINT NOT NULL, last_seq BIGINT NOT NULL, reordered BIGINT NOT NULL
            ) ENGINE=InnoDB;
            CREATE TABLE IF NOT EXISTS `{table}_writes` (
              row_id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, id BIGINT NOT NULL, seq BIGINT NOT NULL, KEY ix_id (id, row_id)
            ) ENGINE=InnoDB;
            """, cancellationToken: ct));
    }

    public async ValueTask<Counter?> GetAsync(long id, CancellationToken ct = default)
    {
        await using var session = await connections.OpenAsync(ct);
        return await session.Connection.QuerySingleOrDefaultAsync<Counter>(new CommandDefinition(
            $"SELECT id AS Id, last_seq AS Sequence FROM `{_table}` WHERE id = @id", new { id }, session.Transaction, cancellationToken: ct));
    }

    public Task RecordAsync(Counter counter, CancellationToken ct = default) => ApplyAsync(counter, ct);

    public Task RecordDirectAsync(Counter counter, CancellationToken ct = default) => ApplyAsync(counter, ct);

    public async Task RecordManyAsync(IReadOnlyList<Counter> counters, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(counters);
        if (counters.Count == 0)
        {
            return;
        }

        foreach (var counter in counters)
        {
            RefusePoison(counter);
        }

        await using var session = await connections.OpenAsync(ct);
        await WriteManyAsync(session.Connection, session.Transaction, counters, ct);
    }

    /// <summary>The statements of <see cref="RecordManyAsync"/> on a connection and transaction the caller holds (the
    /// load benchmark's database floor runs them without CachingGen).</summary>
    public Task WriteManyAsync(MySqlConnector.MySqlConnection connection, MySqlConnector.MySqlTransaction? transaction, IReadOnlyList<Counter> counters, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(counters);

        // Rows of one statement are applied in VALUES order, but the flusher never puts two writes of one key in a call,
        // so 'reordered' compares each key's write with that key's previous one, exactly as the single-row statement does.
        var parameters = new DynamicParameters();
        var writes = new System.Text.StringBuilder();
        var rows = new System.Text.StringBuilder();
        for (var i = 0; i < counters.Count; i++)
        {
            parameters.Add("i" + i, counters[i].Id);
            parameters.Add("s" + i, counters[i].Sequence);
            var separator = i == 0 ? string.Empty : ", ";
            writes.Append(separator).Append("(@i").Append(i).Append(", @s").Append(i).Append(')');
            rows.Append(separator).Append("(@i").Append(i).Append(", 1, @s").Append(i).Append(", 0)");
        }

        return connection.ExecuteAsync(new CommandDefinition($"""
            INSERT INTO `{_table}_writes` (id, seq) VALUES {writes};
            INSERT INTO `{_table}` (id, applied, last_seq, reordered) VALUES {rows}
            ON DUPLICATE KEY UPDATE reordered = reordered + IF(VALUES(last_seq) <= last_seq, 1, 0), applied = applied + 1, last_seq = VALUES(last_seq);
            """, parameters, transaction, cancellationToken: ct));
    }

    private void RefusePoison(Counter counter)
    {
        if (counter.Id == _poison)
        {
            throw new InvalidOperationException($"Counter {counter.Id} is poisoned: this repository refuses every write of it.");
        }
    }

    private async Task ApplyAsync(Counter counter, CancellationToken ct)
    {
        RefusePoison(counter);
        await using var session = await connections.OpenAsync(ct);

        // Assignments run left to right: 'reordered' compares with the previous last_seq before it is replaced.
        await session.Connection.ExecuteAsync(new CommandDefinition($"""
            INSERT INTO `{_table}_writes` (id, seq) VALUES (@Id, @Sequence);
            INSERT INTO `{_table}` (id, applied, last_seq, reordered) VALUES (@Id, 1, @Sequence, 0)
            ON DUPLICATE KEY UPDATE reordered = reordered + IF(@Sequence <= last_seq, 1, 0), applied = applied + 1, last_seq = @Sequence;
            """, counter, session.Transaction, cancellationToken: ct));
    }
}
