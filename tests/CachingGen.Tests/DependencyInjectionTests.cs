using CachingGen.Runtime;
using CachingGen.Storage;
using CachingGen.Tests.Support;
using CachingGen.WriteBack;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sample;

namespace CachingGen.Tests;

/// <summary>The inner repository as an application registers it: scoped, over a shared database.</summary>
public sealed class ScopedPreferenceRepository(FakePreferenceDatabase database) : IPreferenceRepository
{
    private static int s_instances;

    public static int Instances => Volatile.Read(ref s_instances);

    public FakePreferenceDatabase Database { get; } = Count(database);

    public ValueTask<Preference?> GetAsync(long userId, CancellationToken ct = default) => Database.GetAsync(userId, ct);

    public Task SaveAsync(Preference preference, CancellationToken ct = default) => Database.SaveAsync(preference, ct);

    public Task SaveManyAsync(IReadOnlyList<Preference> preferences, CancellationToken ct = default) => Database.SaveManyAsync(preferences, ct);

    public Task UpdateAsync(Preference preference, CancellationToken ct = default) => Database.UpdateAsync(preference, ct);

    public Task DeleteAsync(long userId, CancellationToken ct = default) => Database.DeleteAsync(userId, ct);

    public Task<int> CountAsync(CancellationToken ct = default) => Database.CountAsync(ct);

    private static FakePreferenceDatabase Count(FakePreferenceDatabase database)
    {
        Interlocked.Increment(ref s_instances);
        return database;
    }
}

public sealed class DependencyInjectionTests
{
    [Fact]
    public async Task Host_runs_the_decorator_and_flushes_write_back_through_a_scoped_inner_repository()
    {
        var database = new FakePreferenceDatabase();
        var loggers = new CapturingLoggerFactory();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddSingleton(database);
        builder.Services.AddSingleton<ILoggerFactory>(loggers);
        builder.Services.AddCachingGen(o => o.ShardCount = 2).UseInMemoryWriteBackLog().AddCachedPreferenceRepository<ScopedPreferenceRepository>();
        using var host = builder.Build();
        await host.StartAsync();

        var runtime = host.Services.GetRequiredService<CachingGenRuntime>();
        Assert.IsType<InMemoryCacheStore>(host.Services.GetRequiredService<ICacheStore>());
        Assert.IsType<InMemoryWriteBackLog>(host.Services.GetRequiredService<IWriteBackLog>());
        Assert.True(runtime.WriteBack.IsRunning);
        Assert.Contains(loggers.Entries, e => e.EventId == 1001);

        await using (var scope = host.Services.CreateAsyncScope())
        {
            var repository = scope.ServiceProvider.GetRequiredService<IPreferenceRepository>();
            Assert.IsType<CachedPreferenceRepository>(repository);
            database.Seed(new Preference(1, 1, "email", true));
            Assert.Equal("email", (await repository.GetAsync(1))!.Channel);
            Assert.Equal("email", (await repository.GetAsync(1))!.Channel);
            Assert.Equal(1, database.Gets);

            await repository.SaveAsync(new Preference(2, 1, "sms", true));
            Assert.Equal(1, database.Saves);

            // The DI dispatcher (resolving the inner repository per flush scope) wins over the decorator's bound one.
            var dispatcher = runtime.GetDispatcher("Sample.IPreferenceRepository");
            Assert.Same(host.Services.GetServices<IWriteBackDispatcher>().Single(), dispatcher);

            var instances = ScopedPreferenceRepository.Instances;
            await repository.UpdateAsync(new Preference(3, 5, "push", true));
            await Eventually.TrueAsync(() => database.Updates == 1, "the hosted flusher applied the write-back record");
            Assert.True(ScopedPreferenceRepository.Instances > instances);
        }

        await using (var scope = host.Services.CreateAsyncScope())
        {
            var repository = scope.ServiceProvider.GetRequiredService<IPreferenceRepository>();
            await repository.UpdateAsync(new Preference(4, 1, "push", true));
        }

        await host.StopAsync();
        Assert.False(runtime.WriteBack.IsRunning);
        Assert.True(database.Rows.ContainsKey(4));
        Assert.Equal(0, await runtime.WriteBack.GetBacklogAsync());
    }

    [Fact]
    public void Stores_registered_before_AddCachingGen_replace_the_in_memory_ones()
    {
        var services = new ServiceCollection();
        var custom = new InMemoryCacheStore();
        services.AddSingleton<ICacheStore>(custom);
        services.AddCachingGen();
        services.AddCachingGen();
        using var provider = services.BuildServiceProvider();
        Assert.Same(custom, provider.GetRequiredService<ICacheStore>());
        Assert.Same(custom, provider.GetRequiredService<CachingGenRuntime>().Store);
        Assert.Single(provider.GetServices<IHostedService>());
        Assert.Same(TimeProvider.System, provider.GetRequiredService<TimeProvider>());
    }

    [Fact]
    public async Task The_flusher_can_be_left_to_the_application()
    {
        var services = new ServiceCollection();
        services.AddSingleton(new FakePreferenceDatabase());
        services.AddCachingGen(o => o.RunWriteBackFlusher = false).UseInMemoryWriteBackLog().AddCachedPreferenceRepository<ScopedPreferenceRepository>(ServiceLifetime.Transient);
        await using var provider = services.BuildServiceProvider();
        foreach (var hosted in provider.GetServices<IHostedService>())
        {
            await hosted.StartAsync(CancellationToken.None);
        }

        var runtime = provider.GetRequiredService<CachingGenRuntime>();
        Assert.False(runtime.WriteBack.IsRunning);
        await provider.GetRequiredService<IPreferenceRepository>().UpdateAsync(new Preference(1, 1, "x", true));
        await runtime.WriteBack.FlushAsync();
        Assert.Equal(1, provider.GetRequiredService<FakePreferenceDatabase>().Updates);
    }
}
