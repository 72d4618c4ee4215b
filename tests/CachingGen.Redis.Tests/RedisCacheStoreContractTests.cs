using CachingGen.Storage;
using CachingGen.Tests.Storage;

namespace CachingGen.Redis.Tests;

/// <summary>The store contract suite on the real redis-server. Redis expires keys on its own clock, so time moves
/// by waiting out short real TTLs.</summary>
public sealed class RedisCacheStoreContractTests : CacheStoreContractTests
{
    protected override TimeSpan ShortTimeToLive => TimeSpan.FromMilliseconds(400);

    protected override TimeSpan LongWait => TimeSpan.FromSeconds(2);

    protected override ICacheStore CreateStore() => RedisTestEnvironment.NewStore();

    protected override Task AdvanceAsync(TimeSpan elapsed) => Task.Delay(elapsed);
}
