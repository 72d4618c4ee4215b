using CachingGen.Storage;
using Microsoft.Extensions.Time.Testing;

namespace CachingGen.Tests.Storage;

public sealed class InMemoryCacheStoreContractTests : CacheStoreContractTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));

    protected override ICacheStore CreateStore() => new InMemoryCacheStore(_time, TimeSpan.FromSeconds(60));

    protected override Task AdvanceAsync(TimeSpan elapsed)
    {
        _time.Advance(elapsed);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Invalidation_tombstone_lives_at_least_the_fill_time_to_live()
    {
        var store = CreateStore();
        var key = NewKey();
        await store.InvalidateAsync(new[] { key }, TimeSpan.FromSeconds(120), CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(90));
        Assert.Equal(TimeSpan.FromSeconds(120), (await store.GetAsync(key, CancellationToken.None)).FillTimeToLive);
        _time.Advance(TimeSpan.FromSeconds(31));
        Assert.Null((await store.GetAsync(key, CancellationToken.None)).FillTimeToLive);
    }

    [Fact]
    public async Task Invalidation_tombstone_lives_at_least_the_tombstone_lifetime()
    {
        var store = CreateStore();
        var key = NewKey();
        var miss = await store.GetAsync(key, CancellationToken.None);
        await store.InvalidateAsync(new[] { key }, TimeSpan.FromSeconds(5), CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(TimeSpan.FromSeconds(5), (await store.GetAsync(key, CancellationToken.None)).FillTimeToLive);
        Assert.False(await store.TryFillAsync(key, Bytes("stale"), TimeSpan.FromMinutes(1), miss.FillToken, CancellationToken.None));
    }

    [Fact]
    public async Task Count_and_sweep_drop_dead_entries()
    {
        var store = new InMemoryCacheStore(_time, TimeSpan.FromSeconds(1));
        await store.SetManyAsync(new[] { new CacheEntry("a", Bytes("1"), TimeSpan.FromSeconds(1)), new CacheEntry("b", Bytes("2"), null) }, CancellationToken.None);
        Assert.Equal(2, store.Count);
        _time.Advance(TimeSpan.FromSeconds(5));
        store.Sweep();
        Assert.Equal(1, store.Count);
    }
}
