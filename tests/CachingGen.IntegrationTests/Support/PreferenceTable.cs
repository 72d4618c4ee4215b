using Preferences;

namespace CachingGen.IntegrationTests.Support;

/// <summary>A preferences table of its own for one test class (an xunit class fixture), so classes running in
/// parallel never touch each other's rows; dropped when the class is done.</summary>
public sealed class PreferenceTable : IAsyncLifetime
{
    private MySqlPreferenceDatabase? _database;

    /// <summary>The database over this class's table.</summary>
    public MySqlPreferenceDatabase Database => _database ?? throw new InvalidOperationException(
        $"No table was created: {StackEnvironment.MySqlVariable} was not set when the test class started.");

    public async Task InitializeAsync()
    {
        // Skipped tests (no servers, not CI) need no table; in CI a missing server fails the tests themselves.
        if (StackEnvironment.MySql is null)
        {
            return;
        }

        _database = new MySqlPreferenceDatabase(StackEnvironment.MySql, $"it_{Guid.NewGuid():N}"[..32]);
        await _database.EnsureTableAsync(CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        if (_database is not null)
        {
            await _database.DropTableAsync(CancellationToken.None);
            await _database.DisposeAsync();
        }
    }
}
