using System.Text;
using CachingGen.Storage;

namespace CachingGen.Tests.Storage;

/// <summary>A store written before versioned entries existed implements neither versioned member: the interface's
/// defaults keep a versioned write-through safe on it (nothing stored that could be older, pins kept).</summary>
public sealed class StoreWithoutVersionsTests
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task Versioned_fills_store_plain_values_and_versioned_writes_invalidate_all_but_pins()
    {
        ICacheStore store = new StoreWithoutVersions(new InMemoryCacheStore());
        var miss = await store.GetAsync("filled", None);
        Assert.True(await store.TryFillVersionedAsync("filled", Encoding.UTF8.GetBytes("v1"), 1, Minute, miss.FillToken, None));
        Assert.True((await store.GetAsync("filled", None)).Found);
        await store.SetManyAsync([new CacheEntry("pinned", Encoding.UTF8.GetBytes("wb"), null)], None);

        var outcomes = await store.SetIfNewerAsync(
            [new VersionedEntry("filled", Encoding.UTF8.GetBytes("v2"), 2, Minute), new VersionedEntry("pinned", Encoding.UTF8.GetBytes("v2"), 2, Minute), new VersionedEntry("absent", Encoding.UTF8.GetBytes("v2"), 2, Minute)],
            None);

        Assert.Equal([VersionedWriteOutcome.Invalidated, VersionedWriteOutcome.PinnedKept, VersionedWriteOutcome.Invalidated], outcomes);
        Assert.False((await store.GetAsync("filled", None)).Found);
        Assert.Equal("wb", Encoding.UTF8.GetString((await store.GetAsync("pinned", None)).Value.Span));
    }

    private sealed class StoreWithoutVersions(ICacheStore inner) : ICacheStore
    {
        public ValueTask<CacheLookup> GetAsync(string key, CancellationToken cancellationToken) => inner.GetAsync(key, cancellationToken);

        public ValueTask<bool> TryFillAsync(string key, ReadOnlyMemory<byte> value, TimeSpan timeToLive, long fillToken, CancellationToken cancellationToken)
            => inner.TryFillAsync(key, value, timeToLive, fillToken, cancellationToken);

        public ValueTask SetManyAsync(IReadOnlyList<CacheEntry> entries, CancellationToken cancellationToken) => inner.SetManyAsync(entries, cancellationToken);

        public ValueTask InvalidateAsync(IReadOnlyList<string> keys, TimeSpan? fillTimeToLive, CancellationToken cancellationToken) => inner.InvalidateAsync(keys, fillTimeToLive, cancellationToken);

        public ValueTask<long[]> BeginWritesAsync(IReadOnlyList<string> keys, TimeSpan lease, CancellationToken cancellationToken) => inner.BeginWritesAsync(keys, lease, cancellationToken);

        public ValueTask<WriteCompletionOutcome[]> CompleteWritesAsync(IReadOnlyList<WriteCompletion> completions, CancellationToken cancellationToken)
            => inner.CompleteWritesAsync(completions, cancellationToken);

        public ValueTask<bool> ExpireAsync(string key, TimeSpan timeToLive, CancellationToken cancellationToken) => inner.ExpireAsync(key, timeToLive, cancellationToken);

        public ValueTask<bool[]> InvalidateUnlessPinnedAsync(IReadOnlyList<string> keys, TimeSpan? fillTimeToLive, CancellationToken cancellationToken)
            => inner.InvalidateUnlessPinnedAsync(keys, fillTimeToLive, cancellationToken);
    }
}
