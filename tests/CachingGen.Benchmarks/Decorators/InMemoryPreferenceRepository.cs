using CachingGen.Benchmarks.Entities;

namespace CachingGen.Benchmarks.Decorators;

/// <summary>The "database" of the benchmarks: answers at once, so a benchmark measures the cache path, and counts its calls.</summary>
public sealed class InMemoryPreferenceRepository : IPreferenceRepository
{
    private long _reads;

    public long Reads => Interlocked.Read(ref _reads);

    public ValueTask<Preference?> GetAsync(long userId, CancellationToken ct = default)
    {
        Interlocked.Increment(ref _reads);
        return new ValueTask<Preference?>(SampleData.Preference(userId));
    }

    public Task SaveAsync(Preference preference, CancellationToken ct = default) => Task.CompletedTask;
}
