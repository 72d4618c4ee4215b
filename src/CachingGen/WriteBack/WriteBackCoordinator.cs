using System.Collections.Concurrent;
using CachingGen.Storage;

namespace CachingGen.WriteBack;

/// <summary>
/// Keeps per-key order between write-back records and direct writes (write-through, write-around, evict) on
/// repositories that have write-back methods.
/// </summary>
/// <remarks>
/// <para>Direct writes and write-back appends of one key exclude each other in this process through striped async
/// gates (a key's stripe is the hash of the key). A direct write, holding its keys' gates, first drains the keys'
/// pending records (it asks the flusher to flush them and waits), so a record acknowledged before the direct write
/// can never be flushed after it and put an older value back in the database.</para>
/// <para>Each shard has its own stripes (when there are at least as many gates as shards), so the flusher's shard
/// workers, which settle concurrently, never find a gate held by another shard's settle: a key's gate is busy only
/// when a direct write or append of a key in the same stripe holds it.</para>
/// <para>The flusher only try-enters a gate to unpin (or, after a dead letter, invalidate) a flushed key; when the
/// gate is busy the action is deferred: the holder applies it after its drain, or the flusher on its next pass. So
/// the flusher never waits on a gate, and gate holders may wait on the flusher without deadlock.</para>
/// </remarks>
internal sealed class WriteBackCoordinator
{
    private readonly SemaphoreSlim[] _gates;
    private readonly IWriteBackLog _log;
    private readonly ConcurrentDictionary<string, TimeSpan?> _deferred = new(StringComparer.Ordinal);
    private WriteBackFlusher? _flusher;

    private readonly int _shardCount;
    private readonly int _stripesPerShard;
    private readonly TimeSpan _drainTimeout;
    private readonly Action<string, CacheStoreUnavailableException> _settleUnavailable;

    /// <param name="gateCount">The number of striped gates.</param>
    /// <param name="log">The write-back log.</param>
    /// <param name="drainTimeout">How long a direct write waits for a key's pending records.</param>
    /// <param name="settleUnavailable">Told about a flushed key whose settle (unpin or invalidation) failed because the
    /// cache store was unavailable: the runtime records it as a pending invalidation, which is always correct for a
    /// flushed key, instead of failing the direct write that happened to apply the deferred settle.</param>
    public WriteBackCoordinator(int gateCount, IWriteBackLog log, TimeSpan drainTimeout, Action<string, CacheStoreUnavailableException> settleUnavailable)
    {
        _drainTimeout = drainTimeout;
        _settleUnavailable = settleUnavailable;
        _gates = new SemaphoreSlim[gateCount];
        for (var i = 0; i < gateCount; i++)
        {
            _gates[i] = new SemaphoreSlim(1, 1);
        }

        _log = log;
        _shardCount = log.ShardCount;
        _stripesPerShard = gateCount >= _shardCount && _shardCount > 1 ? gateCount / _shardCount : 0;
    }

    /// <summary>Whether cache actions of flushed keys are waiting for their gate.</summary>
    public bool HasDeferred => !_deferred.IsEmpty;

    public void Attach(WriteBackFlusher flusher) => _flusher = flusher;

    /// <summary>Enters the gate of one key (write-back appends).</summary>
    public async ValueTask<Lease> EnterAsync(string key, CancellationToken cancellationToken)
    {
        var stripe = StripeOf(key);
        await _gates[stripe].WaitAsync(cancellationToken).ConfigureAwait(false);
        return new Lease(this, stripe, null);
    }

