using CachingGen.Storage;

namespace CachingGen.Tests.Support;

/// <summary>Wraps a store, counting each operation and journaling writes.</summary>
public sealed class CountingCacheStore(ICacheStore inner, EventJournal journal) : ICacheStore
{
    private int _gets;
    private int _fills;
    private int _setManys;
    private int _invalidates;
    private int _expires;
    private int _begins;
    private int _completes;
    private int _versionedWrites;

    public ICacheStore Inner { get; } = inner;

    public int Gets => Volatile.Read(ref _gets);

    public int Fills => Volatile.Read(ref _fills);

    public int SetManys => Volatile.Read(ref _setManys);

    public int Invalidates => Volatile.Read(ref _invalidates);

    public int Expires => Volatile.Read(ref _expires);

    public int Begins => Volatile.Read(ref _begins);

    public int Completes => Volatile.Read(ref _completes);

    public int VersionedWrites => Volatile.Read(ref _versionedWrites);

    public int Writes => SetManys + Invalidates + Fills + Expires + Begins + Completes + VersionedWrites;

    /// <summary>The completions of every <see cref="CompleteWritesAsync"/> call, with what the store did.</summary>
    public List<(WriteCompletion Completion, WriteCompletionOutcome Outcome)[]> CompletionBatches { get; } = new();

    public List<(IReadOnlyList<string> Keys, TimeSpan? FillTimeToLive)> Invalidations { get; } = new();

    public List<IReadOnlyList<CacheEntry>> SetBatches { get; } = new();

    public void Reset()
    {
        _gets = _fills = _setManys = _invalidates = _expires = _begins = _completes = 0;
        lock (CompletionBatches)
        {
            CompletionBatches.Clear();
        }

        lock (Invalidations)
        {
            Invalidations.Clear();
        }

        lock (SetBatches)
        {
            SetBatches.Clear();
        }
    }

    public ValueTask<CacheLookup> GetAsync(string key, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _gets);
        return Inner.GetAsync(key, cancellationToken);
    }

    public ValueTask<bool> TryFillAsync(string key, ReadOnlyMemory<byte> value, TimeSpan timeToLive, long fillToken, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _fills);
        journal.Add($"cache:fill:{key}");
        return Inner.TryFillAsync(key, value, timeToLive, fillToken, cancellationToken);
    }

    public ValueTask<bool> TryFillVersionedAsync(string key, ReadOnlyMemory<byte> value, long version, TimeSpan timeToLive, long fillToken, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _fills);
        journal.Add($"cache:fill:{key}@{version}");
        return Inner.TryFillVersionedAsync(key, value, version, timeToLive, fillToken, cancellationToken);
    }

    public async ValueTask<VersionedWriteOutcome[]> SetIfNewerAsync(IReadOnlyList<VersionedEntry> entries, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _versionedWrites);
        var outcomes = await Inner.SetIfNewerAsync(entries, cancellationToken);
        journal.Add($"cache:set-if-newer:{string.Join(",", entries.Select((e, i) => $"{e.Key}@{e.Version}={outcomes[i]}"))}");
        return outcomes;
    }

    public ValueTask SetManyAsync(IReadOnlyList<CacheEntry> entries, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _setManys);
        lock (SetBatches)
        {
            SetBatches.Add(entries.ToArray());
        }

        journal.Add($"cache:set:{string.Join(",", entries.Select(e => e.Key))}");
        return Inner.SetManyAsync(entries, cancellationToken);
    }

    public ValueTask InvalidateAsync(IReadOnlyList<string> keys, TimeSpan? fillTimeToLive, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _invalidates);
        lock (Invalidations)
        {
            Invalidations.Add((keys.ToArray(), fillTimeToLive));
        }

        journal.Add($"cache:invalidate:{string.Join(",", keys)}");
        return Inner.InvalidateAsync(keys, fillTimeToLive, cancellationToken);
    }

    /// <summary>Counted and journaled as an invalidation (the retry of pending invalidations and the direct writes of
    /// repositories with write-back methods use it).</summary>
    public ValueTask<bool[]> InvalidateUnlessPinnedAsync(IReadOnlyList<string> keys, TimeSpan? fillTimeToLive, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _invalidates);
        lock (Invalidations)
        {
            Invalidations.Add((keys.ToArray(), fillTimeToLive));
        }

        journal.Add($"cache:invalidate:{string.Join(",", keys)}");
        return Inner.InvalidateUnlessPinnedAsync(keys, fillTimeToLive, cancellationToken);
    }

    public ValueTask<bool> ExpireAsync(string key, TimeSpan timeToLive, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _expires);
        journal.Add($"cache:expire:{key}");
        return Inner.ExpireAsync(key, timeToLive, cancellationToken);
    }

    public ValueTask<long[]> BeginWritesAsync(IReadOnlyList<string> keys, TimeSpan lease, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _begins);
        journal.Add($"cache:begin:{string.Join(",", keys)}");
        return Inner.BeginWritesAsync(keys, lease, cancellationToken);
    }

    public async ValueTask<WriteCompletionOutcome[]> CompleteWritesAsync(IReadOnlyList<WriteCompletion> completions, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _completes);
        var outcomes = await Inner.CompleteWritesAsync(completions, cancellationToken);
        lock (CompletionBatches)
        {
            CompletionBatches.Add(completions.Select((c, i) => (c, outcomes[i])).ToArray());
        }

        journal.Add($"cache:complete:{string.Join(",", completions.Select((c, i) => $"{c.Key}={outcomes[i]}"))}");
        return outcomes;
    }
}
