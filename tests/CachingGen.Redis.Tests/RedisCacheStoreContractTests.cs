using CachingGen.Storage;
using CachingGen.Tests.Storage;

namespace CachingGen.Redis.Tests;

/// <summary>The store contract suite on the real redis-server. Redis expires keys on its own clock, so time moves
/// by waiting out short real TTLs.</summary>
public sealed class RedisCacheStoreContractTests : CacheStoreContractTests
{
    // The contract's own ShortTimeToLive (1 s), not less: the suite reads an entry back right after writing it with
    // that TTL and expects it there, and a loaded 2-core CI machine has been seen to stall a test for close to a second
    // (RedisTestEnvironment.FailFastBound). Each expiry test waits two TTLs, so this costs about 12 s in all.
    protected override TimeSpan LongWait => TimeSpan.FromSeconds(2);

    protected override ICacheStore CreateStore() => RedisTestEnvironment.NewStore();

    protected override Task AdvanceAsync(TimeSpan elapsed) => Task.Delay(elapsed);
}
