using System.Text.RegularExpressions;

namespace CachingGen.MySql;

/// <summary>Options of the MySQL write-back ledger and connection source, bound through
/// <c>IOptions&lt;MySqlWriteBackOptions&gt;</c> by <see cref="MySqlCachingGenBuilderExtensions"/>.</summary>
public sealed partial class MySqlWriteBackOptions
{
    /// <summary>The default <see cref="LedgerTable"/>.</summary>
    public const string DefaultLedgerTable = "cachinggen_writeback_ledger";

    /// <summary>The MySqlConnector connection string of the database the inner repositories write to. Required.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>The idempotency ledger's table (optionally <c>schema.table</c>). Default <c>cachinggen_writeback_ledger</c>.</summary>
    public string LedgerTable { get; set; } = DefaultLedgerTable;

    /// <summary>Whether the ledger table is created (if missing) before the first flush transaction. Default true.
    /// Turn it off when the application's account may not run DDL, and apply <see cref="MySqlWriteBackLedger.MigrationSql"/>
    /// with your migrations instead.</summary>
    public bool CreateLedgerOnStartup { get; set; } = true;

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(ConnectionString))
        {
            throw new ArgumentException(
                "MySqlWriteBackOptions.ConnectionString is not set: pass the MySQL connection string to UseMySqlWriteBack(...) " +
                "or configure MySqlWriteBackOptions.", nameof(ConnectionString));
        }

        if (string.IsNullOrWhiteSpace(LedgerTable) || !TableName().IsMatch(LedgerTable))
        {
            throw new ArgumentException(
                $"MySqlWriteBackOptions.LedgerTable '{LedgerTable}' is not a plain table name: use letters, digits, '_' and '$', " +
                "optionally as schema.table (no quotes).", nameof(LedgerTable));
        }
    }

    [GeneratedRegex(@"^[A-Za-z0-9_$]{1,64}(\.[A-Za-z0-9_$]{1,64})?$", RegexOptions.CultureInvariant)]
    private static partial Regex TableName();
}
