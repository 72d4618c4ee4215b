namespace CachingGen.Storage;

/// <summary>
/// The byte-level cache that decorators read and write. Values are opaque envelopes produced by the runtime;
/// a store never interprets them. Every implementation must pass the store contract test suite
/// (<c>CacheStoreContractTests</c>), so strategies behave the same on every store.
/// </summary>
/// <remarks>
/// <para><b>Fills.</b> A miss hands out a <see cref="CacheLookup.FillToken"/>; a fill made with that token is refused
/// when the key was written, invalidated or marked for a write after the miss, so a read-through fill can never put
/// back a value older than a write that finished before the fill was stored. Invalidation therefore leaves a
/// short-lived tombstone instead of simply deleting the key.</para>
/// <para><b>Write-through (two steps around the database write).</b> A naive "write the database, then SET the cache"
/// leaves the older value cached when two writers interleave (W1 db, W2 db, W2 SET, W1 SET). Instead:</para>
/// <list type="number">
/// <item><description><see cref="BeginWritesAsync"/>, before the database write, atomically replaces each key's state
/// by a <i>write marker</i>: a new generation (returned as the write token), an in-flight count (incremented when a
/// marker is already there) and a <i>contended</i> flag (set when it was). The marker voids outstanding fill tokens,
/// reads during the write miss with <see cref="CacheLookup.WriteInProgress"/> (they go to the database and never
/// fill), and it expires after the lease, so a crashed writer heals by itself.</description></item>
/// <item><description><see cref="CompleteWritesAsync"/>, after the database write, decrements the in-flight count.
/// When it was the only writer (count reaches zero, the marker is still the one its token names, not contended) and the
/// database write committed, the new value is stored. Otherwise the last writer out leaves a plain tombstone, so the
/// next read fills from the database. A missing or expired marker (lease ran out, an invalidation replaced it)
/// means invalidate, never set. A failed database write completes too (it releases its count and never stores).
/// A value without a time to live (a pinned write-back entry written by <c>IWriteBackLog.AppendAsync</c> after the
/// marker) is left as it is: it is newer than the database.</description></item>
/// </list>
/// <para><b>Pinned entries.</b> <see cref="BeginWritesAsync"/> refuses a key whose entry is pinned (a value without a
/// time to live: a write-back record of the key may still be pending, in this process or another one). It writes
/// nothing for that key and returns <see cref="RefusedPinnedToken"/> in its place; the writer drains the key's
/// pending records, settles the entry and begins again, so a direct write is never ordered before a write-back that
/// was acknowledged before it began.</para>
/// <para>Each step touches one key at a time, so both are single-slot operations on Redis Cluster; a call with many
/// keys is one batch.</para>
/// <para><b>Outages.</b> A failure of the cache itself (timeout, lost connection, server error) surfaces as
/// <see cref="CacheStoreUnavailableException"/> and nothing else, so the runtime can degrade to the database on exactly
/// that type. Argument errors keep their argument exception types; cancellation throws
/// <see cref="OperationCanceledException"/>.</para>
/// </remarks>
public interface ICacheStore
{
    /// <summary>The write token <see cref="BeginWritesAsync"/> returns for a key it refused because its entry is pinned
    /// (no marker was written; do not complete it). Real tokens are positive.</summary>
    const long RefusedPinnedToken = 0;

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

    /// <summary>Starts a write-through of <paramref name="keys"/> (before the database write): replaces each key's
    /// state by a write marker that lives at most <paramref name="lease"/>, voids outstanding fill tokens, and marks the
    /// key contended when another write of it is in flight. Returns one write token per key, in order, for
    /// <see cref="CompleteWritesAsync"/>; <see cref="RefusedPinnedToken"/> for a key whose entry is pinned (left as it
    /// is). Many keys go out as one batch.</summary>
    ValueTask<long[]> BeginWritesAsync(IReadOnlyList<string> keys, TimeSpan lease, CancellationToken cancellationToken);

