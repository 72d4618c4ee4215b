using MySqlConnector;

namespace CachingGen.MySql;

/// <summary>
/// A connection handed out by <see cref="IMySqlConnectionSource"/>: during a write-back flush, the flush batch's
/// connection and transaction (so the inner repository's changes commit with the idempotency ledger); otherwise a
/// pooled connection of its own. Pass <see cref="Transaction"/> to every Dapper call and dispose the session when done.
/// </summary>
/// <example><code>
/// await using var session = await connections.OpenAsync(ct);
/// await session.Connection.ExecuteAsync(
///     new CommandDefinition("UPDATE preference SET channel = @Channel WHERE user_id = @UserId", preference, session.Transaction, cancellationToken: ct));
/// </code></example>
public sealed class MySqlSession : IAsyncDisposable, IDisposable
{
    private readonly bool _ownsConnection;

    internal MySqlSession(MySqlConnection connection, MySqlTransaction? transaction, bool ownsConnection)
    {
        Connection = connection;
        Transaction = transaction;
        _ownsConnection = ownsConnection;
    }

    /// <summary>The open connection.</summary>
    public MySqlConnection Connection { get; }

    /// <summary>The flush batch's transaction during a write-back flush; null otherwise (autocommit, or a transaction
    /// you begin yourself on <see cref="Connection"/>).</summary>
    public MySqlTransaction? Transaction { get; }

    /// <summary>Whether this session joins a write-back flush transaction: do not commit or roll it back yourself,
    /// the flusher does, together with the idempotency ledger.</summary>
    public bool InWriteBackFlush => !_ownsConnection;

    /// <summary>Closes the connection when the session opened it; a flush batch's connection stays open.</summary>
    public ValueTask DisposeAsync() => _ownsConnection ? Connection.DisposeAsync() : ValueTask.CompletedTask;

    /// <summary>Closes the connection when the session opened it.</summary>
    public void Dispose()
    {
        if (_ownsConnection)
        {
            Connection.Dispose();
        }
    }
}
