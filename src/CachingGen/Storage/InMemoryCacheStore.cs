using System.Collections.Concurrent;

namespace CachingGen.Storage;

/// <summary>
/// An in-process <see cref="ICacheStore"/>: values are private copies of the caller's bytes, times come from a
/// <see cref="TimeProvider"/>, reads take no lock and writes replace an entry with one compare-and-swap.
/// </summary>
/// <remarks>
/// Fill tokens are drawn from one monotonic counter that also versions every write; a fill is refused when the
/// key's current version is newer than the token. Invalidation and expiry leave tombstones that keep the version
/// (and, after an invalidation, the fill time to live) for at least <c>max(fillTimeToLive, tombstoneLifetime)</c>;
/// a fill whose miss is older than that window may be accepted.
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
            if (slot.IsLive(now))
            {
                return new ValueTask<CacheLookup>(CacheLookup.Hit(slot.Value));
            }

            if (slot.Value is null && slot.ExpiresAt > now)
            {
                return new ValueTask<CacheLookup>(CacheLookup.Miss(NextVersion(), slot.FillTimeToLive));
            }

            if (slot.DeadAt(_tombstoneTicks) <= now)
            {
                _slots.TryRemove(new KeyValuePair<string, Slot>(key, slot));
            }
        }

        return new ValueTask<CacheLookup>(CacheLookup.Miss(NextVersion()));
    }

    /// <inheritdoc />
    public ValueTask<bool> TryFillAsync(string key, ReadOnlyMemory<byte> value, TimeSpan timeToLive, long fillToken, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeToLive, TimeSpan.Zero);
        cancellationToken.ThrowIfCancellationRequested();
        var copy = value.ToArray();
        var expiresAt = Expiry(Now(), timeToLive);
        while (true)
        {
            if (!_slots.TryGetValue(key, out var current))
            {
                if (_slots.TryAdd(key, new Slot(copy, expiresAt, NextVersion(), null)))
                {
                    CountWrite();
                    return new ValueTask<bool>(true);
                }

                continue;
            }

            if (current.Version > fillToken)
            {
                return new ValueTask<bool>(false);
            }

            if (_slots.TryUpdate(key, new Slot(copy, expiresAt, NextVersion(), null), current))
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
            _slots[entry.Key] = new Slot(entry.Value.ToArray(), expiresAt, NextVersion(), null);
            CountWrite();
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask InvalidateAsync(IReadOnlyList<string> keys, TimeSpan? fillTimeToLive, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        if (fillTimeToLive is { } fill && fill <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(fillTimeToLive), fill, "The fill time to live must be positive.");
        }

        cancellationToken.ThrowIfCancellationRequested();
        var lifetime = Math.Max(fillTimeToLive?.Ticks ?? 0, _tombstoneTicks);
        var expiresAt = Expiry(Now(), TimeSpan.FromTicks(lifetime));
        for (var i = 0; i < keys.Count; i++)
        {
            ArgumentNullException.ThrowIfNull(keys[i], nameof(keys));
            _slots[keys[i]] = new Slot(null, expiresAt, NextVersion(), fillTimeToLive);
            CountWrite();
        }

        return ValueTask.CompletedTask;
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

    /// <summary>One key's state: a value (null for a tombstone), its expiry in UTC ticks (long.MaxValue = pinned),
    /// the version of the write that produced it, and the fill time to live an invalidation asked for.</summary>
    private sealed record Slot(byte[]? Value, long ExpiresAt, long Version, TimeSpan? FillTimeToLive)
    {
        public bool IsLive(long now) => Value is not null && ExpiresAt > now;

        public long DeadAt(long tombstoneTicks)
            => Value is null ? ExpiresAt : (ExpiresAt >= long.MaxValue - tombstoneTicks ? long.MaxValue : ExpiresAt + tombstoneTicks);
    }
}
