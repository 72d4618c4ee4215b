using BenchmarkDotNet.Attributes;
using CachingGen.Benchmarks.Entities;
using CachingGen.Benchmarks.Infrastructure;

namespace CachingGen.Benchmarks.Stampede;

/// <summary>
/// Issue 6.4: 1,000 concurrent reads of one key that is in no cache. The inner repository takes ~1 ms per call
/// (a fast database round trip, <see cref="SimulatedRoundTrip"/>; not <see cref="Task.Delay(TimeSpan)"/>, whose end the
/// runtime's 4 ms tick decides here) and counts its calls; the goal is one inner call
/// per stampede, and all 1,000 callers served no slower than HybridCache and FusionCache. The time shown is the time
/// to serve all 1,000; the inner calls per stampede (the largest seen) go to facts.json.
/// <c>Memory</c>: every library in process only. <c>RedisWithLocal</c>: Redis behind the libraries' own local levels,
/// CachingGen on its Redis store (it has no local level).
/// </summary>
[BenchmarkCategory("stampede")]
public class StampedeBenchmarks
{
    public const int Callers = 1000;
    private static readonly TimeSpan DatabaseLatency = TimeSpan.FromMilliseconds(1);
    private readonly Task<Preference?>[] _pending = new Task<Preference?>[Callers];
    private SlowRepository _inner = null!;
    private PreferenceReader _reader = null!;
    private string _contender = null!;
    private long _nextId;

    [Params(CacheLevel.Memory, CacheLevel.RedisWithLocal)]
    public CacheLevel Level { get; set; }

    [GlobalSetup(Target = nameof(Generated))]
    public void SetupGenerated() => Setup("Generated", inner => PreferenceReader.Generated(Level, inner));

    [GlobalSetup(Target = nameof(HybridCache))]
    public void SetupHybridCache() => Setup("HybridCache", inner => PreferenceReader.HybridCache(Level, inner));

    [GlobalSetup(Target = nameof(FusionCache))]
    public void SetupFusionCache() => Setup("FusionCache", inner => PreferenceReader.FusionCache(Level, inner));

    /// <summary>Disposes the reader and, on Redis, deletes the run's keys (see <see cref="RedisBenchmarkEnvironment.DeleteRunKeys"/>),
    /// so that what a stampede filled neither expires during the cases that follow nor meets a check that reads the run's keys.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _inner.Dispose();
        if (Level != CacheLevel.Memory)
        {
            RedisBenchmarkEnvironment.DeleteRunKeys();
        }
    }

    [Benchmark(Baseline = true, Description = "CachingGen generated decorator")]
    public Task Generated() => StampedeAsync();

    [Benchmark(Description = "HybridCache")]
    public Task HybridCache() => StampedeAsync();

    [Benchmark(Description = "FusionCache")]
    public Task FusionCache() => StampedeAsync();

    private void Setup(string contender, Func<SlowRepository, PreferenceReader> create)
    {
        _contender = contender;
        _inner = new SlowRepository();
        _reader = create(_inner);
        _nextId = 2_000_000 + Random.Shared.Next(1_000_000) * 1000L;
    }

    private async Task StampedeAsync()
    {
        var id = Interlocked.Increment(ref _nextId);
        var before = _inner.Calls;
        for (var i = 0; i < Callers; i++)
        {
            _pending[i] = _reader.GetAsync(id).AsTask();
        }

        await Task.WhenAll(_pending).ConfigureAwait(false);
        var calls = _inner.Calls - before;
        BenchmarkFacts.Max($"stampede.{Level}.{_contender}.maxInnerCalls", calls);
        for (var i = 0; i < Callers; i++)
        {
            if (_pending[i].Result?.UserId != id)
            {
                throw new InvalidOperationException($"Caller {i} of the stampede on {id} got {_pending[i].Result}.");
            }
        }
    }

    /// <summary>A database that takes <see cref="DatabaseLatency"/> per read and counts its reads.</summary>
    private sealed class SlowRepository : IPreferenceRepository, IDisposable
    {
        private readonly SimulatedRoundTrip _roundTrip = new(DatabaseLatency);
        private long _calls;

        public long Calls => Interlocked.Read(ref _calls);

        public async ValueTask<Preference?> GetAsync(long userId, CancellationToken ct = default)
        {
            Interlocked.Increment(ref _calls);
            await _roundTrip.WaitAsync(ct).ConfigureAwait(false);
            return SampleData.Preference(userId);
        }

        public Task SaveAsync(Preference preference, CancellationToken ct = default) => Task.CompletedTask;

        public void Dispose() => _roundTrip.Dispose();
    }
}