    /// <summary>Enters the gates of <paramref name="keys"/> (in stripe order, so two writers never deadlock), then
    /// drains every key's pending write-back records.</summary>
    public async ValueTask<Lease> EnterAndDrainAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        Lease lease;
        if (keys.Count == 1)
        {
            lease = await EnterAsync(keys[0], cancellationToken).ConfigureAwait(false);
        }
        else
        {
            var stripes = new SortedSet<int>();
            for (var i = 0; i < keys.Count; i++)
            {
                stripes.Add(StripeOf(keys[i]));
            }

            var ordered = new int[stripes.Count];
            stripes.CopyTo(ordered);
            var entered = 0;
            try
            {
                for (; entered < ordered.Length; entered++)
                {
                    await _gates[ordered[entered]].WaitAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            catch
            {
                for (var i = entered - 1; i >= 0; i--)
                {
                    _gates[ordered[i]].Release();
                }

                throw;
            }

            lease = new Lease(this, -1, ordered);
        }

        try
        {
            for (var i = 0; i < keys.Count; i++)
            {
                await DrainKeyAsync(keys[i], cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            lease.Dispose();
            throw;
        }

        return lease;
    }

    /// <summary>Flushes the pending records of a key (the caller holds its gate), then applies a deferred cache action.</summary>
    public async ValueTask DrainKeyAsync(string key, CancellationToken cancellationToken)
    {
        if (await _log.GetPendingCountAsync(key, cancellationToken).ConfigureAwait(false) > 0)
        {
            var flusher = _flusher ?? throw new InvalidOperationException("The write-back coordinator has no flusher.");
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            bounded.CancelAfter(_drainTimeout);
            try
            {
                await flusher.FlushKeyAsync(key, bounded.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException(
                    $"A direct write of '{key}' waited {_drainTimeout} (DirectWriteDrainTimeout) for the key's pending write-back records to reach the database, " +
                    "and they did not: the direct write was NOT applied, so it cannot be overtaken by them. Check the flusher that owns the key's shard " +
                    "(and the database), then retry.");
            }
        }

        if (_deferred.TryRemove(key, out var action))
        {
            // Not cancellable, and put back if it fails: a lost settle would leave the entry pinned (no TTL) for good,
            // holding a dead-lettered value the database never got.
            try
            {
                await ApplyAsync(key, action, CancellationToken.None).ConfigureAwait(false);
            }
            catch
            {
                _deferred.TryAdd(key, action);
                throw;
            }
        }
    }

    /// <summary>Makes a pinned entry writable for a direct write whose begin step the cache store refused (the entry is
    /// pinned: a write-back record of the key, possibly another process's, may still be pending). Waits until the key
    /// has no pending record in any process (bounded by <c>DirectWriteDrainTimeout</c>), then settles the entry: it is
    /// invalidated unless a record of the key is pending again, in which case the next begin is refused again. The
    /// caller holds the key's gate when the repository has write-back methods. A store that becomes unavailable while
    /// the key is drained fails the direct write (<see cref="InvalidOperationException"/>: a record of the key may be
    /// pending, and the write must not overtake it); one that fails the settle after the drain surfaces as
    /// <see cref="CacheStoreUnavailableException"/> (nothing of the key was pending; the pin is still there).</summary>
    public async ValueTask ReleasePinAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            await DrainKeyAsync(key, cancellationToken).ConfigureAwait(false);
        }
        catch (CacheStoreUnavailableException exception)
        {
            throw new InvalidOperationException(
                $"A direct write of '{key}' found the key's cache entry pinned by a write-back record, and the cache store became unavailable while it " +
                "waited for that record's flush. The write was NOT applied, so it cannot be overtaken by that record; retry when the cache store is back.",
                exception);
        }

        var superseded = _deferred.TryRemove(key, out var action);
        try
        {
            await _log.SettleAsync(key, null, CancellationToken.None).ConfigureAwait(false);
        }
        catch when (superseded)
        {
            _deferred.TryAdd(key, action);
            throw;
        }
    }

    /// <summary>Called by the flusher once a key's records are applied (<paramref name="timeToLive"/>) or
    /// dead-lettered (null: invalidate). Applies the action now if the key's gate is free, else defers it.</summary>
    public async ValueTask SettleAsync(string key, TimeSpan? timeToLive, CancellationToken cancellationToken)
    {
        var stripe = StripeOf(key);
        if (!_gates[stripe].Wait(0))
        {
            _deferred[key] = timeToLive;
            return;
        }

        try
        {
            _deferred.TryRemove(key, out _);
            await ApplyAsync(key, timeToLive, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gates[stripe].Release();
        }
    }

    /// <summary>Acknowledges a flushed batch of <paramref name="shard"/> and settles its keys, in one call to the log (a
    /// remote log: one round trip). Keys whose gate a direct write holds are only acknowledged and their settle is
    /// deferred, as <see cref="SettleAsync"/> does. Returns false when the store was unavailable: every key the call held
    /// is handed to the runtime (it records a pending invalidation, always correct for a flushed key), and the records
    /// may still be pending, in which case the flusher reads them again and the ledger skips them. Any other failure is
    /// reported to <paramref name="failed"/> for each held key and propagates.</summary>
    public async Task<bool> CompleteAsync(int shard, IReadOnlyList<PendingWriteBack> records, IReadOnlyList<(string Key, TimeSpan? TimeToLive)> keys, Action<(string Key, Exception Exception)> failed)
    {
        var held = new HashSet<int>();
        var ready = new List<(string Key, TimeSpan? TimeToLive)>(keys.Count);
        List<(string Key, TimeSpan? TimeToLive)>? busy = null;
        try
        {
            foreach (var item in keys)
            {
                if (!TryHold(item.Key, held))
                {
                    (busy ??= new List<(string Key, TimeSpan? TimeToLive)>()).Add(item);
                    continue;
                }

                _deferred.TryRemove(item.Key, out _);
                ready.Add(item);
            }

            try
            {
                await _log.AcknowledgeAndSettleAsync(shard, records, ready, CancellationToken.None).ConfigureAwait(false);
                return true;
            }
            catch (CacheStoreUnavailableException exception)
            {
                Report(ready, exception, failed);
                return false;
            }
            catch (Exception exception)
            {
                Report(ready, exception, failed);
                throw;
            }
        }
        finally
        {
            ReleaseHeld(held);

            // Deferred only now, after the acknowledgement: a deferred settle that ran before it would find the records
            // still pending, leave the entry pinned, and be gone.
            if (busy is not null)
            {
                foreach (var (key, timeToLive) in busy)
                {
                    _deferred[key] = timeToLive;
                }
            }
        }
    }

    /// <summary>Applies the deferred actions whose gates are free now, together (one call to the log, as a flushed
    /// batch's settles): a deferred key costs no round trip of its own.</summary>
    public async ValueTask ApplyDeferredAsync(Action<(string Key, Exception Exception)> failed)
    {
        if (_deferred.IsEmpty)
        {
            return;
        }

        var held = new HashSet<int>();
        var ready = new List<(string Key, TimeSpan? TimeToLive)>();
        try
        {
            foreach (var key in _deferred.Keys)
            {
                if (TryHold(key, held) && _deferred.TryRemove(key, out var timeToLive))
                {
                    ready.Add((key, timeToLive));
                }
            }

            await SettleHeldAsync(ready, failed).ConfigureAwait(false);
        }
        finally
        {
            ReleaseHeld(held);
        }
    }

    /// <summary>Takes the gate of <paramref name="key"/> without waiting, unless <paramref name="held"/> has it already.</summary>
    private bool TryHold(string key, HashSet<int> held)
    {
        var stripe = StripeOf(key);
        if (held.Contains(stripe))
        {
            return true;
        }

        if (!_gates[stripe].Wait(0))
        {
            return false;
        }

        held.Add(stripe);
        return true;
    }

    private void ReleaseHeld(HashSet<int> held)
    {
        foreach (var stripe in held)
        {
            _gates[stripe].Release();
        }
    }

    /// <summary>Settles keys whose gates the caller holds, in one call to the log.</summary>
    private async ValueTask SettleHeldAsync(List<(string Key, TimeSpan? TimeToLive)> ready, Action<(string Key, Exception Exception)> failed)
    {
        if (ready.Count == 0)
        {
            return;
        }

        try
        {
            await _log.SettleManyAsync(ready, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            Report(ready, exception, failed);
        }
    }

    /// <summary>Reports the keys of a failed settle: to the runtime when the store is unavailable, else to
    /// <paramref name="failed"/> (settling a key again is harmless: at worst its entry becomes a tombstone).</summary>
    private void Report(List<(string Key, TimeSpan? TimeToLive)> keys, Exception exception, Action<(string Key, Exception Exception)> failed)
    {
        foreach (var (key, _) in keys)
        {
            if (exception is CacheStoreUnavailableException unavailable)
            {
                _settleUnavailable(key, unavailable);
            }
            else
            {
                failed((key, exception));
            }
        }
    }

    private async ValueTask ApplyAsync(string key, TimeSpan? timeToLive, CancellationToken cancellationToken)
    {
        try
        {
            await _log.SettleAsync(key, timeToLive, cancellationToken).ConfigureAwait(false);
        }
        catch (CacheStoreUnavailableException exception)
        {
            _settleUnavailable(key, exception);
        }
    }

    private int StripeOf(string key)
    {
        // FNV-1a over the characters: the same stripe for a key in every run (the string hash is randomized per
        // process, which made which keys share a gate differ from run to run), and unrelated to the shard's hash.
        var hash = 2166136261u;
        foreach (var character in key)
        {
            hash = (hash ^ character) * 16777619u;
        }

        return _stripesPerShard == 0
            ? (int)(hash % (uint)_gates.Length)
            : (WriteBackSharding.ShardOf(key, _shardCount) * _stripesPerShard) + (int)(hash % (uint)_stripesPerShard);
    }

    private void Release(int stripe, int[]? stripes)
    {
        if (stripes is null)
        {
            _gates[stripe].Release();
        }
        else
        {
            for (var i = stripes.Length - 1; i >= 0; i--)
            {
                _gates[stripes[i]].Release();
            }
        }

        if (!_deferred.IsEmpty)
        {
            _flusher?.SignalAll();
        }
    }

    /// <summary>Held gates; disposing releases them.</summary>
    internal readonly struct Lease(WriteBackCoordinator? owner, int stripe, int[]? stripes) : IDisposable
    {
        public void Dispose() => owner?.Release(stripe, stripes);
    }
}
