using CachingGen.MySql;
using CachingGen.WriteBack;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CachingGen;

/// <summary>Registers the MySQL idempotency ledger and connection source.</summary>
public static class MySqlCachingGenBuilderExtensions
{
    /// <summary>
    /// Flushes write-back records in MySQL transactions that also hold the idempotency ledger
    /// (<see cref="MySqlWriteBackTransactionFactory"/>, replacing the in-memory ledger), and registers
    /// <see cref="IMySqlConnectionSource"/> (a singleton) for the inner repositories: inject it into your Dapper
    /// repository so its writes join the flush transaction.
    /// </summary>
    /// <param name="builder">The CachingGen builder.</param>
    /// <param name="connectionString">The MySqlConnector connection string of the database.</param>
    /// <param name="configure">Configures <see cref="MySqlWriteBackOptions"/>; optional.</param>
    public static CachingGenBuilder UseMySqlWriteBack(this CachingGenBuilder builder, string connectionString, Action<MySqlWriteBackOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var services = builder.Services;
        services.AddOptions<MySqlWriteBackOptions>().Configure(options =>
        {
            options.ConnectionString = connectionString;
            configure?.Invoke(options);
        });
        services.RemoveAll<IWriteBackTransactionFactory>();
        services.RemoveAll<MySqlWriteBackTransactionFactory>();
        services.TryAddSingleton<IMySqlConnectionSource, MySqlConnectionSource>();
        services.AddSingleton(provider => new MySqlWriteBackTransactionFactory(
            provider.GetRequiredService<IOptions<MySqlWriteBackOptions>>(),
            provider.GetService<ILogger<MySqlWriteBackTransactionFactory>>()));
        services.AddSingleton<IWriteBackTransactionFactory>(provider => provider.GetRequiredService<MySqlWriteBackTransactionFactory>());
        return builder;
    }
}
