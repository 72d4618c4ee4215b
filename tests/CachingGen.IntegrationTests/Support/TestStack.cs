using CachingGen.Redis;
using CachingGen.Redis.Tests;
using CachingGen.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Preferences;

namespace CachingGen.IntegrationTests.Support;

/// <summary>
/// One test's application: a fresh container registered the way an application does it (<c>AddCachingGen()</c>,
/// <c>UseRedis(...)</c>, <c>AddCachedPreferenceRepository&lt;DapperPreferenceRepository&gt;()</c>), a Redis key
/// namespace no other test uses, and the class's table, emptied first.
/// </summary>
internal sealed class TestStack : IAsyncDisposable
{
    private long _readsAtStart;
    private readonly long _writtenAtStart;

    private TestStack(ServiceProvider services, PreferenceDatabase database, CapturingLoggerProvider logs, string keyNamespace)
    {
        Services = services;
        Database = database;
        Logs = logs;
        Cache = new RedisView(keyNamespace, () => Runtime.WaitForPendingFillsAsync());
        _readsAtStart = database.Reads;
        _writtenAtStart = database.RowsWritten;
    }

    public ServiceProvider Services { get; }

    public PreferenceDatabase Database { get; }

    public CapturingLoggerProvider Logs { get; }

    /// <summary>Rows the inner repository wrote since this stack started.</summary>
    public long DatabaseRowsWritten => Database.RowsWritten - _writtenAtStart;

    /// <summary>Rows the inner repository read since this stack started (the table's counter is shared by the class).</summary>
    public long DatabaseReads => Database.Reads - _readsAtStart;

    /// <summary>The cache as seen directly in Redis.</summary>
    public RedisView Cache { get; }

    public IPreferenceRepository Repository => Services.GetRequiredService<IPreferenceRepository>();

    /// <summary>The inner repository alone (no cache): how the tests arrange database rows.</summary>
    public DapperPreferenceRepository Inner => Services.GetRequiredService<DapperPreferenceRepository>();

    public CachingGenRuntime Runtime => Services.GetRequiredService<CachingGenRuntime>();

    /// <summary>Arranges rows that are in the database and cached, as in a read-heavy service: the inner repository
    /// writes them, then a read of each fills its entry (a write-through of an uncached key would leave a tombstone:
    /// <see cref="Preference.Version"/> is the cache version). <see cref="DatabaseReads"/> counts from after these reads.</summary>
    public Task SaveAndCacheAsync(params Preference[] rows) => SaveAndCacheAsync((IReadOnlyList<Preference>)rows);

    /// <inheritdoc cref="SaveAndCacheAsync(Preference[])"/>
    public async Task SaveAndCacheAsync(IReadOnlyList<Preference> rows)
    {
        await Inner.SaveManyAsync(rows);
        foreach (var row in rows)
        {
            Assert.Equal(row, await Repository.GetAsync(row.UserId));
        }

        await Runtime.WaitForPendingFillsAsync();
        _readsAtStart = Database.Reads;
    }

    /// <summary>Starts a stack; <paramref name="register"/> adds more repositories (e.g. one with write-back).</summary>
    public static async Task<TestStack> StartAsync(PreferenceTable table, Action<CachingGenBuilder>? register = null)
    {
        var redis = StackEnvironment.RequireRedis();
        StackEnvironment.RequireMySql();
        var database = table.Database;
        await database.ResetAsync(CancellationToken.None);

        var keyNamespace = $"cgit:{Guid.NewGuid():N}:";
        var logs = new CapturingLoggerProvider();
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.AddProvider(logs).SetMinimumLevel(LogLevel.Debug));
        services.AddSingleton<PreferenceDatabase>(database);
        var caching = services
            .AddCachingGen(options => options.RunWriteBackFlusher = false)
            // Generous: the test machine is shared; the 250 ms default is an outage threshold, not what is tested here.
            .UseRedis(redis, options =>
            {
                options.KeyNamespace = keyNamespace;
                options.OperationTimeout = TimeSpan.FromSeconds(10);
            })
            .AddCachedPreferenceRepository<DapperPreferenceRepository>(ServiceLifetime.Singleton);
        register?.Invoke(caching);
        return new TestStack(services.BuildServiceProvider(), database, logs, keyNamespace);
    }

    public async ValueTask DisposeAsync()
    {
        await Services.DisposeAsync();
        await Cache.DeleteNamespaceAsync();
    }
}
