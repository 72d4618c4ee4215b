using System.Collections.Concurrent;

namespace CachingGen.Storage;

/// <summary>
/// An in-process <see cref="ICacheStore"/>: values are private copies of the caller's bytes, times come from a
/// <see cref="TimeProvider"/>, reads take no lock and writes replace an entry with one compare-and-swap.
/// </summary>
/// <remarks>
/// Every state change of a key (value, tombstone, write marker) gets a new version from one monotonic counter. A
/// miss returns the version it saw as its fill token (0 for an absent key), and a fill is stored only when the key
/// still holds exactly that state (or is absent): never over a live value or write marker. Invalidations leave
/// tombstones that keep the version (and the fill time to live) for at least
/// <c>max(fillTimeToLive, tombstoneLifetime)</c>, expired values keep theirs for <c>tombstoneLifetime</c>; a fill whose
/// miss is older than that window may be accepted. Write markers follow the protocol of <see cref="ICacheStore"/>;
/// a marker's version is its write token.
/// </remarks>
public sealed class InMemoryCacheStore : ICacheStore
{
    private const int SweepEvery = 4096;

    private readonly ConcurrentDictionary<string, Slot> _slots = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly long _tombstoneTicks;
    private long _clock;
    private long _writes;

    /// <summary>Creates an empty store.</summary>
    /// <param name="timeProvider">The clock of expiries; <see cref="TimeProvider.System"/> when null.</param>
    /// <param name="tombstoneLifetime">The shortest life of an invalidation tombstone; 60 seconds when null.</param>
    public InMemoryCacheStore(TimeProvider? timeProvider = null, TimeSpan? tombstoneLifetime = null)
    {
        _time = timeProvider ?? TimeProvider.System;
        var lifetime = tombstoneLifetime ?? TimeSpan.FromSeconds(60);
        ArgumentOutOfRangeException.ThrowIfLessThan(lifetime, TimeSpan.Zero, nameof(tombstoneLifetime));
        _tombstoneTicks = lifetime.Ticks;
    }

    /// <summary>The number of keys that hold a live (unexpired) value.</summary>
    public int Count
    {
        get
        {
            var now = Now();
            var count = 0;
            foreach (var pair in _slots)
            {
                if (pair.Value.IsLive(now))
                {
                    count++;
                }
            }

            return count;
        }
    }

    /// <inheritdoc />
    public ValueTask<CacheLookup> GetAsync(string key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        cancellationToken.ThrowIfCancellationRequested();
        var now = Now();
        if (_slots.TryGetValue(key, out var slot))
        {
            if (slot.ExpiresAt > now)
            {
                return new ValueTask<CacheLookup>(slot.Kind switch
                {
                    SlotKind.Value => CacheLookup.Hit(slot.Value),
                    SlotKind.Marker => CacheLookup.MissDuringWrite(slot.Version),
                    _ => CacheLookup.Miss(slot.Version, slot.FillTimeToLive),
                });
            }

            if (slot.DeadAt(_tombstoneTicks) > now)
            {
                return new ValueTask<CacheLookup>(CacheLookup.Miss(slot.Version));
            }

            _slots.TryRemove(new KeyValuePair<string, Slot>(key, slot));
        }

        return new ValueTask<CacheLookup>(CacheLookup.Miss(0));
    }

    /// <inheritdoc />
    public ValueTask<bool> TryFillAsync(string key, ReadOnlyMemory<byte> value, TimeSpan timeToLive, long fillToken, CancellationToken cancellationToken)
        => Fill(key, value, entityVersion: null, timeToLive, fillToken, cancellationToken);

    /// <inheritdoc />
    public ValueTask<bool> TryFillVersionedAsync(string key, ReadOnlyMemory<byte> value, long version, TimeSpan timeToLive, long fillToken, CancellationToken cancellationToken)
        => Fill(key, value, version, timeToLive, fillToken, cancellationToken);

