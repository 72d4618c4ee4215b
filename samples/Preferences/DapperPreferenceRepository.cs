
namespace Preferences;

/// <summary>
/// The inner repository: Dapper over <see cref="PreferenceDatabase"/> (MySqlConnector in production, SQLite embedded),
/// knowing nothing of caching. The generated <c>CachedPreferenceRepository</c> wraps it.
/// </summary>
public sealed class DapperPreferenceRepository(PreferenceDatabase database) : IPreferenceRepository
{
    public async ValueTask<Preference?> GetAsync(long userId, CancellationToken ct = default)
    {
        database.CountRead();
        await using var connection = await database.OpenAsync(ct).ConfigureAwait(false);
        return await database.QueryOneAsync(connection, userId, ct).ConfigureAwait(false);
    }

    public Task SaveAsync(Preference preference, CancellationToken ct = default) => UpsertAsync([preference], ct);

    public Task SaveManyAsync(IReadOnlyList<Preference> preferences, CancellationToken ct = default) => UpsertAsync(preferences, ct);

    public Task MigrateAsync(Preference preference, CancellationToken ct = default) => UpsertAsync([preference], ct);

    public Task MigrateManyAsync(IReadOnlyList<Preference> preferences, CancellationToken ct = default) => UpsertAsync(preferences, ct);

    public Task ImportAsync(Preference preference, CancellationToken ct = default) => UpsertAsync([preference], ct);

    public Task ImportManyAsync(IReadOnlyList<Preference> preferences, CancellationToken ct = default) => UpsertAsync(preferences, ct);

    public Task DeleteAsync(long userId, CancellationToken ct = default) => DeleteManyAsync([userId], ct);

    public async Task DeleteManyAsync(IReadOnlyList<long> userIds, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(userIds);
        await using var connection = await database.OpenAsync(ct).ConfigureAwait(false);
        await database.DeleteAsync(connection, userIds, ct).ConfigureAwait(false);
        database.CountWritten(userIds.Count);
    }

    public async Task<long> CountAsync(CancellationToken ct = default)
    {
        database.CountRead();
        return await database.CountDirectAsync(ct).ConfigureAwait(false);
    }

    private async Task UpsertAsync(IReadOnlyList<Preference> preferences, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(preferences);
        foreach (var preference in preferences)
        {
            ArgumentNullException.ThrowIfNull(preference, nameof(preferences));
        }

        await using var connection = await database.OpenAsync(ct).ConfigureAwait(false);
        await database.UpsertAsync(connection, preferences, ct).ConfigureAwait(false);
        database.CountWritten(preferences.Count);
    }
}
