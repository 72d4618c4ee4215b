using CachingGen.Storage;
using CachingGen.Tests.Support;
using CachingGen.WriteBack;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace CachingGen.Tests.WriteBack;

public sealed class WriteBackCoordinatorTests
{
    private static (WriteBackCoordinator Coordinator, FaultyWriteBackLog Log, List<string> Unavailable) Create()
    {
        var time = new FakeTimeProvider();
        var store = new InMemoryCacheStore(time, TimeSpan.FromSeconds(10));
        var log = new FaultyWriteBackLog(new InMemoryWriteBackLog(store, 2, NullLogger<InMemoryWriteBackLog>.Instance, time));
        var unavailable = new List<string>();
        var coordinator = new WriteBackCoordinator(64, log, TimeSpan.FromSeconds(5), (key, _) => unavailable.Add(key));
        return (coordinator, log, unavailable);
    }

    [Fact]
    public async Task SettleMany_settles_the_free_keys_together_and_defers_a_key_whose_direct_write_holds_its_gate()
    {
        var (coordinator, log, _) = Create();
        var failures = new List<(string Key, Exception Exception)>();
        using (await coordinator.EnterAsync("pref:1", CancellationToken.None))
        {
            await coordinator.SettleManyAsync([("pref:1", TimeSpan.FromMinutes(1)), ("pref:2", TimeSpan.FromMinutes(1)), ("pref:3", null)], failures.Add);
            Assert.Equal(new[] { "pref:2", "pref:3" }, log.Settled.Order());
            Assert.True(coordinator.HasDeferred);
        }

        await coordinator.ApplyDeferredAsync(CancellationToken.None);
        Assert.Equal(new[] { "pref:1", "pref:2", "pref:3" }, log.Settled.Order());
        Assert.False(coordinator.HasDeferred);
        Assert.Empty(failures);

        // The gates were released: a direct write of any of the keys enters at once.
        using var again = await coordinator.EnterAsync("pref:2", CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task SettleMany_hands_every_key_of_a_failed_call_to_the_runtime_when_the_store_is_unavailable()
    {
        var (coordinator, log, unavailable) = Create();
        log.SettleUnavailable = true;
        var failures = new List<(string Key, Exception Exception)>();
        await coordinator.SettleManyAsync([("pref:1", TimeSpan.FromMinutes(1)), ("pref:2", null)], failures.Add);

        Assert.Contains("pref:1", unavailable);
        Assert.Contains("pref:2", unavailable);
        Assert.Empty(failures);
        using var again = await coordinator.EnterAsync("pref:1", CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(5));
    }
}
