using CachingGen.WriteBack;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace CachingGen.MySql.Tests;

public sealed class MySqlWriteBackTransactionTests
{
    [MySqlFact]
    public async Task Ledger_table_is_created_on_first_use_and_a_committed_claim_is_refused_afterwards()
    {
        var (factory, ledger) = NewFactory();
        var key = $"pref:1@{Guid.NewGuid():N}";
        await using (var transaction = await factory.BeginAsync(default))
        {
            Assert.True(await transaction.TryClaimAsync(key, default));
            await transaction.CommitAsync(default);
        }

        await using (var replay = await factory.BeginAsync(default))
        {
            Assert.False(await replay.TryClaimAsync(key, default));
            Assert.True(await replay.TryClaimAsync(key + "-other", default));
        }

        await using var connection = await MySqlTestEnvironment.OpenAsync();
        Assert.True(await MySqlWriteBackLedger.ContainsAsync(connection, key, ledger));
        Assert.False(await MySqlWriteBackLedger.ContainsAsync(connection, key + "-other", ledger), "a transaction disposed without commit rolls its claims back");
    }

    [MySqlFact]
    public async Task Repository_joins_the_flush_transaction_through_the_connection_source_and_rolls_back_with_it()
    {
        var (factory, ledger) = NewFactory();
        var table = await CreateDataTableAsync();
        var source = new MySqlConnectionSource(Options.Create(new MySqlWriteBackOptions { ConnectionString = MySqlTestEnvironment.Require(), LedgerTable = ledger }));

        // Committed batch: the ledger row and the data row are both there.
        await using (var transaction = await factory.BeginAsync(default))
        {
            WriteBackTransactionTestAccess.SetCurrent(transaction);
            try
            {
                Assert.True(await transaction.TryClaimAsync("k@1", default));
                await InsertAsync(source, table, 1, expectFlush: true);
                await transaction.CommitAsync(default);
            }
            finally
            {
                WriteBackTransactionTestAccess.SetCurrent(null);
            }
        }

        // Rolled-back batch (a crash before the commit): neither row.
        await using (var transaction = await factory.BeginAsync(default))
        {
            WriteBackTransactionTestAccess.SetCurrent(transaction);
            try
            {
                Assert.True(await transaction.TryClaimAsync("k@2", default));
                await InsertAsync(source, table, 2, expectFlush: true);
            }
            finally
            {
                WriteBackTransactionTestAccess.SetCurrent(null);
            }
        }

        // Outside a flush the source opens its own autocommit connection.
        await InsertAsync(source, table, 3, expectFlush: false);

        await using var connection = await MySqlTestEnvironment.OpenAsync();
        Assert.Equal(new long[] { 1, 3 }, (await connection.QueryAsync<long>($"SELECT id FROM `{table}` ORDER BY id")).ToArray());
        Assert.True(await MySqlWriteBackLedger.ContainsAsync(connection, "k@1", ledger));
        Assert.False(await MySqlWriteBackLedger.ContainsAsync(connection, "k@2", ledger));
    }

    [MySqlFact]
    public async Task Claiming_a_batch_at_once_skips_keys_applied_before_and_repeats_within_the_batch()
    {
        var (factory, ledger) = NewFactory();
        var run = Guid.NewGuid().ToString("N");
        await using (var first = await factory.BeginAsync(default))
        {
            Assert.True(await first.TryClaimAsync($"a@{run}", default));
            await first.CommitAsync(default);
        }

        await using (var batch = await factory.BeginAsync(default))
        {
            var claimed = await batch.TryClaimManyAsync(new[] { $"a@{run}", $"b@{run}", $"c@{run}", $"b@{run}" }, default);
            Assert.Equal(new[] { false, true, true, false }, claimed);
            await batch.CommitAsync(default);
        }

        await using (var replay = await factory.BeginAsync(default))
        {
            Assert.Equal(new[] { false, false, true }, await replay.TryClaimManyAsync(new[] { $"b@{run}", $"c@{run}", $"d@{run}" }, default));
        }

        await using var connection = await MySqlTestEnvironment.OpenAsync();
        Assert.True(await MySqlWriteBackLedger.ContainsAsync(connection, $"c@{run}", ledger));
        Assert.False(await MySqlWriteBackLedger.ContainsAsync(connection, $"d@{run}", ledger), "the replay was not committed");
    }

