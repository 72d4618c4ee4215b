using BenchmarkDotNet.Attributes;
using CachingGen.Benchmarks.Decorators;
using CachingGen.Benchmarks.Entities;
using CachingGen.Benchmarks.Infrastructure;

namespace CachingGen.Benchmarks.Redis;

/// <summary>A read hit (the entry is in Redis) or a read miss (a key never read before: inner call and fill).</summary>
public enum ReadOutcome
{
    Hit,
    Miss,
}

/// <summary>
/// Issue 6.3 (and issue 3): reads of one preference on the real Redis through the generated decorator, hand-written
/// StackExchange.Redis + MessagePack code (the baseline), HybridCache with Redis as L2 and its local cache disabled,
/// and FusionCache with Redis as its distributed level and its memory level bypassed. Every invocation performs
/// <see cref="Batch"/> reads, one after another (<c>Callers = 1</c>: round-trip latency) or all at once
/// (<c>Callers = 16</c>: pipelined, so the client's CPU cost dominates); the time shown is per read.
/// </summary>
[BenchmarkCategory("redis", "needs-redis")]
public class RedisReadBenchmarks
{
    public const int Batch = 16;
    private readonly ValueTask<Preference?>[] _pending = new ValueTask<Preference?>[Batch];
    private InMemoryPreferenceRepository _inner = null!;
    private PreferenceReader _reader = null!;
    private long _missReads;

    /// <summary>Miss ids are never reused in a process: a later configuration (or contender instance) must not read a
    /// key an earlier one filled, which would still be cached (10 s) and turn its misses into hits.</summary>
    private static long s_nextMissId = 1_000_000;

    [Params(ReadOutcome.Hit, ReadOutcome.Miss)]
    public ReadOutcome Outcome { get; set; }

    [Params(1, 16)]
    public int Callers { get; set; }

    [GlobalSetup(Target = nameof(HandWritten))]
    public void SetupHandWritten() => Setup(PreferenceReader.HandWrittenRedis(_inner = new InMemoryPreferenceRepository()));

    [GlobalSetup(Target = nameof(Generated))]
    public void SetupGenerated() => Setup(PreferenceReader.Generated(CacheLevel.Redis, _inner = new InMemoryPreferenceRepository()));

    [GlobalSetup(Target = nameof(HybridCache))]
    public void SetupHybridCache() => Setup(PreferenceReader.HybridCache(CacheLevel.Redis, _inner = new InMemoryPreferenceRepository()));

    [GlobalSetup(Target = nameof(FusionCache))]
    public void SetupFusionCache() => Setup(PreferenceReader.FusionCache(CacheLevel.Redis, _inner = new InMemoryPreferenceRepository()));

    [GlobalCleanup]
    public void Cleanup()
    {
        var reads = _inner.Reads;
        _reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
        RedisBenchmarkEnvironment.DeleteRunKeys();
        if (Outcome == ReadOutcome.Hit && reads != 0)
        {
            throw new InvalidOperationException($"A read-hit benchmark reached the inner repository {reads} times: the seeded entries were not hits.");
        }

        if (Outcome == ReadOutcome.Miss && reads != _missReads)
        {
            throw new InvalidOperationException($"A read-miss benchmark reached the inner repository {reads} times for {_missReads} reads of new keys: each must load exactly once.");
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Batch, Description = "hand-written StackExchange.Redis + MessagePack")]
    public Task HandWritten() => ReadBatchAsync();

    [Benchmark(OperationsPerInvoke = Batch, Description = "CachingGen generated decorator")]
    public Task Generated() => ReadBatchAsync();

    [Benchmark(OperationsPerInvoke = Batch, Description = "HybridCache (L2 only)")]
    public Task HybridCache() => ReadBatchAsync();

    [Benchmark(OperationsPerInvoke = Batch, Description = "FusionCache (distributed only)")]
    public Task FusionCache() => ReadBatchAsync();

    private void Setup(PreferenceReader reader)
    {
        _reader = reader;
        for (var id = 1; id <= Batch; id++)
        {
            reader.SeedAsync(SampleData.Preference(id)).AsTask().GetAwaiter().GetResult();
        }

        // Every contender must answer what was seeded, from the cache.
        for (var id = 1; id <= Batch; id++)
        {
            var read = reader.GetAsync(id).AsTask().GetAwaiter().GetResult();
            if (read != SampleData.Preference(id))
            {
                throw new InvalidOperationException($"{reader.GetType().Name} read {read} for seeded user {id}.");
            }
        }

        if (_inner.Reads != 0)
        {
            throw new InvalidOperationException($"{reader.GetType().Name} missed a seeded entry.");
        }
    }

    private long IdOf(int index)
    {
        if (Outcome == ReadOutcome.Hit)
        {
            return index + 1;
        }

        _missReads++;
        return Interlocked.Increment(ref s_nextMissId);
    }

    private async Task ReadBatchAsync()
    {
        if (Callers == 1)
        {
            for (var i = 0; i < Batch; i++)
            {
                if (await _reader.GetAsync(IdOf(i)).ConfigureAwait(false) is null)
                {
                    throw new InvalidOperationException("A read returned null.");
                }
            }

            return;
        }

        // Sixteen callers, each awaiting its own read: all are in flight before the first is awaited. Awaiting the
        // ValueTasks (not Task.WhenAll over AsTask()) charges each contender what an awaiting caller pays: AsTask() would
        // add a Task wrapper to any contender whose ValueTask is pooled, which no caller that awaits ever allocates.
        for (var i = 0; i < Batch; i++)
        {
            _pending[i] = _reader.GetAsync(IdOf(i));
        }

        for (var i = 0; i < Batch; i++)
        {
            if (await _pending[i].ConfigureAwait(false) is null)
            {
                throw new InvalidOperationException("A read returned null.");
            }
        }
    }
}
