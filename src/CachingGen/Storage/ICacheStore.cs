namespace CachingGen.Storage;

/// <summary>
/// The byte-level cache that decorators read and write. Values are opaque envelopes produced by the runtime;
/// a store never interprets them. Every implementation must pass the store contract test suite
/// (<c>CacheStoreContractTests</c>), so strategies behave the same on every store.
/// </summary>
/// <remarks>
/// Consistency protocol: a miss hands out a <see cref="CacheLookup.FillToken"/>; a fill made with that token is
/// refused when the key was written or invalidated after the miss, so a read-through fill can never put back a
/// value older than a write that finished before the fill was stored. Invalidation therefore leaves a short-lived
/// tombstone instead of simply deleting the key.
/// </remarks>
public interface ICacheStore
{
    /// <summary>Looks up one key. A miss carries the token that a later <see cref="TryFillAsync"/> must present.</summary>
    ValueTask<CacheLookup> GetAsync(string key, CancellationToken cancellationToken);

    /// <summary>Stores a value read from the database after a miss, unless the key was written or invalidated since
    /// the miss that produced <paramref name="fillToken"/>. Returns whether the value was stored.</summary>
    ValueTask<bool> TryFillAsync(string key, ReadOnlyMemory<byte> value, TimeSpan timeToLive, long fillToken, CancellationToken cancellationToken);

    /// <summary>Stores values unconditionally (write-through, write-back). A null time to live pins the entry: it
    /// never expires until <see cref="ExpireAsync"/> gives it one. Outstanding fill tokens of these keys are voided.
    /// Many entries go out as one batch.</summary>
    ValueTask SetManyAsync(IReadOnlyList<CacheEntry> entries, CancellationToken cancellationToken);

    /// <summary>Removes the values of <paramref name="keys"/> in one batch and voids their outstanding fill tokens.
    /// When <paramref name="fillTimeToLive"/> is given, the next fill of each key is told to use it
    /// (<see cref="CacheLookup.FillTimeToLive"/>).</summary>
    ValueTask InvalidateAsync(IReadOnlyList<string> keys, TimeSpan? fillTimeToLive, CancellationToken cancellationToken);

    /// <summary>Gives an existing (typically pinned) entry a time to live. Returns false when the key holds no value.</summary>
    ValueTask<bool> ExpireAsync(string key, TimeSpan timeToLive, CancellationToken cancellationToken);
}

/// <summary>One value to store: its key, its bytes, and its time to live (null pins it).</summary>
public readonly record struct CacheEntry(string Key, ReadOnlyMemory<byte> Value, TimeSpan? TimeToLive);

/// <summary>The answer to a lookup: a hit with its bytes, or a miss with the token a fill must present.</summary>
public readonly struct CacheLookup
{
    private CacheLookup(bool found, ReadOnlyMemory<byte> value, long fillToken, TimeSpan? fillTimeToLive)
    {
        Found = found;
        Value = value;
        FillToken = fillToken;
        FillTimeToLive = fillTimeToLive;
    }

    /// <summary>Whether the key holds a value.</summary>
    public bool Found { get; }

    /// <summary>The stored bytes of a hit. The caller must not modify them.</summary>
    public ReadOnlyMemory<byte> Value { get; }

    /// <summary>On a miss: the token that <see cref="ICacheStore.TryFillAsync"/> must present.</summary>
    public long FillToken { get; }

    /// <summary>On a miss after a write-around: the time to live the next fill should use.</summary>
    public TimeSpan? FillTimeToLive { get; }

    /// <summary>A hit.</summary>
    public static CacheLookup Hit(ReadOnlyMemory<byte> value) => new(true, value, 0, null);

    /// <summary>A miss.</summary>
    public static CacheLookup Miss(long fillToken, TimeSpan? fillTimeToLive = null) => new(false, default, fillToken, fillTimeToLive);
}
