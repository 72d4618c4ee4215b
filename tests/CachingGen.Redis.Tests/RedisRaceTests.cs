using System.Buffers.Binary;
using CachingGen.Storage;
using static CachingGen.Redis.Tests.RedisTestEnvironment;

namespace CachingGen.Redis.Tests;

/// <summary>Read-through fills racing writes: whatever the interleaving, the cache never ends up holding a value older
/// than the last write that finished before the fill was stored.</summary>
public sealed class RedisRaceTests
{
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);

    private static byte[] Encode(long version)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(bytes, version);
        return bytes;
    }

    /// <summary>One simulated read-through: miss, read the "database", fill with the token of the miss.</summary>
    private static async Task ReadThroughAsync(ICacheStore store, string key, Func<long> database)
    {
        var lookup = await store.GetAsync(key, CancellationToken.None);
        if (!lookup.Found)
        {
            var value = database();

            // Half the fills are slow (the database read took a while): they land after the racing write.
            if (Random.Shared.Next(2) == 0)
            {
                await Task.Delay(1);
            }
            else
            {
                await Task.Yield();
            }

            await store.TryFillAsync(key, Encode(value), Minute, lookup.FillToken, CancellationToken.None);
        }
    }

    [RedisFact]
    public async Task Fill_racing_invalidate_never_leaves_a_stale_value()
    {
        var store = NewStore();
        const int iterations = 400;
        for (var i = 0; i < iterations; i++)
        {
            var key = $"race:{i}";
            long database = 0;
            using var start = new ManualResetEventSlim(false);
            var readers = Enumerable.Range(0, 3).Select(_ => Task.Run(async () =>
            {
                start.Wait();
                await ReadThroughAsync(store, key, () => Interlocked.Read(ref database));
            })).ToArray();
            var writer = Task.Run(async () =>
            {
                start.Wait();

                // Write-around: database first, then invalidate the cache.
                Interlocked.Exchange(ref database, 1);
                await store.InvalidateAsync([key], null, CancellationToken.None);
            });
            start.Set();
            await Task.WhenAll(readers.Append(writer));

            // One more read-through after the writes: only the newest value may ever be cached.
            await ReadThroughAsync(store, key, () => Interlocked.Read(ref database));
            var final = await store.GetAsync(key, CancellationToken.None);
            if (final.Found)
            {
                Assert.Equal(1, BinaryPrimitives.ReadInt64BigEndian(final.Value.Span));
            }
        }
    }

    [RedisFact]
    public async Task Fill_racing_repeated_writes_converges_on_the_last_write()
    {
        var store = NewStore();
        const int iterations = 150;
        for (var i = 0; i < iterations; i++)
        {
            var key = $"race-multi:{i}";
            long database = 0;
            using var start = new ManualResetEventSlim(false);
            var readers = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
            {
                start.Wait();
                for (var r = 0; r < 5; r++)
                {
                    await ReadThroughAsync(store, key, () => Interlocked.Read(ref database));
                }
            })).ToArray();
            var writer = Task.Run(async () =>
            {
                start.Wait();
                for (var w = 1; w <= 5; w++)
                {
                    Interlocked.Exchange(ref database, w);
                    if (w % 2 == 0)
                    {
                        await store.SetManyAsync([new CacheEntry(key, Encode(w), Minute)], CancellationToken.None);
                    }
                    else
                    {
                        await store.InvalidateAsync([key], null, CancellationToken.None);
                    }
                }
            });
            start.Set();
            await Task.WhenAll(readers.Append(writer));

            var final = await store.GetAsync(key, CancellationToken.None);
            if (final.Found)
            {
                Assert.Equal(5, BinaryPrimitives.ReadInt64BigEndian(final.Value.Span));
            }
        }
    }
}
