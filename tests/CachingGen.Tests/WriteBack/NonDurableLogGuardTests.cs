using CachingGen.Runtime;
using CachingGen.Storage;
using CachingGen.Tests.Support;
using CachingGen.WriteBack;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Sample;

namespace CachingGen.Tests.WriteBack;

/// <summary>
/// A repository with [WriteBack] methods refuses to run on a non-durable write-back log unless that was chosen
/// explicitly (CGEN027 is the compile-time half of this rule).
/// </summary>
public sealed class NonDurableLogGuardTests
{
    [Fact]
    public async Task Host_refuses_to_start_a_write_back_repository_on_the_implicit_in_memory_log()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddSingleton(new FakePreferenceDatabase());
        builder.Services.AddCachingGen(o => o.ShardCount = 2).AddCachedPreferenceRepository<ScopedPreferenceRepository>();
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());
        Assert.Contains("'Sample.IPreferenceRepository' has [WriteBack] methods", error.Message);
        Assert.Contains("InMemoryWriteBackLog", error.Message);
        Assert.Contains("UseRedisWriteBackLog", error.Message);
        Assert.Contains("UseInMemoryWriteBackLog()", error.Message);
        Assert.Contains("AllowNonDurableWriteBack", error.Message);
    }

    [Fact]
    public void UseInMemoryWriteBackLog_accepts_the_in_memory_log_and_replaces_another_one()
    {
        var services = new ServiceCollection();
        services.AddSingleton(new FakePreferenceDatabase());
        var other = new FaultyWriteBackLog(new InMemoryWriteBackLog(new InMemoryCacheStore()));
        services.AddSingleton<IWriteBackLog>(other);
        services.AddCachingGen(o => o.RunWriteBackFlusher = false).UseInMemoryWriteBackLog().AddCachedPreferenceRepository<ScopedPreferenceRepository>();
        using var provider = services.BuildServiceProvider();

        var runtime = provider.GetRequiredService<CachingGenRuntime>();
        Assert.IsType<InMemoryWriteBackLog>(runtime.WriteBackLog);
        Assert.True(runtime.Options.AllowNonDurableWriteBack);
        using var scope = provider.CreateScope();
        Assert.NotNull(scope.ServiceProvider.GetRequiredService<IPreferenceRepository>());
    }

    [Fact]
    public void The_options_flag_accepts_the_in_memory_log()
    {
        var services = new ServiceCollection();
        services.AddSingleton(new FakePreferenceDatabase());
        services.AddCachingGen(o => o.AllowNonDurableWriteBack = true).AddCachedPreferenceRepository<ScopedPreferenceRepository>();
        using var provider = services.BuildServiceProvider();
        Assert.IsType<InMemoryWriteBackLog>(provider.GetRequiredService<CachingGenRuntime>().WriteBackLog);
    }

    [Fact]
    public void A_durable_log_needs_no_opt_in()
    {
        var services = new ServiceCollection();
        services.AddSingleton(new FakePreferenceDatabase());
        services.AddSingleton<IWriteBackLog>(new FaultyWriteBackLog(new InMemoryWriteBackLog(new InMemoryCacheStore())) { ClaimsDurable = true });
        services.AddCachingGen().AddCachedPreferenceRepository<ScopedPreferenceRepository>();
        using var provider = services.BuildServiceProvider();
        Assert.True(provider.GetRequiredService<CachingGenRuntime>().WriteBackLog.IsDurable);
    }

    [Fact]
    public void Without_dependency_injection_only_write_back_repositories_are_refused()
    {
        var store = new InMemoryCacheStore();
        using var runtime = new CachingGenRuntime(store, new InMemoryWriteBackLog(store), new InMemoryWriteBackTransactionFactory(),
            Array.Empty<IWriteBackDispatcher>(), Microsoft.Extensions.Options.Options.Create(new CachingGenOptions()), TimeProvider.System, NullLoggerFactory.Instance);

        var error = Assert.Throws<InvalidOperationException>(() => runtime.GetEntityCache<Preference>(Harness.Descriptor));
        Assert.Contains("'Sample.IPreferenceRepository' has [WriteBack] methods", error.Message);
        Assert.Throws<InvalidOperationException>(() => new CachedPreferenceRepository(new FakePreferenceDatabase(), runtime));

        var readOnly = Harness.Descriptor with { Name = "Sample.IReadOnlyPreferences", HasWriteBack = false };
        Assert.NotNull(runtime.GetEntityCache<Preference>(readOnly));
    }

    [Fact]
    public async Task CreateInMemory_is_an_explicit_choice_of_the_in_memory_log()
    {
        await using var runtime = CachingGenRuntime.CreateInMemory();
        Assert.False(runtime.WriteBackLog.IsDurable);
        Assert.NotNull(runtime.GetEntityCache<Preference>(Harness.Descriptor));
    }
}
