using CachingGen.WriteBack;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace CachingGen.MySql;

/// <summary>
/// Where a Dapper repository behind a CachingGen decorator gets its connection. Inject it instead of a connection
/// string: inside a write-back flush it returns the batch's connection and transaction (ambient, through
/// <see cref="WriteBackTransaction.Current"/>), so the repository's changes and the idempotency ledger row commit in
/// one MySQL transaction; anywhere else it opens a pooled connection of its own.
/// </summary>
public interface IMySqlConnectionSource
{
    /// <summary>Opens a session (see <see cref="MySqlSession"/>); dispose it when done.</summary>
    ValueTask<MySqlSession> OpenAsync(CancellationToken cancellationToken = default);
}

/// <summary>The <see cref="IMySqlConnectionSource"/> of one connection string (registered by <c>UseMySqlWriteBack</c>).</summary>
public sealed class MySqlConnectionSource : IMySqlConnectionSource
{
    private readonly string _connectionString;

    /// <summary>Creates the source over the options' connection string.</summary>
    public MySqlConnectionSource(IOptions<MySqlWriteBackOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var value = options.Value;
        value.Validate();
        _connectionString = value.ConnectionString!;
    }

    /// <inheritdoc />
    public async ValueTask<MySqlSession> OpenAsync(CancellationToken cancellationToken = default)
    {
        if (WriteBackTransaction.Current is MySqlWriteBackTransaction flush)
        {
            return flush.Join(_connectionString);
        }

        var connection = new MySqlConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return new MySqlSession(connection, null, ownsConnection: true);
    }
}