    [MySqlFact]
    public async Task Concurrent_batches_claiming_the_same_key_apply_it_once()
    {
        var (factory, _) = NewFactory();
        var key = $"pref:9@{Guid.NewGuid():N}";
        await using var first = await factory.BeginAsync(default);
        Assert.True(await first.TryClaimAsync(key, default));

        // A stale shard owner replays the same record: its claim waits for the first batch, then sees the row.
        await using var second = await factory.BeginAsync(default);
        var contender = second.TryClaimAsync(key, default).AsTask();
        await Task.Delay(200);
        Assert.False(contender.IsCompleted, "the second claim must wait for the first transaction");
        await first.CommitAsync(default);
        Assert.False(await contender);
    }

    [MySqlFact]
    public async Task Batches_claiming_different_keys_at_once_never_wait_for_each_other()
    {
        // Shard workers claim their batches concurrently. A locking read of absent keys would take gap locks that make
        // the other batch's insert wait (and two such batches deadlock, each inserting into the other's gaps).
        var (factory, _) = NewFactory();
        var run = Guid.NewGuid().ToString("N");
        await using var first = await factory.BeginAsync(default);
        Assert.Equal(new[] { true, true }, await first.TryClaimManyAsync(new[] { $"a@{run}", $"b@{run}" }, default));

        await using var second = await factory.BeginAsync(default);
        var claim = second.TryClaimManyAsync(new[] { $"c@{run}", $"d@{run}" }, default).AsTask();
        Assert.Same(claim, await Task.WhenAny(claim, Task.Delay(TimeSpan.FromSeconds(5))));
        Assert.Equal(new[] { true, true }, await claim);
        await second.CommitAsync(default);
        await first.CommitAsync(default);
    }

    [MySqlFact]
    public async Task A_batch_claiming_a_key_another_open_batch_holds_waits_then_skips_it_once_that_batch_commits()
    {
        var (factory, ledger) = NewFactory();
        var run = Guid.NewGuid().ToString("N");
        await using var first = await factory.BeginAsync(default);
        Assert.Equal(new[] { true }, await first.TryClaimManyAsync(new[] { $"x@{run}" }, default));

        // A stale shard owner replays the record: its insert waits for the first batch, then hits the key, and the
        // claim falls back to reading which keys are there: x is skipped, y claimed.
        await using var second = await factory.BeginAsync(default);
        var contender = second.TryClaimManyAsync(new[] { $"x@{run}", $"y@{run}" }, default).AsTask();
        await Task.Delay(200);
        Assert.False(contender.IsCompleted, "the second claim must wait for the first transaction");
        await first.CommitAsync(default);
        Assert.Equal(new[] { false, true }, await contender);
        await second.CommitAsync(default);

        await using var connection = await MySqlTestEnvironment.OpenAsync();
        Assert.True(await MySqlWriteBackLedger.ContainsAsync(connection, $"y@{run}", ledger));
    }

    [MySqlFact]
    public async Task A_claim_in_the_callers_own_transaction_inserts_only_new_keys_and_rolls_back_with_it()
    {
        var (_, ledger) = NewFactory();
        var run = Guid.NewGuid().ToString("N");
        await using var connection = await MySqlTestEnvironment.OpenAsync();
        await MySqlWriteBackLedger.EnsureCreatedAsync(connection, ledger);
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            Assert.Equal(new[] { true, true, false }, await MySqlWriteBackLedger.TryClaimManyAsync(connection, transaction, new[] { $"p@{run}", $"q@{run}", $"p@{run}" }, ledger));
            await transaction.CommitAsync();
        }

