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
