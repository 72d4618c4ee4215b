using System.Globalization;
using MySqlConnector;

namespace CachingGen.MySql;

/// <summary>
/// The idempotency ledger: one row per applied write-back record, keyed by the SHA-256 of its idempotency key. The
/// flusher inserts the row in the same transaction as the record's data change, so a batch replayed after a crash
/// (between the commit and the acknowledgement in Redis) finds the row and skips the record.
/// </summary>
public static class MySqlWriteBackLedger
{
    /// <summary>The longest idempotency key text stored (for diagnostics); the primary key is the full key's hash.</summary>
    public const int MaxStoredKeyLength = 1024;

    /// <summary>The migration that creates the ledger <paramref name="table"/> (default
    /// <see cref="MySqlWriteBackOptions.DefaultLedgerTable"/>); idempotent. Run it in your migrations when the
    /// application's account may not run DDL (and set <see cref="MySqlWriteBackOptions.CreateLedgerOnStartup"/> to false).</summary>
    public static string MigrationSql(string table = MySqlWriteBackOptions.DefaultLedgerTable)
    {
        var options = new MySqlWriteBackOptions { ConnectionString = "-", LedgerTable = table };
        options.Validate();
        return string.Create(CultureInfo.InvariantCulture, $"""
            CREATE TABLE IF NOT EXISTS {Quote(table)} (
              key_hash BINARY(32) NOT NULL COMMENT 'SHA-256 of the UTF-8 idempotency key',
              idempotency_key VARCHAR({MaxStoredKeyLength}) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
              applied_at DATETIME(6) NOT NULL,
              PRIMARY KEY (key_hash),
              KEY ix_applied_at (applied_at)
            ) ENGINE=InnoDB
            """);
    }