    private ValueTask<bool> Fill(string key, ReadOnlyMemory<byte> value, long? entityVersion, TimeSpan timeToLive, long fillToken, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeToLive, TimeSpan.Zero);
        cancellationToken.ThrowIfCancellationRequested();
        var copy = value.ToArray();
        var now = Now();
        var expiresAt = Expiry(now, timeToLive);
        while (true)
        {
            if (!_slots.TryGetValue(key, out var current))
            {
                if (_slots.TryAdd(key, Slot.ForValue(copy, expiresAt, NextVersion(), entityVersion)))
                {
                    CountWrite();
                    return new ValueTask<bool>(true);
                }

                continue;
            }

            // A live value or marker always wins; otherwise only the exact state the miss saw may be replaced.
            var live = current.ExpiresAt > now && current.Kind != SlotKind.Tombstone;
            if (live || current.Version != fillToken)
            {
                return new ValueTask<bool>(false);
            }

            if (_slots.TryUpdate(key, Slot.ForValue(copy, expiresAt, NextVersion(), entityVersion), current))
            {
                CountWrite();
                return new ValueTask<bool>(true);
            }
        }
    }

    /// <inheritdoc />
    public ValueTask SetManyAsync(IReadOnlyList<CacheEntry> entries, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entries);
        cancellationToken.ThrowIfCancellationRequested();
        var now = Now();
        for (var i = 0; i < entries.Count; i++)
        {
            var entry = entries[i];
            ArgumentNullException.ThrowIfNull(entry.Key, nameof(entries));
            if (entry.TimeToLive is { } ttl && ttl <= TimeSpan.Zero)
            {
                throw new ArgumentOutOfRangeException(nameof(entries), ttl, $"The time to live of '{entry.Key}' must be positive.");
            }
        }

        for (var i = 0; i < entries.Count; i++)
        {
            var entry = entries[i];
            var expiresAt = entry.TimeToLive is { } ttl ? Expiry(now, ttl) : long.MaxValue;
            _slots[entry.Key] = Slot.ForValue(entry.Value.ToArray(), expiresAt, NextVersion());
            CountWrite();
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask InvalidateAsync(IReadOnlyList<string> keys, TimeSpan? fillTimeToLive, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        CacheStoreArguments.RequirePositiveFillTimeToLive(fillTimeToLive);
        cancellationToken.ThrowIfCancellationRequested();
        for (var i = 0; i < keys.Count; i++)
        {
            ArgumentNullException.ThrowIfNull(keys[i], nameof(keys));
        }

        var now = Now();
        for (var i = 0; i < keys.Count; i++)
        {
            _slots[keys[i]] = Tombstone(now, fillTimeToLive);
            CountWrite();
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<bool[]> InvalidateUnlessPinnedAsync(IReadOnlyList<string> keys, TimeSpan? fillTimeToLive, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        CacheStoreArguments.RequirePositiveFillTimeToLive(fillTimeToLive);
        cancellationToken.ThrowIfCancellationRequested();
        for (var i = 0; i < keys.Count; i++)
        {
            ArgumentNullException.ThrowIfNull(keys[i], nameof(keys));
        }

        var now = Now();
        var pinned = new bool[keys.Count];
        for (var i = 0; i < keys.Count; i++)
        {
            while (true)
            {
                if (_slots.TryGetValue(keys[i], out var current))
                {
                    if (current is { IsPinned: true })
                    {
                        pinned[i] = true;
                        break;
                    }

                    if (_slots.TryUpdate(keys[i], Tombstone(now, fillTimeToLive), current))
                    {
                        CountWrite();
                        break;
                    }
                }
                else if (_slots.TryAdd(keys[i], Tombstone(now, fillTimeToLive)))
                {
                    CountWrite();
                    break;
                }
            }
        }

        return ValueTask.FromResult(pinned);
    }

    /// <inheritdoc />
    public ValueTask<long[]> BeginWritesAsync(IReadOnlyList<string> keys, TimeSpan lease, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lease, TimeSpan.Zero);
        cancellationToken.ThrowIfCancellationRequested();
        for (var i = 0; i < keys.Count; i++)
        {
            ArgumentNullException.ThrowIfNull(keys[i], nameof(keys));
        }

        var now = Now();
        var expiresAt = Expiry(now, lease);
        var tokens = new long[keys.Count];
        for (var i = 0; i < keys.Count; i++)
        {
            var key = keys[i];
            while (true)
            {
                var version = NextVersion();
                if (!_slots.TryGetValue(key, out var current))
                {
                    if (_slots.TryAdd(key, Slot.ForMarker(expiresAt, version, 1, contended: false)))
                    {
                        tokens[i] = version;
                        break;
                    }

                    continue;
                }

                if (current is { IsPinned: true })
                {
                    // Pinned: a write-back record may still be pending; the writer must drain it first.
                    tokens[i] = ICacheStore.RefusedPinnedToken;
                    break;
                }

                var overlapping = current.Kind == SlotKind.Marker && current.ExpiresAt > now;
                var marker = overlapping
                    ? Slot.ForMarker(expiresAt, version, current.InFlight + 1, contended: true)
                    : Slot.ForMarker(expiresAt, version, 1, contended: false);
                if (_slots.TryUpdate(key, marker, current))
                {
                    tokens[i] = version;
                    break;
                }
            }

            CountWrite();
        }

        return new ValueTask<long[]>(tokens);
    }

    /// <inheritdoc />
    public ValueTask<WriteCompletionOutcome[]> CompleteWritesAsync(IReadOnlyList<WriteCompletion> completions, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(completions);
        cancellationToken.ThrowIfCancellationRequested();
        for (var i = 0; i < completions.Count; i++)
        {
            var completion = completions[i];
            ArgumentNullException.ThrowIfNull(completion.Key, nameof(completions));
            if (completion.Committed && completion.TimeToLive <= TimeSpan.Zero)
            {
                throw new ArgumentOutOfRangeException(nameof(completions), completion.TimeToLive, $"The time to live of '{completion.Key}' must be positive.");
            }
        }

        var now = Now();
        var outcomes = new WriteCompletionOutcome[completions.Count];
        for (var i = 0; i < completions.Count; i++)
        {
            outcomes[i] = Complete(completions[i], now);
            CountWrite();
        }

        return new ValueTask<WriteCompletionOutcome[]>(outcomes);
    }

    /// <inheritdoc />
    public ValueTask<VersionedWriteOutcome[]> SetIfNewerAsync(IReadOnlyList<VersionedEntry> entries, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entries);
        cancellationToken.ThrowIfCancellationRequested();
        for (var i = 0; i < entries.Count; i++)
        {
            var entry = entries[i];
            ArgumentNullException.ThrowIfNull(entry.Key, nameof(entries));
            if (entry.TimeToLive <= TimeSpan.Zero)
            {
                throw new ArgumentOutOfRangeException(nameof(entries), entry.TimeToLive, $"The time to live of '{entry.Key}' must be positive.");
            }
        }

        var now = Now();
        var outcomes = new VersionedWriteOutcome[entries.Count];
        for (var i = 0; i < entries.Count; i++)
        {
            outcomes[i] = SetIfNewer(entries[i], now);
            CountWrite();
        }

        return new ValueTask<VersionedWriteOutcome[]>(outcomes);
    }

    /// <inheritdoc />
    public ValueTask<bool> ExpireAsync(string key, TimeSpan timeToLive, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeToLive, TimeSpan.Zero);
        cancellationToken.ThrowIfCancellationRequested();
        var now = Now();
        while (true)
        {
            if (!_slots.TryGetValue(key, out var current) || !current.IsLive(now))
            {
                return new ValueTask<bool>(false);
            }


            if (_slots.TryUpdate(key, current with { ExpiresAt = Expiry(now, timeToLive) }, current))
            {
                return new ValueTask<bool>(true);
            }
        }
    }

    /// <summary>Inspects a key for tests and diagnostics: its live value (a copy) and when it expires (null when pinned).</summary>
    internal bool TryInspect(string key, out byte[] value, out DateTimeOffset? expiresAt)
    {
        var now = Now();
        if (_slots.TryGetValue(key, out var slot) && slot.IsLive(now))
        {
            value = slot.Value!.ToArray();
            expiresAt = slot.ExpiresAt == long.MaxValue ? null : new DateTimeOffset(slot.ExpiresAt, TimeSpan.Zero);
            return true;
        }

        value = Array.Empty<byte>();
        expiresAt = null;
        return false;
    }

    /// <summary>Removes tombstones and expired values whose protection window has passed.</summary>
    internal void Sweep()
    {
        var now = Now();
        foreach (var pair in _slots)
        {
            if (!pair.Value.IsLive(now) && pair.Value.DeadAt(_tombstoneTicks) <= now)
            {
                _slots.TryRemove(pair);
            }
        }
    }

    private WriteCompletionOutcome Complete(WriteCompletion completion, long now)
    {
        while (true)
        {
            _slots.TryGetValue(completion.Key, out var current);
            Slot next;
            WriteCompletionOutcome outcome;
            if (current is { Kind: SlotKind.Marker } && current.ExpiresAt > now)
            {
                if (current.InFlight > 1)
                {
                    // Others are still writing: stay a marker (with a new generation, so a read that starts now never
                    // shares a load with one that started before this writer's commit), contended by definition.
                    next = Slot.ForMarker(current.ExpiresAt, NextVersion(), current.InFlight - 1, contended: true);
                    outcome = WriteCompletionOutcome.StillInFlight;
                }
                else if (completion.Committed && !current.Contended && current.Version == completion.WriteToken)
                {
                    next = Slot.ForValue(completion.Value.ToArray(), Expiry(now, completion.TimeToLive), NextVersion());
                    outcome = WriteCompletionOutcome.Stored;
                }
                else
                {
                    next = Tombstone(now, null);
                    outcome = WriteCompletionOutcome.Invalidated;
                }
            }
            else if (current is { IsPinned: true })
            {
                return WriteCompletionOutcome.PinnedKept;
            }
            else
            {
                next = Tombstone(now, null);
                outcome = WriteCompletionOutcome.Invalidated;
            }

            if (current is null ? _slots.TryAdd(completion.Key, next) : _slots.TryUpdate(completion.Key, next, current))
            {
                return outcome;
            }
        }
    }

    private VersionedWriteOutcome SetIfNewer(VersionedEntry entry, long now)
    {
        while (true)
        {
            _slots.TryGetValue(entry.Key, out var current);
            Slot next;
            VersionedWriteOutcome outcome;
            if (current is { IsPinned: true })
            {
                return VersionedWriteOutcome.PinnedKept;
            }

            if (current is { Kind: SlotKind.Value, EntityVersion: { } cached } && current.ExpiresAt > now && cached != entry.Version)
            {
                if (cached > entry.Version)
                {
                    return VersionedWriteOutcome.NewerKept;
                }

                next = Slot.ForValue(entry.Value.ToArray(), Expiry(now, entry.TimeToLive), NextVersion(), entry.Version);
                outcome = VersionedWriteOutcome.Stored;
            }
            else if (current is { Kind: SlotKind.Marker } && current.ExpiresAt > now)
            {
                // The marker's writer must not store what it wrote: this write may have committed after it.
                next = Slot.ForMarker(current.ExpiresAt, NextVersion(), current.InFlight, contended: true);
                outcome = VersionedWriteOutcome.Invalidated;
            }
            else
            {
                next = Tombstone(now, null);
                outcome = VersionedWriteOutcome.Invalidated;
            }

            if (current is null ? _slots.TryAdd(entry.Key, next) : _slots.TryUpdate(entry.Key, next, current))
            {
                return outcome;
            }
        }
    }

    private Slot Tombstone(long now, TimeSpan? fillTimeToLive)
    {
        var lifetime = Math.Max(fillTimeToLive?.Ticks ?? 0, _tombstoneTicks);
        return Slot.ForTombstone(Expiry(now, TimeSpan.FromTicks(lifetime)), NextVersion(), fillTimeToLive);
    }

    private void CountWrite()
    {
        if (Interlocked.Increment(ref _writes) % SweepEvery == 0)
        {
            Sweep();
        }
    }

    private long NextVersion() => Interlocked.Increment(ref _clock);

    private long Now() => _time.GetUtcNow().UtcTicks;

    private static long Expiry(long now, TimeSpan timeToLive)
        => timeToLive.Ticks >= long.MaxValue - now ? long.MaxValue - 1 : now + timeToLive.Ticks;

    private enum SlotKind
    {
        Value,
        Tombstone,
        Marker,
    }

    /// <summary>One key's state: a value, a tombstone or a write marker; its expiry in UTC ticks (long.MaxValue =
    /// pinned); the version of the write that produced it (a marker's version is its write token); the fill time to
    /// live an invalidation asked for; for a marker, its in-flight writers and whether they overlapped; and, for a value
    /// of an entity with a [CacheVersion] member, that version.</summary>
    private sealed record Slot(SlotKind Kind, byte[]? Value, long ExpiresAt, long Version, TimeSpan? FillTimeToLive, int InFlight, bool Contended, long? EntityVersion = null)
    {
        public static Slot ForValue(byte[] value, long expiresAt, long version, long? entityVersion = null) => new(SlotKind.Value, value, expiresAt, version, null, 0, false, entityVersion);

        public static Slot ForTombstone(long expiresAt, long version, TimeSpan? fillTimeToLive) => new(SlotKind.Tombstone, null, expiresAt, version, fillTimeToLive, 0, false);

        public static Slot ForMarker(long expiresAt, long version, int inFlight, bool contended) => new(SlotKind.Marker, null, expiresAt, version, null, inFlight, contended);

        public bool IsLive(long now) => Kind == SlotKind.Value && ExpiresAt > now;

        /// <summary>A value without time to live: a write-back entry whose record may still be pending.</summary>
        public bool IsPinned => Kind == SlotKind.Value && ExpiresAt == long.MaxValue;

        public long DeadAt(long tombstoneTicks)
            => Kind != SlotKind.Value ? ExpiresAt : (ExpiresAt >= long.MaxValue - tombstoneTicks ? long.MaxValue : ExpiresAt + tombstoneTicks);
    }
}