        await using (var transaction = await connection.BeginTransactionAsync())
        {
            Assert.Equal(new[] { false, true }, await MySqlWriteBackLedger.TryClaimManyAsync(connection, transaction, new[] { $"q@{run}", $"r@{run}" }, ledger));
            await transaction.RollbackAsync();
        }

        Assert.True(await MySqlWriteBackLedger.ContainsAsync(connection, $"q@{run}", ledger));
        Assert.False(await MySqlWriteBackLedger.ContainsAsync(connection, $"r@{run}", ledger), "the claim rolled back with its transaction");
    }

    [MySqlFact]
    public async Task A_repository_on_another_database_is_refused_inside_a_flush_with_a_clear_error()
    {
        var (factory, ledger) = NewFactory();
        var other = new MySqlConnectionStringBuilder(MySqlTestEnvironment.Require()) { ApplicationName = "elsewhere" }.ConnectionString;
        var source = new MySqlConnectionSource(Options.Create(new MySqlWriteBackOptions { ConnectionString = other, LedgerTable = ledger }));
        await using var transaction = await factory.BeginAsync(default);
        WriteBackTransactionTestAccess.SetCurrent(transaction);
        try
        {
            var error = await Assert.ThrowsAsync<InvalidOperationException>(async () => await source.OpenAsync());
            Assert.Contains("connection string differs", error.Message);
        }
        finally
        {
            WriteBackTransactionTestAccess.SetCurrent(null);
        }
    }

    [Fact]
    public void Options_name_what_is_wrong()
    {
        Assert.Contains("ConnectionString is not set", Assert.Throws<ArgumentException>(() => new MySqlWriteBackTransactionFactory(Options.Create(new MySqlWriteBackOptions()))).Message);
        Assert.Contains("not a plain table name", Assert.Throws<ArgumentException>(() => MySqlWriteBackLedger.MigrationSql("x`; DROP TABLE y")).Message);
        Assert.Contains("CREATE TABLE IF NOT EXISTS `app`.`ledger`", MySqlWriteBackLedger.MigrationSql("app.ledger"));
    }

    [Fact]
    public void Registration_replaces_the_in_memory_ledger()
    {
        var services = new ServiceCollection();
        services.AddCachingGen().UseMySqlWriteBack("Server=127.0.0.1;Database=x;User ID=u;Password=p");
        using var provider = services.BuildServiceProvider();
        Assert.IsType<MySqlWriteBackTransactionFactory>(provider.GetRequiredService<IWriteBackTransactionFactory>());
        Assert.IsType<MySqlConnectionSource>(provider.GetRequiredService<IMySqlConnectionSource>());
    }

    private static (MySqlWriteBackTransactionFactory Factory, string Ledger) NewFactory()
    {
        var ledger = MySqlTestEnvironment.UniqueTable("ledger");
        var factory = new MySqlWriteBackTransactionFactory(Options.Create(new MySqlWriteBackOptions { ConnectionString = MySqlTestEnvironment.Require(), LedgerTable = ledger }));
        return (factory, ledger);
    }

    private static async Task<string> CreateDataTableAsync()
    {
        var table = MySqlTestEnvironment.UniqueTable("data");
        await using var connection = await MySqlTestEnvironment.OpenAsync();
        await connection.ExecuteAsync($"CREATE TABLE `{table}` (id BIGINT NOT NULL PRIMARY KEY) ENGINE=InnoDB");
        return table;
    }

    private static async Task InsertAsync(IMySqlConnectionSource source, string table, long id, bool expectFlush)
    {
        await using var session = await source.OpenAsync();
        Assert.Equal(expectFlush, session.InWriteBackFlush);
        await session.Connection.ExecuteAsync(new CommandDefinition($"INSERT INTO `{table}` (id) VALUES (@id)", new { id }, session.Transaction));
    }
}
