using System.Text;
using CachingGen.Storage;
using static CachingGen.Redis.Tests.RedisTestEnvironment;

namespace CachingGen.Redis.Tests;

/// <summary>Real, short time to lives: each test waits by polling with a generous deadline; no fixed sleep decides a
/// result.</summary>
public sealed class RedisExpiryTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);
    private static readonly CancellationToken None = CancellationToken.None;

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    [RedisFact]
    public async Task Filled_value_expires_after_its_ttl()
    {
        var store = NewStore();
        Assert.True(await store.TryFillAsync("k", Bytes("v"), TimeSpan.FromMilliseconds(300), 0, None));
        Assert.True(await EventuallyAsync(async () => !(await store.GetAsync("k", None)).Found, Deadline));
        Assert.Equal(0, (await store.GetAsync("k", None)).FillToken);
    }

    [RedisFact]
    public async Task Set_value_expires_after_its_ttl()
    {
        var store = NewStore();
        await store.SetManyAsync([new CacheEntry("k", Bytes("v"), TimeSpan.FromMilliseconds(300))], None);
        Assert.True(await EventuallyAsync(async () => !(await store.GetAsync("k", None)).Found, Deadline));
    }

    [RedisFact]
    public async Task Tombstone_expires_after_the_tombstone_lifetime()
    {
        var store = NewStore(configure: o => o.TombstoneLifetime = TimeSpan.FromMilliseconds(300));
        await store.InvalidateAsync(["k"], null, None);
        Assert.NotEqual(0, (await store.GetAsync("k", None)).FillToken);
        Assert.True(await EventuallyAsync(async () => (await store.GetAsync("k", None)).FillToken == 0, Deadline));
    }

    [RedisFact]
    public async Task Pinned_entry_outlives_short_ttls_until_expire_gives_it_one()
    {
        var store = NewStore();
        await store.SetManyAsync(
        [
            new CacheEntry("pinned", Bytes("p"), null),
            new CacheEntry("short", Bytes("s"), TimeSpan.FromMilliseconds(300)),
        ], None);

        // The neighbour written in the same batch expires; the pinned entry stays, with no TTL at all.
        Assert.True(await EventuallyAsync(async () => !(await store.GetAsync("short", None)).Found, Deadline));
        Assert.True((await store.GetAsync("pinned", None)).Found);
        Assert.Null(await Shared.GetDatabase().KeyTimeToLiveAsync(store.GetRedisKey("pinned")));

        Assert.True(await store.ExpireAsync("pinned", TimeSpan.FromMilliseconds(300), None));
        Assert.True(await EventuallyAsync(async () => !(await store.GetAsync("pinned", None)).Found, Deadline));
        Assert.False(await store.ExpireAsync("pinned", TimeSpan.FromSeconds(1), None));
    }

    [RedisFact]
    public async Task Sub_millisecond_ttls_round_up_to_one_millisecond()
    {
        var store = NewStore();
        await store.SetManyAsync([new CacheEntry("k", Bytes("v"), TimeSpan.FromTicks(10))], None);
        Assert.True(await EventuallyAsync(async () => !(await store.GetAsync("k", None)).Found, Deadline));
        Assert.True(await store.TryFillAsync("f", Bytes("v"), TimeSpan.FromTicks(1), 0, None));
    }
}