    /// <summary>Ends write-throughs started by <see cref="BeginWritesAsync"/> (after the database write, committed or
    /// not): stores each value only when its writer was alone and the marker is still its own, otherwise leaves a
    /// tombstone once the last overlapping writer is done. Returns one outcome per completion, in order. Many keys go
    /// out as one batch.</summary>
    ValueTask<WriteCompletionOutcome[]> CompleteWritesAsync(IReadOnlyList<WriteCompletion> completions, CancellationToken cancellationToken);

    /// <summary>Like <see cref="TryFillAsync"/>, for an entity with a <see cref="CacheVersionAttribute"/> member: the
    /// stored entry carries <paramref name="version"/>, which <see cref="SetIfNewerAsync"/> compares.</summary>
    /// <remarks>The default stores the value without its version (a store written before versions existed): a versioned
    /// write-through then finds a value it cannot compare and invalidates it, which is always safe.</remarks>
    ValueTask<bool> TryFillVersionedAsync(string key, ReadOnlyMemory<byte> value, long version, TimeSpan timeToLive, long fillToken, CancellationToken cancellationToken)
        => TryFillAsync(key, value, timeToLive, fillToken, cancellationToken);

    /// <summary>
    /// The one cache step of a versioned write-through, after the database write committed. Per key, atomically:
    /// <list type="bullet">
    /// <item><description>a live versioned value older than the entry's version is replaced by the entry
    /// (<see cref="VersionedWriteOutcome.Stored"/>); a newer one is kept (<see cref="VersionedWriteOutcome.NewerKept"/>):
    /// its writer or filler read a newer row; one of the same version becomes a tombstone, because two writes of one
    /// version may differ (a database that accepts an equal version, a retry with other content);</description></item>
    /// <item><description>a pinned value (a write-back entry) is kept (<see cref="VersionedWriteOutcome.PinnedKept"/>);</description></item>
    /// <item><description>a live write marker (a write-through without version of the key is in flight) becomes contended,
    /// so that writer leaves a tombstone; anything else (absent key, tombstone, a value without version, foreign bytes)
    /// is replaced by a tombstone (<see cref="VersionedWriteOutcome.Invalidated"/>).</description></item>
    /// </list>
    /// Never storing over an absent key is what makes one step enough: a newer write's entry may have been evicted, and
    /// the absent key cannot tell an older writer that it lost. The tombstone voids outstanding fill tokens, so the next
    /// read fills from the database. Many keys go out as one batch.
    /// </summary>
    /// <remarks>The default (a store written before versions existed) never stores: it invalidates every key except
    /// pinned ones (<see cref="InvalidateUnlessPinnedAsync"/>), which is always safe and costs the next read a miss.</remarks>
    ValueTask<VersionedWriteOutcome[]> SetIfNewerAsync(IReadOnlyList<VersionedEntry> entries, CancellationToken cancellationToken)
        => InvalidateForVersionedWriteAsync(this, entries, cancellationToken);

    private static async ValueTask<VersionedWriteOutcome[]> InvalidateForVersionedWriteAsync(ICacheStore store, IReadOnlyList<VersionedEntry> entries, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var keys = new string[entries.Count];
        for (var i = 0; i < keys.Length; i++)
        {
            keys[i] = entries[i].Key;
        }

        var kept = await store.InvalidateUnlessPinnedAsync(keys, fillTimeToLive: null, cancellationToken).ConfigureAwait(false);
        return Array.ConvertAll(kept, static pinned => pinned ? VersionedWriteOutcome.PinnedKept : VersionedWriteOutcome.Invalidated);
    }

    /// <summary>Gives an existing (typically pinned) entry a time to live. Returns false when the key holds no value.</summary>
    ValueTask<bool> ExpireAsync(string key, TimeSpan timeToLive, CancellationToken cancellationToken);

    /// <summary>Like <see cref="InvalidateAsync"/>, but leaves a pinned value (a write-back entry) as it is: whether it
    /// is newer than the database only the write-back log can tell (<c>IWriteBackLog.SettleAsync</c> decides for the
    /// keys returned as kept). Used to repair keys whose invalidation failed during a store outage, when a write-back of
    /// the key may have been acknowledged since the store came back. <paramref name="fillTimeToLive"/> is the failed
    /// invalidation's (a write-around's fill TTL must survive the outage). Returns, per key in order, whether a pinned
    /// value was kept. Many keys go out as one batch.</summary>
    ValueTask<bool[]> InvalidateUnlessPinnedAsync(IReadOnlyList<string> keys, TimeSpan? fillTimeToLive, CancellationToken cancellationToken);
}