    /// <summary>Creates the ledger table if it is missing.</summary>
    public static async Task EnsureCreatedAsync(MySqlConnection connection, string table = MySqlWriteBackOptions.DefaultLedgerTable, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        await using var command = new MySqlCommand(MigrationSql(table), connection);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes ledger rows older than <paramref name="olderThan"/> (at most <paramref name="limit"/> per call);
    /// returns how many were deleted. A row is needed only until its record is acknowledged in the log, which happens
    /// right after the commit; keep rows for much longer than the longest flusher outage you can imagine (days).</summary>
    public static async Task<int> PruneAsync(MySqlConnection connection, TimeSpan olderThan, string table = MySqlWriteBackOptions.DefaultLedgerTable, int limit = 10_000, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(olderThan, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        _ = MigrationSql(table);
        await using var command = new MySqlCommand(
            $"DELETE FROM {Quote(table)} WHERE applied_at < UTC_TIMESTAMP(6) - INTERVAL @micros MICROSECOND LIMIT {limit.ToString(CultureInfo.InvariantCulture)}", connection);
        command.Parameters.AddWithValue("@micros", (long)(olderThan.Ticks / 10));
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Claims <paramref name="idempotencyKeys"/> in <paramref name="transaction"/>: inserts the ledger rows of the keys
    /// not applied before and returns, per key, whether it was claimed (false: applied before, or a repeat of an earlier
    /// key of the list). The flusher claims a batch's keys this way in the transaction of its data changes.
    /// </summary>
    /// <remarks>
    /// The common case, a batch applied for the first time, is one multi-row <c>INSERT</c>. When a key is already there
    /// (the batch is replayed after a crash between the commit and the acknowledgement in Redis) that statement fails
    /// on the primary key and changes nothing, and the claim falls back to two statements: a plain (non-locking) read
    /// of the keys already in the ledger, then one <c>INSERT</c> of the others. The read takes no locks on purpose: a
    /// locking read of absent keys takes gap locks, and the shards' batches, claiming at the same time, then wait for and
    /// deadlock on each other's gaps. Exactly-once rests on the primary key: should another batch hold or have committed
    /// one of the keys since the read (a stale owner of the shard), the second <c>INSERT</c> waits for it and then
    /// fails with a duplicate key, and the caller's transaction must roll back (the flusher then applies the batch one
    /// record per transaction, whose single-key claim, an <c>INSERT IGNORE</c>, skips that key).
    /// <paramref name="table"/> is a (possibly schema-qualified) table name, as for <see cref="MigrationSql"/>.
    /// </remarks>
    public static async ValueTask<IReadOnlyList<bool>> TryClaimManyAsync(MySqlConnection connection, MySqlTransaction? transaction, IReadOnlyList<string> idempotencyKeys, string table = MySqlWriteBackOptions.DefaultLedgerTable, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(idempotencyKeys);
        _ = MigrationSql(table);
        return await ClaimManyAsync(connection, transaction, idempotencyKeys, Quote(table), cancellationToken).ConfigureAwait(false);
    }

    /// <summary><see cref="TryClaimManyAsync"/> on a validated, quoted table name.</summary>
    internal static async ValueTask<IReadOnlyList<bool>> ClaimManyAsync(MySqlConnection connection, MySqlTransaction? transaction, IReadOnlyList<string> idempotencyKeys, string quoted, CancellationToken cancellationToken)
    {
        var count = idempotencyKeys.Count;
        var claimed = new bool[count];
        if (count == 0)
        {
            return claimed;
        }

        var hashes = new byte[count][];
        var firsts = new List<int>(count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < count; i++)
        {
            // Equal keys have equal hashes: a repeat is found by the key itself, without formatting its hash.
            ArgumentNullException.ThrowIfNull(idempotencyKeys[i], nameof(idempotencyKeys));
            hashes[i] = Hash(idempotencyKeys[i]);
            if (seen.Add(idempotencyKeys[i]))
            {
                firsts.Add(i);
            }
        }

        await using var command = new MySqlCommand { Connection = connection, Transaction = transaction };
        try
        {
            await InsertAsync(command, quoted, firsts, hashes, idempotencyKeys, cancellationToken).ConfigureAwait(false);
            foreach (var i in firsts)
            {
                claimed[i] = true;
            }

            return claimed;
        }
        catch (MySqlException exception) when (exception.ErrorCode == MySqlErrorCode.DuplicateKeyEntry)
        {
            // A replayed batch: some keys were applied before. The failed statement changed nothing; find them.
        }

        var text = new System.Text.StringBuilder(64 + (firsts.Count * 6));
        text.Append("SELECT key_hash FROM ").Append(quoted).Append(" WHERE key_hash IN (");
        command.Parameters.Clear();
        for (var f = 0; f < firsts.Count; f++)
        {
            var name = "@h" + f.ToString(CultureInfo.InvariantCulture);
            text.Append(f == 0 ? string.Empty : ",").Append(name);
            command.Parameters.AddWithValue(name, hashes[firsts[f]]);
        }

        command.CommandText = text.Append(')').ToString();
        var existing = new HashSet<string>(StringComparer.Ordinal);
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                existing.Add(Convert.ToHexString((byte[])reader.GetValue(0)));
            }
        }

        var fresh = firsts.FindAll(i => !existing.Contains(Convert.ToHexString(hashes[i])));
        if (fresh.Count > 0)
        {
            await InsertAsync(command, quoted, fresh, hashes, idempotencyKeys, cancellationToken).ConfigureAwait(false);
        }

        foreach (var i in fresh)
        {
            claimed[i] = true;
        }

        return claimed;
    }

    private static async Task InsertAsync(MySqlCommand command, string quotedTable, List<int> indexes, byte[][] hashes, IReadOnlyList<string> idempotencyKeys, CancellationToken cancellationToken)
    {
        var text = new System.Text.StringBuilder(64 + (indexes.Count * 40));
        text.Append("INSERT INTO ").Append(quotedTable).Append(" (key_hash, idempotency_key, applied_at) VALUES ");
        command.Parameters.Clear();
        for (var n = 0; n < indexes.Count; n++)
        {
            var suffix = n.ToString(CultureInfo.InvariantCulture);
            text.Append(n == 0 ? "(@h" : ",(@h").Append(suffix).Append(",@k").Append(suffix).Append(",UTC_TIMESTAMP(6))");
            command.Parameters.AddWithValue("@h" + suffix, hashes[indexes[n]]);
            command.Parameters.AddWithValue("@k" + suffix, StoredText(idempotencyKeys[indexes[n]]));
        }

        command.CommandText = text.ToString();
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Whether <paramref name="idempotencyKey"/> is in the ledger (for tests and tooling).</summary>
    public static async Task<bool> ContainsAsync(MySqlConnection connection, string idempotencyKey, string table = MySqlWriteBackOptions.DefaultLedgerTable, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(idempotencyKey);
        _ = MigrationSql(table);
        await using var command = new MySqlCommand($"SELECT COUNT(*) FROM {Quote(table)} WHERE key_hash = @hash", connection);
        command.Parameters.AddWithValue("@hash", Hash(idempotencyKey));
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture) > 0;
    }

    internal static string Quote(string table) => string.Join('.', table.Split('.').Select(static part => $"`{part}`"));

    internal static byte[] Hash(string idempotencyKey) => System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(idempotencyKey));

    internal static string StoredText(string idempotencyKey)
        => idempotencyKey.Length <= MaxStoredKeyLength ? idempotencyKey : idempotencyKey[..MaxStoredKeyLength];
}
