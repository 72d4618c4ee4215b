using CachingGen.WriteBack;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace CachingGen.MySql;

/// <summary>
/// Begins write-back flush transactions on MySQL/MariaDB: one connection and one transaction per batch, in which the
/// idempotency ledger rows (<see cref="MySqlWriteBackLedger"/>) and the inner repository's changes (made through
/// <see cref="IMySqlConnectionSource"/>) commit together. Creates the ledger table on first use unless
/// <see cref="MySqlWriteBackOptions.CreateLedgerOnStartup"/> is off.
/// </summary>
public sealed partial class MySqlWriteBackTransactionFactory : IWriteBackTransactionFactory
{
    private readonly string _connectionString;
    private readonly string _table;
    private readonly string _claimSql;
    private readonly bool _createLedger;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _ledgerGate = new(1, 1);
    private volatile bool _ledgerReady;

    /// <summary>Creates the factory.</summary>
    public MySqlWriteBackTransactionFactory(IOptions<MySqlWriteBackOptions> options, ILogger<MySqlWriteBackTransactionFactory>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var value = options.Value;
        value.Validate();
        _connectionString = value.ConnectionString!;
        _table = value.LedgerTable;
        _createLedger = value.CreateLedgerOnStartup;
        _ledgerReady = !_createLedger;
        _claimSql = $"INSERT IGNORE INTO {MySqlWriteBackLedger.Quote(_table)} (key_hash, idempotency_key, applied_at) VALUES (@hash, @key, UTC_TIMESTAMP(6))";
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <inheritdoc />
    public async ValueTask<IWriteBackTransaction> BeginAsync(CancellationToken cancellationToken)
    {
        var connection = new MySqlConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            if (!_ledgerReady)
            {
                await EnsureLedgerAsync(connection, cancellationToken).ConfigureAwait(false);
            }

            var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            return new MySqlWriteBackTransaction(connection, transaction, _connectionString, _claimSql, _table);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task EnsureLedgerAsync(MySqlConnection connection, CancellationToken cancellationToken)
    {
        await _ledgerGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_ledgerReady)
            {
                await MySqlWriteBackLedger.EnsureCreatedAsync(connection, _table, cancellationToken).ConfigureAwait(false);
                _ledgerReady = true;
                Log.LedgerReady(_logger, _table);
            }
        }
        finally
        {
            _ledgerGate.Release();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Write-back idempotency ledger table {Table} is ready (created if it was missing).")]
        public static partial void LedgerReady(ILogger logger, string table);
    }
}

/// <summary>One flush batch's MySQL transaction: the ledger claims and (through <see cref="IMySqlConnectionSource"/>)
/// the inner repository's changes.</summary>
internal sealed class MySqlWriteBackTransaction : IWriteBackTransaction
{
    private readonly MySqlConnection _connection;
    private readonly MySqlTransaction _transaction;
    private readonly string _connectionString;
    private readonly MySqlCommand _claim;
    private readonly MySqlParameter _hash;
    private readonly MySqlParameter _key;
    private bool _completed;

    private readonly string _table;

    public MySqlWriteBackTransaction(MySqlConnection connection, MySqlTransaction transaction, string connectionString, string claimSql, string table)
    {
        _table = MySqlWriteBackLedger.Quote(table);
        _connection = connection;
        _transaction = transaction;
        _connectionString = connectionString;
        _claim = new MySqlCommand(claimSql, connection, transaction);
        _hash = _claim.Parameters.Add("@hash", MySqlDbType.Binary);
        _key = _claim.Parameters.Add("@key", MySqlDbType.VarChar);
    }

    /// <summary>The batch's connection and transaction for a repository of the same database.</summary>
    public MySqlSession Join(string connectionString)
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        if (!string.Equals(connectionString, _connectionString, StringComparison.Ordinal))
        {
            throw new InvalidOperationException(
                "A repository asked IMySqlConnectionSource for a connection during a write-back flush, but its connection string differs " +
                "from the write-back ledger's: its changes could not commit with the ledger, so a replay could apply them twice. " +
                "Use the same connection string for UseMySqlWriteBack and the repository's IMySqlConnectionSource.");
        }

        return new MySqlSession(_connection, _transaction, ownsConnection: false);
    }

    public async ValueTask<bool> TryClaimAsync(string idempotencyKey, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(idempotencyKey);
        ObjectDisposedException.ThrowIf(_completed, this);
        _hash.Value = MySqlWriteBackLedger.Hash(idempotencyKey);
        _key.Value = MySqlWriteBackLedger.StoredText(idempotencyKey);

        // INSERT IGNORE: 1 row when the key is new; 0 when it is there (applied before). A concurrent batch holding
        // the same key (a stale owner of the shard) makes this wait for its commit or rollback.
        return await _claim.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
    }

    /// <inheritdoc />
    /// <remarks>See <see cref="MySqlWriteBackLedger.TryClaimManyAsync"/>.</remarks>
    public ValueTask<IReadOnlyList<bool>> TryClaimManyAsync(IReadOnlyList<string> idempotencyKeys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(idempotencyKeys);
        ObjectDisposedException.ThrowIf(_completed, this);
        return MySqlWriteBackLedger.ClaimManyAsync(_connection, _transaction, idempotencyKeys, _table, cancellationToken);
    }

    public async ValueTask CommitAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        await _transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        _completed = true;
    }

    public async ValueTask DisposeAsync()
    {
        _completed = true;
        await _claim.DisposeAsync().ConfigureAwait(false);

        // Disposing an uncommitted transaction rolls it back.
        await _transaction.DisposeAsync().ConfigureAwait(false);
        await _connection.DisposeAsync().ConfigureAwait(false);
    }
}