/// <summary>One value to store: its key, its bytes, and its time to live (null pins it).</summary>
public readonly record struct CacheEntry(string Key, ReadOnlyMemory<byte> Value, TimeSpan? TimeToLive);

/// <summary>One value of a versioned write-through (<see cref="ICacheStore.SetIfNewerAsync"/>).</summary>
/// <param name="Key">The key.</param>
/// <param name="Value">The written entity's envelope.</param>
/// <param name="Version">Its <see cref="CacheVersionAttribute"/> member, as a long.</param>
/// <param name="TimeToLive">The time to live when it is stored.</param>
public readonly record struct VersionedEntry(string Key, ReadOnlyMemory<byte> Value, long Version, TimeSpan TimeToLive);

/// <summary>What <see cref="ICacheStore.SetIfNewerAsync"/> did to one key.</summary>
public enum VersionedWriteOutcome
{
    /// <summary>The value replaced an older version of it.</summary>
    Stored,

    /// <summary>The key holds a newer version: it was left as it is.</summary>
    NewerKept,

    /// <summary>The key's version was unknown (absent, tombstone, a value without version, a write in flight) or equal
    /// to the written one: a tombstone was left, so the next read fills from the database.</summary>
    Invalidated,

    /// <summary>The key holds a pinned value (a write-back entry): it was left as it is.</summary>
    PinnedKept,
}

/// <summary>The end of one write-through of a key.</summary>
/// <param name="Key">The key.</param>
/// <param name="WriteToken">The token <see cref="ICacheStore.BeginWritesAsync"/> returned for the key.</param>
/// <param name="Value">The value to store when the write was alone (ignored when <paramref name="Committed"/> is false).</param>
/// <param name="TimeToLive">The time to live of that value.</param>
/// <param name="Committed">Whether the database write succeeded; false only releases the writer's in-flight count.</param>
public readonly record struct WriteCompletion(string Key, long WriteToken, ReadOnlyMemory<byte> Value, TimeSpan TimeToLive, bool Committed);

/// <summary>What <see cref="ICacheStore.CompleteWritesAsync"/> did to one key.</summary>
public enum WriteCompletionOutcome
{
    /// <summary>The value was stored: the writer was alone.</summary>
    Stored,

    /// <summary>A tombstone was left (contention, a lost or replaced marker, or an uncommitted write): the next read
    /// fills from the database.</summary>
    Invalidated,

    /// <summary>Other writes of the key are still in flight: the marker stays (contended) and the last of them leaves
    /// the tombstone.</summary>
    StillInFlight,

    /// <summary>The key holds a pinned value (a write-back entry appended during the write): it was left as it is.</summary>
    PinnedKept,
}

/// <summary>The answer to a lookup: a hit with its bytes, or a miss with the token a fill must present.</summary>
public readonly struct CacheLookup
{
    private CacheLookup(bool found, ReadOnlyMemory<byte> value, long fillToken, TimeSpan? fillTimeToLive, bool writeInProgress = false)
    {
        Found = found;
        WriteInProgress = writeInProgress;
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

    /// <summary>On a miss: a write-through of the key is in flight (a write marker). The value must be read from the
    /// database and NOT filled (a fill is refused while the marker lives, but may be accepted once its lease has
    /// expired, when the crashed writer's row may be newer than what was read). <see cref="FillToken"/> then
    /// identifies the marker, so two misses with equal tokens saw the same cache state.</summary>
    public bool WriteInProgress { get; }

    /// <summary>A hit.</summary>
    public static CacheLookup Hit(ReadOnlyMemory<byte> value) => new(true, value, 0, null);

    /// <summary>A miss.</summary>
    public static CacheLookup Miss(long fillToken, TimeSpan? fillTimeToLive = null) => new(false, default, fillToken, fillTimeToLive);

    /// <summary>A miss on a write marker identified by <paramref name="marker"/>: no fill.</summary>
    public static CacheLookup MissDuringWrite(long marker) => new(false, default, marker, null, writeInProgress: true);
}
