using CachingGen.Storage;

namespace CachingGen.Tests.Support;

/// <summary>Wraps a store and fails chosen operations with <see cref="CacheStoreUnavailableException"/>, as a real store
/// does during an outage (asynchronously, after the call started).</summary>
public sealed class FlakyCacheStore(ICacheStore inner) : ICacheStore, IRecoveringCacheStore
{
    public event EventHandler? Recovered;

    /// <summary>Tells the runtime the store is back, as a restored connection does.</summary>
    public void RaiseRecovered() => Recovered?.Invoke(this, EventArgs.Empty);

    private int _failures;

    /// <summary>Which operations fail: get, fill, set, invalidate, begin, complete, set-if-newer, expire. Null: none.</summary>
    public Func<string, bool>? FailWhen { get; set; }

    /// <summary>Fails every operation (true) or none (false).</summary>
    public bool Down
    {
        set => FailWhen = value ? static _ => true : null;
    }

    /// <summary>How many operations failed so far.</summary>
    public int Failures => Volatile.Read(ref _failures);

    /// <summary>Operations attempted, by name.</summary>
    public System.Collections.Concurrent.ConcurrentDictionary<string, int> Attempts { get; } = new();

    /// <summary>When set, a lookup's answer is read from the store at once but handed back only after this task (a
    /// reply that crosses later operations on the wire).</summary>
    public Func<Task>? DelayGetReply { get; set; }

    /// <summary>When it answers true for a key, a GET of it reads as absent (the value was evicted or expired).</summary>
    public Func<string, bool>? Evicted { get; set; }

    public ValueTask<CacheLookup> GetAsync(string key, CancellationToken cancellationToken)
        => Guard("get") ?? (DelayGetReply is { } delay ? DelayedGetAsync(key, delay, cancellationToken) : ReadAsync(key, cancellationToken));

    private ValueTask<CacheLookup> ReadAsync(string key, CancellationToken cancellationToken)
        => Evicted?.Invoke(key) == true ? new ValueTask<CacheLookup>(CacheLookup.Miss(0)) : inner.GetAsync(key, cancellationToken);

    private async ValueTask<CacheLookup> DelayedGetAsync(string key, Func<Task> delay, CancellationToken cancellationToken)
    {
        var lookup = await ReadAsync(key, cancellationToken);
        await delay();
        return lookup;
    }

    /// <summary>When set, a fill reaches the store only after the returned task completes (a slow fill command).</summary>
    public Func<Task>? DelayFill { get; set; }

    public ValueTask<bool> TryFillAsync(string key, ReadOnlyMemory<byte> value, TimeSpan timeToLive, long fillToken, CancellationToken cancellationToken)
        => Guard<bool>("fill") ?? (DelayFill is { } delay ? DelayedFillAsync(key, value, timeToLive, fillToken, delay, cancellationToken) : inner.TryFillAsync(key, value, timeToLive, fillToken, cancellationToken));

    private async ValueTask<bool> DelayedFillAsync(string key, ReadOnlyMemory<byte> value, TimeSpan timeToLive, long fillToken, Func<Task> delay, CancellationToken cancellationToken)
    {
        await delay();
        return await inner.TryFillAsync(key, value, timeToLive, fillToken, cancellationToken);
    }

    public ValueTask<bool> TryFillVersionedAsync(string key, ReadOnlyMemory<byte> value, long version, TimeSpan timeToLive, long fillToken, CancellationToken cancellationToken)
        => Guard<bool>("fill") ?? inner.TryFillVersionedAsync(key, value, version, timeToLive, fillToken, cancellationToken);

    public ValueTask<VersionedWriteOutcome[]> SetIfNewerAsync(IReadOnlyList<VersionedEntry> entries, CancellationToken cancellationToken)
        => Guard<VersionedWriteOutcome[]>("set-if-newer") ?? inner.SetIfNewerAsync(entries, cancellationToken);

    public ValueTask SetManyAsync(IReadOnlyList<CacheEntry> entries, CancellationToken cancellationToken)
        => Fails("set") ? ValueTask.FromException(Unavailable("set")) : inner.SetManyAsync(entries, cancellationToken);

    public ValueTask InvalidateAsync(IReadOnlyList<string> keys, TimeSpan? fillTimeToLive, CancellationToken cancellationToken)
        => Fails("invalidate") ? ValueTask.FromException(Unavailable("invalidate")) : inner.InvalidateAsync(keys, fillTimeToLive, cancellationToken);

    public ValueTask<bool[]> InvalidateUnlessPinnedAsync(IReadOnlyList<string> keys, TimeSpan? fillTimeToLive, CancellationToken cancellationToken)
        => Guard<bool[]>("invalidate") ?? inner.InvalidateUnlessPinnedAsync(keys, fillTimeToLive, cancellationToken);

    public ValueTask<bool> ExpireAsync(string key, TimeSpan timeToLive, CancellationToken cancellationToken)
        => Guard<bool>("expire") ?? inner.ExpireAsync(key, timeToLive, cancellationToken);

    public ValueTask<long[]> BeginWritesAsync(IReadOnlyList<string> keys, TimeSpan lease, CancellationToken cancellationToken)
        => Guard<long[]>("begin") ?? inner.BeginWritesAsync(keys, lease, cancellationToken);

    public ValueTask<WriteCompletionOutcome[]> CompleteWritesAsync(IReadOnlyList<WriteCompletion> completions, CancellationToken cancellationToken)
        => Guard<WriteCompletionOutcome[]>("complete") ?? inner.CompleteWritesAsync(completions, cancellationToken);

    private ValueTask<CacheLookup>? Guard(string operation) => Guard<CacheLookup>(operation);

    private ValueTask<T>? Guard<T>(string operation)
        => Fails(operation) ? ValueTask.FromException<T>(Unavailable(operation)) : null;

    private bool Fails(string operation)
    {
        Attempts.AddOrUpdate(operation, 1, static (_, n) => n + 1);
        if (FailWhen?.Invoke(operation) != true)
        {
            return false;
        }

        Interlocked.Increment(ref _failures);
        return true;
    }

    private static CacheStoreUnavailableException Unavailable(string operation)
        => new($"test store unavailable: {operation} timed out", new TimeoutException());
}
