using System.Diagnostics;
using System.Globalization;
using CachingGen.Benchmarks.Decorators;
using CachingGen.Benchmarks.Entities;
using CachingGen.Benchmarks.Infrastructure;

namespace CachingGen.Benchmarks.Redis;

/// <summary><c>-- --profile-redis-miss [seconds]</c>: read misses on Redis, 16 at once, through the hand-written
/// baseline and the generated decorator in turn (interleaved rounds), with reads per second and bytes allocated per
/// read; a run to attach a profiler to, and a quick check of the miss ratio between two benchmark runs.
/// CACHINGGEN_PROFILE_OUTCOME=hit reads 16 seeded keys instead; CACHINGGEN_PROFILE_ONLY=generated|hand-written runs one;
/// CACHINGGEN_PROFILE_CALLERS=1 reads one key at a time (round-trip latency instead of client CPU).</summary>
public static class RedisMissProfile
{
    public static async Task RunAsync(double seconds)
    {
        var contenders = new (string Name, Func<InMemoryPreferenceRepository, PreferenceReader> Create)[]
        {
            ("hand-written", inner => PreferenceReader.HandWrittenRedis(inner)),
            ("generated", inner => PreferenceReader.Generated(CacheLevel.Redis, inner)),
        };
        var only = Environment.GetEnvironmentVariable("CACHINGGEN_PROFILE_ONLY");
        var hits = Environment.GetEnvironmentVariable("CACHINGGEN_PROFILE_OUTCOME") == "hit";
        var oneCaller = Environment.GetEnvironmentVariable("CACHINGGEN_PROFILE_CALLERS") == "1";
        var nextId = 10_000_000L + Environment.ProcessId * 1_000_000L;
        var pending = new ValueTask<Preference?>[RedisReadBenchmarks.Batch];
        for (var round = 0; round < 3; round++)
        {
            foreach (var (name, create) in contenders)
            {
                if (only is not null && only != name)
                {
                    continue;
                }

                var reader = create(new InMemoryPreferenceRepository());
                if (hits)
                {
                    for (var id = 1; id <= pending.Length; id++)
                    {
                        await reader.SeedAsync(SampleData.Preference(id)).ConfigureAwait(false);
                    }
                }

                var reads = 0L;
                var allocated = GC.GetTotalAllocatedBytes(precise: true);
                var clock = Stopwatch.StartNew();
                while (clock.Elapsed.TotalSeconds < seconds)
                {
                    for (var i = 0; i < pending.Length; i++)
                    {
                        pending[i] = reader.GetAsync(hits ? i + 1 : ++nextId);
                        if (oneCaller)
                        {
                            await pending[i].ConfigureAwait(false);
                            pending[i] = default;
                        }
                    }

                    // As RedisReadBenchmarks: every read is in flight before the first is awaited.
                    for (var i = 0; i < pending.Length; i++)
                    {
                        await pending[i].ConfigureAwait(false);
                    }
                    reads += pending.Length;
                }

                var elapsed = clock.Elapsed;
                allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;
                await reader.DisposeAsync().ConfigureAwait(false);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"[profile] round {round + 1} {(hits ? "hit" : "miss")} {name,-13} {elapsed.TotalMilliseconds * 1000 / reads,7:0.0} µs/read  {allocated / reads,6} B/read"));
            }
        }
    }
}
