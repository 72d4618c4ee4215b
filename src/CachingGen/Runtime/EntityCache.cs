using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using CachingGen.Serialization;
using CachingGen.Storage;
using CachingGen.WriteBack;
using MessagePack;
using Microsoft.Extensions.Logging;

namespace CachingGen.Runtime;

/// <summary>
/// The strategy logic for one entity type of one repository. Generated decorators are thin: they compute keys and
/// bind the user's methods, then call these methods. Obtain one with <see cref="CachingGenRuntime.GetEntityCache{TEntity}(RepositoryDescriptor)"/>.
/// </summary>
/// <typeparam name="TEntity">The cached entity type.</typeparam>
/// <remarks>
/// <para>Read-through is single-flight per key in this process: concurrent misses of one key share one inner call.
/// A waiter's cancellation cancels only its own wait; the shared load is cancelled when every waiter has cancelled.
/// A load's exception reaches every waiter of that flight and nothing is cached.</para>
/// <para>Write-through wraps the database write in the store's two write steps (a write marker before, a completion
/// after; see <see cref="ICacheStore"/>), so overlapping writers never leave an older value cached. Write-around and
/// evict invalidate after the database write. Cache steps ignore the caller's cancellation (so a cancelled caller
/// never leaves a stale entry behind). When the store is unavailable (<see cref="CacheStoreUnavailableException"/>)
/// reads go to the inner repository without filling, and writes commit and leave their keys pending invalidation;
/// reads of pending keys bypass the cache until a background retry has invalidated them.</para>
/// <para>On repositories with write-back methods (<see cref="RepositoryDescriptor.HasWriteBack"/>), direct writes first
/// drain the key's pending write-back records and exclude concurrent appends of the same key, so the database sees
/// every key's writes in acknowledgement order.</para>
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed partial class EntityCache<TEntity>
{
    private const string WriteThroughStrategy = "write_through";
    private const string WriteAroundStrategy = "write_around";
    private const string EvictStrategy = "evict";
    private const string WriteBackStrategy = "write_back";

    private readonly CachingGenRuntime _runtime;
    private readonly ICacheStore _store;
    private readonly MessagePackSerializerOptions _serializerOptions;
    private readonly ulong _fingerprint;
    private readonly WriteBackCoordinator? _directWriteCoordinator;

    /// <summary>Reads the entity's <see cref="CacheVersionAttribute"/> member; null when it has none.</summary>
    private readonly Func<TEntity, long>? _versionOf;
    private readonly CachingGenTelemetry _telemetry;
    private readonly ILogger _logger;
    private readonly KeyValuePair<string, object?> _repositoryTag;
    private readonly ConcurrentDictionary<string, Flight> _flights = new(StringComparer.Ordinal);
    private readonly EnvelopeCodec<TEntity> _envelopes;
    private readonly ConcurrentQueue<(string Key, Flight Flight)> _finishedFlights = new();
    private int _sweeping;

    /// <summary>Flights whose fill has not been sent yet: a reader of such a key may join without a lookup.</summary>
    private int _openFlights;

    /// <summary>A sequence (not a clock) of flight events: a load about to start, a fill about to be sent, a flight
    /// settling. A reader notes it before its lookup, so it can tell whether its lookup started before a flight's load
    /// started, before its fill was sent, or before it settled (see <see cref="Flight.Meet"/>). Only misses advance it:
    /// a hit reads it once.</summary>
    private long _flightEvents;

    internal EntityCache(CachingGenRuntime runtime, RepositoryDescriptor repository, Func<TEntity, long>? versionOf = null)
    {
        _runtime = runtime;
        Repository = repository;
        _versionOf = versionOf;
        _store = runtime.Store;
        _serializerOptions = repository.SerializerOptions ?? throw new ArgumentException("The repository has no serializer options.", nameof(repository));
        _fingerprint = _serializerOptions.Resolver is ISchemaFingerprintProvider provider ? provider.GetSchemaFingerprint<TEntity>() : 0;
        _envelopes = new EnvelopeCodec<TEntity>(_fingerprint, _serializerOptions);
        _directWriteCoordinator = repository.HasWriteBack ? runtime.Coordinator : null;
        _telemetry = runtime.Telemetry;
        _logger = runtime.Logger;
        _repositoryTag = new KeyValuePair<string, object?>(CachingGenTelemetry.RepositoryTag, repository.Name);
        _sharedLookups = SharesLookupsOn(runtime) ? new object?[SharedLookupSlots] : null;
    }

    /// <summary>The repository this cache serves.</summary>
    public RepositoryDescriptor Repository { get; }

    /// <summary>Whether the entity has a <see cref="CacheVersionAttribute"/> member: entries carry its version and
    /// write-throughs update the cache in one compare-and-set step.</summary>
    public bool IsVersioned => _versionOf is not null;

    /// <summary>The schema fingerprint stored in (and required of) this entity type's envelopes.</summary>
    public ulong SchemaFingerprint => _fingerprint;

    // The slow paths are async methods marked NoInlining: inlined, each one's state machine would be a local of this
    // method, zeroed on every call, read hits included.
    /// <summary>Read-through: hit → cached value; miss → one inner call per key (single-flight), fill, return.</summary>
    public ValueTask<TEntity?> ReadThroughAsync<TState>(string key, ReadPolicy policy, TState state, Func<TState, CancellationToken, ValueTask<TEntity?>> load, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(load);
        if (CachingGenTelemetry.Source.HasListeners())
        {
            return ReadWithActivityAsync(key, policy, state, load, cancellationToken);
        }

        return JoinOrLookUpAsync(key, policy, state, load, null, afterSharedLookup: false, cancellationToken);
    }

    /// <summary>Write-through of one entity: a write marker, the database write (through <paramref name="write"/>),
    /// then the cache entry, stored only if no other write of the key overlapped (see <see cref="ICacheStore"/>).</summary>
    public async ValueTask WriteThroughAsync<TState>(string key, TEntity entity, WriteThroughPolicy policy, TState state, Func<TState, CancellationToken, ValueTask> write, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(write);
        using var activity = StartActivity("CachingGen.WriteThrough", policy.Method);
        var keys = new[] { key };
        var values = new[] { Encode(entity) };
        using (await EnterAsync(keys, cancellationToken).ConfigureAwait(false))
        {
            if (_versionOf is null)
            {
                await WriteThroughCoreAsync(keys, values, policy, state, write, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await VersionedWriteThroughAsync(keys, values, [entity], policy, state, write, cancellationToken).ConfigureAwait(false);
            }
        }

        CountWrite(WriteThroughStrategy, policy.Method);
    }

    /// <summary>Write-through of many entities: one batch of write markers, the database write, then one batch of
    /// completions.</summary>
    public async ValueTask WriteThroughManyAsync<TState>(IReadOnlyList<TEntity> entities, Func<TEntity, string> keyOf, WriteThroughPolicy policy, TState state, Func<TState, CancellationToken, ValueTask> write, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entities);
        ArgumentNullException.ThrowIfNull(keyOf);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(write);
        using var activity = StartActivity("CachingGen.WriteThrough", policy.Method);
        var keys = new string[entities.Count];
        var values = new ReadOnlyMemory<byte>[entities.Count];
        for (var i = 0; i < keys.Length; i++)
        {
            keys[i] = keyOf(entities[i]);
            values[i] = Encode(entities[i]);
        }

        using (await EnterAsync(keys, cancellationToken).ConfigureAwait(false))
        {
            if (_versionOf is null)
            {
                await WriteThroughCoreAsync(keys, values, policy, state, write, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await VersionedWriteThroughAsync(keys, values, entities, policy, state, write, cancellationToken).ConfigureAwait(false);
            }
        }

        CountWrite(WriteThroughStrategy, policy.Method);
    }

    /// <summary>Write-around of the given keys: database only, then (unless disabled) one batched invalidation.</summary>
    public async ValueTask WriteAroundAsync<TState>(IReadOnlyList<string> keys, WriteAroundPolicy policy, TState state, Func<TState, CancellationToken, ValueTask> write, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(write);
        using var activity = StartActivity("CachingGen.WriteAround", policy.Method);
        using (await EnterAsync(keys, cancellationToken).ConfigureAwait(false))
        {
            try
            {
                await write(state, cancellationToken).ConfigureAwait(false);
            }
            catch when (policy.Invalidate && keys.Count > 0)
            {
                await InvalidateAfterFailedWriteAsync(WriteAroundStrategy, policy.Method, keys, policy.FillTimeToLive).ConfigureAwait(false);
                throw;
            }

            if (policy.Invalidate && keys.Count > 0)
            {
                await InvalidateAfterWriteAsync(WriteAroundStrategy, policy.Method, keys, policy.FillTimeToLive).ConfigureAwait(false);
            }
        }

        CountWrite(WriteAroundStrategy, policy.Method);
    }

    /// <summary>Evict: database first (through <paramref name="delete"/>), then the entries of the keys are removed.</summary>
    public async ValueTask EvictAsync<TState>(IReadOnlyList<string> keys, EvictPolicy policy, TState state, Func<TState, CancellationToken, ValueTask> delete, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(delete);
        using var activity = StartActivity("CachingGen.Evict", policy.Method);
        using (await EnterAsync(keys, cancellationToken).ConfigureAwait(false))
        {
            try
            {
                await delete(state, cancellationToken).ConfigureAwait(false);
            }
            catch when (keys.Count > 0)
            {
                await InvalidateAfterFailedWriteAsync(EvictStrategy, policy.Method, keys, null).ConfigureAwait(false);
                throw;
            }

            if (keys.Count > 0)
            {
                await InvalidateAfterWriteAsync(EvictStrategy, policy.Method, keys, null).ConfigureAwait(false);
            }
        }

        CountWrite(EvictStrategy, policy.Method);
    }

    /// <summary>Write-back: the pinned cache entry and the log record in one step, then acknowledge.</summary>
    /// <param name="key">The entity's cache key.</param>
    /// <param name="entity">The entity as it will be after the write (stored in the cache).</param>
    /// <param name="idempotencyPart">The encoded value of the idempotency member; the record's idempotency key is <c>{key}@{idempotencyPart}</c>.</param>
    /// <param name="policy">The method's policy.</param>
    /// <param name="arguments">The call's arguments, serialized with <see cref="WriteBackArguments"/>.</param>
    /// <param name="cancellationToken">Cancels the call before it is acknowledged.</param>
    public async ValueTask WriteBackAsync(string key, TEntity entity, string idempotencyPart, WriteBackPolicy policy, byte[] arguments, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(idempotencyPart);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(arguments);
        using var activity = StartActivity("CachingGen.WriteBack", policy.Method);
        var record = new WriteBackRecord(Repository.Name, policy.Method, key, string.Concat(key, "@", idempotencyPart), arguments, _runtime.TimeProvider.GetUtcNow())
        {
            TimeToLive = policy.TimeToLive,
            Coalesce = policy.Coalesce,
        };
        var pinned = new CacheEntry(key, Encode(entity), null);
        var log = _runtime.WriteBackLog;
        CloseOpenFlights([key]);
        using (await _runtime.Coordinator.EnterAsync(key, cancellationToken).ConfigureAwait(false))
        {
            var pendingInvalidation = _runtime.PendingInvalidations.RegistrationOf(key);
            await log.AppendAsync(record, pinned, cancellationToken).ConfigureAwait(false);

            // The append pinned the newest value over whatever stale entry the pending invalidation guarded against:
            // reads may use the cache again (bypassing it would read the database, which lacks this write until the flush).
            if (pendingInvalidation is not null)
            {
                _runtime.PendingInvalidations.Forget(key, pendingInvalidation);
            }
        }

        _runtime.WriteBack.Signal(WriteBackSharding.ShardOf(key, log.ShardCount));
        _telemetry.Appends.Add(1, _repositoryTag, new KeyValuePair<string, object?>(CachingGenTelemetry.MethodTag, policy.Method));
        CountWrite(WriteBackStrategy, policy.Method);
    }

    /// <summary>The number of flights in the table, running or finished and still joinable, for tests.</summary>
    internal int CountFlights() => _flights.Count;

    /// <summary>The number of callers waiting on the in-flight load of <paramref name="key"/> (0 when none), for tests.</summary>
    internal int GetFlightWaiters(string key) => _flights.TryGetValue(key, out var flight) && !flight.Completion.Task.IsCompleted ? Math.Max(flight.Waiters, 0) : 0;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private async ValueTask<TEntity?> ReadWithActivityAsync<TState>(string key, ReadPolicy policy, TState state, Func<TState, CancellationToken, ValueTask<TEntity?>> load, CancellationToken cancellationToken)
    {
        using var activity = StartActivity("CachingGen.ReadThrough", policy.Method);
        try
        {
            return await JoinOrLookUpAsync(key, policy, state, load, activity, afterSharedLookup: false, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (activity is not null)
        {
            activity.SetStatus(ActivityStatusCode.Error, exception.Message);
            throw;
        }
    }

    /// <summary>Joins the open flight of <paramref name="key"/> (see <see cref="TryJoinOpenFlight"/>) or looks the key up
    /// (see <see cref="LookUpAsync"/>).</summary>
    private ValueTask<TEntity?> JoinOrLookUpAsync<TState>(string key, ReadPolicy policy, TState state, Func<TState, CancellationToken, ValueTask<TEntity?>> load, Activity? activity, bool afterSharedLookup, CancellationToken cancellationToken)
        => TryJoinOpenFlight(key, out var open)
            ? ReadOnOpenFlightAsync(open, key, policy, state, load, activity, cancellationToken)
            : LookUpAsync(key, policy, state, load, activity, afterSharedLookup, cancellationToken);

    /// <summary>
    /// Joins the flight of <paramref name="key"/> without a lookup when its fill has not been sent yet. Race-free because
    /// this reader started before that fill was sent, and the joiner keeps the value only if the fill is stored: a
    /// stored fill is a compare-and-set against the state the flight's own lookup saw, so no write touched the key's cache
    /// state between that lookup and the fill. Every write acknowledged before this reader started changed that state
    /// (a marker, tombstone or value) before it was acknowledged, so it happened before the flight's lookup, and its
    /// database write is visible to the flight's load, which started after that lookup.
    /// </summary>
    private bool TryJoinOpenFlight(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Flight? flight)
    {
        flight = null;
        if (Volatile.Read(ref _openFlights) == 0 || !_flights.TryGetValue(key, out var existing) || !IsJoinableWithoutLookup(key, existing)
            || !existing.TryJoin())
        {
            return false;
        }

        flight = existing;
        return true;
    }

    /// <summary>Whether a reader may join <paramref name="flight"/> of <paramref name="key"/> without a lookup (see
    /// <see cref="TryJoinOpenFlight"/>): it has not sent its fill, and no failed cache step left the key to the database.</summary>
    private bool IsJoinableWithoutLookup(string key, Flight flight) => flight.IsOpen && !_runtime.PendingInvalidations.Contains(key);

    private ValueTask<TEntity?> ReadOnOpenFlightAsync<TState>(Flight flight, string key, ReadPolicy policy, TState state, Func<TState, CancellationToken, ValueTask<TEntity?>> load, Activity? activity, CancellationToken cancellationToken)
        => WaitToReadOnAsync(null, mayTakeAnswer: false, eventsSeen: 0, flight, key, policy, state, load, activity, cancellationToken);

    private ValueTask<TEntity?> ReadOnSharedLookupAsync<TState>(SharedLookup shared, bool mayTakeAnswer, long eventsSeen, string key, ReadPolicy policy, TState state, Func<TState, CancellationToken, ValueTask<TEntity?>> load, Activity? activity, CancellationToken cancellationToken)
        => WaitToReadOnAsync(shared, mayTakeAnswer, eventsSeen, null, key, policy, state, load, activity, cancellationToken);

    /// <summary>
    /// A reader that waits: for the shared lookup <paramref name="shared"/> (see <see cref="TryShareLookup"/>), whose
    /// miss usually leaves an open flight to join, or for the open <paramref name="flight"/> it joined already. One
    /// method for both, so that a reader of a stampede that does both is one state machine, not one awaiting another.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private async ValueTask<TEntity?> WaitToReadOnAsync<TState>(SharedLookup? shared, bool mayTakeAnswer, long eventsSeen, Flight? flight, string key, ReadPolicy policy, TState state, Func<TState, CancellationToken, ValueTask<TEntity?>> load, Activity? activity, CancellationToken cancellationToken)
    {
        var tookValue = false;
        if (shared is not null && !mayTakeAnswer && !cancellationToken.CanBeCanceled && shared.TryWaitAsLatecomer(out var go))
        {
            // Wakes when the lookup ended without a flight to hand this reader to, when the flight it was handed to
            // settled, or when that flight loaded its value and this reader's right to it was confirmed.
            await go.ConfigureAwait(false);
            flight = shared.HandedFlight;
            tookValue = shared.LatecomersTakeValue;
        }
        else if (shared is not null)
        {
            await shared.WhenEndedAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        if (shared is not null && flight is null)
        {
            if (shared.Outcome == SharedLookupOutcome.Unavailable)
            {
                // Its reader reported the outage; this read goes to the database as that one does.
                return await BypassAsync(policy, state, load, activity, cancellationToken).ConfigureAwait(false);
            }

            if (mayTakeAnswer && shared.Outcome == SharedLookupOutcome.Answered)
            {
                // The lookup's reader noted its number before registering, which may be before this read started: a
                // flight whose load started in between would seem to have started after this read's lookup. This read's
                // own number was noted before the shared lookup was sent, and a larger number only makes Flight.Meet stricter.
                return await ReadOnAnswer(shared.Answer, default, key, policy, state, load, Math.Max(eventsSeen, shared.EventsSeen), activity, cancellationToken).ConfigureAwait(false);
            }

            // The lookup was sent before this read started (or failed for its own reader, who cancelled): on a miss it
            // left an open flight, which this read may join; otherwise the key is looked up again, by a lookup sent
            // after now.
            if (!TryJoinOpenFlight(key, out flight))
            {
                return await LookUpAsync(key, policy, state, load, activity, afterSharedLookup: true, cancellationToken).ConfigureAwait(false);
            }
        }

        if (!cancellationToken.CanBeCanceled && !tookValue)
        {
            // The flight settles after its value is loaded (or its load failed), so a reader that cannot leave wakes once,
            // at the settlement, not twice. One that can leave waits for the value first: Flight.WaitAsync counts it
            // out when it leaves, so that a load nobody waits for any more is cancelled.
            await flight!.WaitForFillAsync(CancellationToken.None).ConfigureAwait(false);
        }

        var value = await flight!.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (!tookValue)
        {
            // Whether this reader may keep the value depends on the fill, which may still be on its way.
            await flight.WaitForFillAsync(cancellationToken).ConfigureAwait(false);
        }

        if (tookValue || flight.FillStored)
        {
            activity?.SetTag("cachinggen.hit", false);
            _telemetry.Misses.Add(1, _repositoryTag, new KeyValuePair<string, object?>(CachingGenTelemetry.MethodTag, policy.Method));
            return value;
        }

        // The flight's fill was refused (a write came between its lookup and its fill) or not made: its value may be
        // older than a write this read must see. Read as if the flight had not been there.
        return await LookUpAsync(key, policy, state, load, activity, afterSharedLookup: false, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Looks <paramref name="key"/> up in the store (or shares a lookup of it in progress, see
    /// <see cref="TryShareLookup"/>) and reads on from its answer. <paramref name="afterSharedLookup"/>: this reader
    /// waited for a shared lookup it could not take the answer of, and that lookup has left its slot since, so every
    /// lookup now in the slot started after this read.</summary>
    private ValueTask<TEntity?> LookUpAsync<TState>(string key, ReadPolicy policy, TState state, Func<TState, CancellationToken, ValueTask<TEntity?>> load, Activity? activity, bool afterSharedLookup, CancellationToken cancellationToken)
    {
        if (_runtime.PendingInvalidations.Contains(key))
        {
            return BypassAsync(policy, state, load, activity, cancellationToken);
        }

        var eventsSeen = Volatile.Read(ref _flightEvents);
        var owned = default(OwnedLookup);
        if (_sharedLookups is not null && TryShareLookup(key, eventsSeen, afterSharedLookup, out owned, out var shared, out var mayTakeAnswer))
        {
            return ReadOnSharedLookupAsync(shared, mayTakeAnswer, eventsSeen, key, policy, state, load, activity, cancellationToken);
        }

        ValueTask<CacheLookup> pending;
        try
        {
            pending = _store.GetAsync(key, cancellationToken);
        }
        catch (CacheStoreUnavailableException exception)
        {
            EndSharedLookup(ref owned, SharedLookupOutcome.Unavailable, default);
            _runtime.Outages.Report(exception, "read");
            return BypassAsync(policy, state, load, activity, cancellationToken);
        }
        catch
        {
            EndSharedLookup(ref owned, SharedLookupOutcome.Failed, default);
            throw;
        }

        if (pending.IsCompletedSuccessfully)
        {
            return ReadOnAnswer(pending.Result, owned, key, policy, state, load, eventsSeen, activity, cancellationToken);
        }

        return LookupRead<TState>.Start(this, pending, owned, key, policy, state, load, eventsSeen, activity, cancellationToken);
    }

    /// <summary>Reads on from the store's answer to a lookup that started when <c>_flightEvents</c> was
    /// <paramref name="eventsSeen"/>, and hands that answer to the readers sharing <paramref name="owned"/>: at once
    /// when it found an entry, after the miss has started or joined the key's flight otherwise (so the readers that
    /// come back to the key find it).</summary>
    private ValueTask<TEntity?> ReadOnAnswer<TState>(CacheLookup lookup, OwnedLookup owned, string key, ReadPolicy policy, TState state, Func<TState, CancellationToken, ValueTask<TEntity?>> load, long eventsSeen, Activity? activity, CancellationToken cancellationToken)
    {
        if (lookup.Found)
        {
            EndSharedLookup(ref owned, SharedLookupOutcome.Answered, lookup);
            if (TryReadHit(key, policy, lookup.Value, out var value))
            {
                activity?.SetTag("cachinggen.hit", true);
                return new ValueTask<TEntity?>(value);
            }

            return ReadUnusableEntryAsync(key, policy, state, load, activity, cancellationToken);
        }

        return ReadMissAsync(key, policy, state, load, lookup, eventsSeen, owned, activity, cancellationToken);
    }

    /// <summary>
    /// A lookup found an entry this build cannot use (logged and counted by <see cref="TryReadHit"/>). It is invalidated
    /// to get a fill token, so the next fill overwrites it. A pinned one may stand for write-back records that are not
    /// flushed yet: like a direct write, the invalidation holds the key's gate after those records are flushed, so the
    /// load reads them from the database and no write-back acknowledged meanwhile in this process is erased. Apart from
    /// <see cref="ReadMissAsync"/>, so that every miss's state machine does not carry this rare path's fields.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private async ValueTask<TEntity?> ReadUnusableEntryAsync<TState>(string key, ReadPolicy policy, TState state, Func<TState, CancellationToken, ValueTask<TEntity?>> load, Activity? activity, CancellationToken cancellationToken)
    {
        long eventsSeen;
        CacheLookup lookup;
        try
        {
            var keys = new[] { key };
            using (await EnterAsync(keys, cancellationToken).ConfigureAwait(false))
            {
                // Another process may have acknowledged a write-back of the key since the drain (a build with
                // another schema, during a rolling deploy); its pinned value must stay readable there.
                await InvalidateKeysAsync(keys, null, cancellationToken).ConfigureAwait(false);
            }

            eventsSeen = Volatile.Read(ref _flightEvents);
            lookup = await _store.GetAsync(key, cancellationToken).ConfigureAwait(false);
        }
        catch (CacheStoreUnavailableException exception)
        {
            _runtime.Outages.Report(exception, "read");
            return await BypassAsync(policy, state, load, activity, cancellationToken).ConfigureAwait(false);
        }

        if (lookup.Found && TryReadHit(key, policy, lookup.Value, out var written))
        {
            activity?.SetTag("cachinggen.hit", true);
            return written;
        }

        return await ReadMissAsync(key, policy, state, load, lookup, eventsSeen, default, activity, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A miss: joins the key's flight when it may, or starts one. Not async itself: a starter that cannot
    /// cancel gets its flight's own task, so a miss pays one state machine for the load, not two. The readers
    /// sharing <paramref name="owned"/> (the lookup that missed) are let go once the key's flight is in the table and
    /// before its load starts, so those that may not take this answer find the flight open; those of them that cannot
    /// leave are joined to the flight it opened right here (see <see cref="SharedLookup.TryWaitAsLatecomer"/>).</summary>
    private ValueTask<TEntity?> ReadMissAsync<TState>(string key, ReadPolicy policy, TState state, Func<TState, CancellationToken, ValueTask<TEntity?>> load, CacheLookup lookup, long eventsSeen, OwnedLookup owned, Activity? activity, CancellationToken cancellationToken)
    {
        try
        {
            activity?.SetTag("cachinggen.hit", false);
            _telemetry.Misses.Add(1, _repositoryTag, new KeyValuePair<string, object?>(CachingGenTelemetry.MethodTag, policy.Method));
            Flight? created = null;
            while (true)
            {
                if (_flights.TryGetValue(key, out var existing))
                {
                    var meeting = existing.Meet(eventsSeen, lookup);
                    if (meeting == FlightMeeting.Share && existing.TryJoin())
                    {
                        EndSharedLookup(ref owned, SharedLookupOutcome.Answered, lookup);
                        return existing.WaitAsync(cancellationToken);
                    }

                    if (meeting == FlightMeeting.LookAgainAfterFill)
                    {
                        EndSharedLookup(ref owned, SharedLookupOutcome.Answered, lookup);
                        return LookUpAfterFillAsync(existing, key, policy, state, load, activity, cancellationToken);
                    }

                    created ??= NewFlight(lookup, cancellationToken);
                    if (_flights.TryUpdate(key, created, existing))
                    {
                        break;
                    }

                    continue;
                }

                created ??= NewFlight(lookup, cancellationToken);
                if (_flights.TryAdd(key, created))
                {
                    break;
                }
            }

            if (created.IsOpen)
            {
                Interlocked.Increment(ref _openFlights);
            }

            // The latecomers would join this flight the moment they woke (see TryJoinOpenFlight): they join it here.
            if (EndSharedLookup(ref owned, SharedLookupOutcome.Answered, lookup, IsJoinableWithoutLookup(key, created) ? created : null))
            {
                _ = ConfirmForLatecomersAsync(created, key, lookup);
            }

            if (!cancellationToken.CanBeCanceled)
            {
                // The starter cannot leave its flight, so it awaits the load itself: no thread-pool hop for its result.
                return RunFlightAsync(created, key, policy, state, load, lookup);
            }

            // Its outcome reaches the starter, and every joiner, through the flight's completion; this task never fails.
            _ = RunFlightAsync(created, key, policy, state, load, lookup);
            return created.WaitAsync(cancellationToken);
        }
        catch
        {
            // Whatever failed before the readers sharing this lookup were let go (a metrics listener that throws, say)
            // must not leave them, and the key's slot, waiting for good.
            EndSharedLookup(ref owned, SharedLookupOutcome.Failed, default);
            throw;
        }
    }

    /// <summary>
    /// Looks <paramref name="key"/> up once more for the latecomers just handed to <paramref name="flight"/>, whose own
    /// lookup answered the miss <paramref name="missed"/>. A latecomer started after that lookup was sent, so a write
    /// acknowledged before it started may have come after the lookup was answered; such a write is visible to the load
    /// (which starts after every latecomer arrived) unless it is a write-back not flushed yet. Without this lookup the
    /// latecomers keep the value only if the fill is stored (a compare-and-set against the missed state), one more round
    /// trip after the load. This lookup, sent after every latecomer arrived and before the load starts, settles it
    /// sooner: when it finds the same missed state, every write acknowledged before a latecomer started changed that
    /// state before the flight's lookup (or the two would differ), so it came before the load too, write-backs included
    /// (a pinned value would have been a hit). That holds unless a value written in between has already expired or been
    /// evicted, the same kind of gap as the store's limitation for fills (narrower here: this lookup is sent before the
    /// load starts). The latecomers then take the value as
    /// soon as it is loaded. Any other answer, or none, leaves them to the fill. Never throws: nobody awaits it.
    /// </summary>
    private async Task ConfirmForLatecomersAsync(Flight flight, string key, CacheLookup missed)
    {
        try
        {
            var again = await _store.GetAsync(key, CancellationToken.None).ConfigureAwait(false);
            if (!again.Found && !again.WriteInProgress && again.FillToken == missed.FillToken)
            {
                flight.ConfirmLatecomers();
            }
        }
        catch (Exception)
        {
            // The store failed this lookup: the latecomers wait for the fill's outcome, as without it, and the fill
            // reports the outage if it persists.
        }
    }

    /// <summary>Loading now would be a second inner call for the same miss: the fill this lookup may have overtaken is
    /// (or was) on its way, so the next lookup is a hit, unless a write came between.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private async ValueTask<TEntity?> LookUpAfterFillAsync<TState>(Flight flight, string key, ReadPolicy policy, TState state, Func<TState, CancellationToken, ValueTask<TEntity?>> load, Activity? activity, CancellationToken cancellationToken)
    {
        await flight.WaitForFillAsync(cancellationToken).ConfigureAwait(false);
        return await LookUpAsync(key, policy, state, load, activity, afterSharedLookup: false, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A flight for a miss on <paramref name="lookup"/>. It is open to joiners without a lookup only when it
    /// will fill; it needs its own cancellation only when its starter can leave it. Its load number is drawn here,
    /// before the flight is published and its load starts, so a reader that noted an earlier number certainly started
    /// its lookup before the load.</summary>
    private Flight NewFlight(CacheLookup lookup, CancellationToken starterToken)
        => new(lookup.FillToken, lookup.WriteInProgress, Interlocked.Increment(ref _flightEvents), open: !lookup.Found && !lookup.WriteInProgress, cancellable: starterToken.CanBeCanceled);

    /// <summary>Loads, fills and settles <paramref name="flight"/>. Its value reaches the starter (this task) and the
    /// joiners (its completion) once loaded: a read does not wait for its fill, which is a cache step like any other
    /// (refused by its token if a write came first). Only the starter of a flight without its own cancellation awaits
    /// this task, so only that flight's task fails with the load; any other never fails (nobody observes it: its
    /// starter and the joiners read the flight's completion).</summary>
    private async ValueTask<TEntity?> RunFlightAsync<TState>(Flight flight, string key, ReadPolicy policy, TState state, Func<TState, CancellationToken, ValueTask<TEntity?>> load, CacheLookup lookup)
    {
        var token = flight.Cancellation?.Token ?? CancellationToken.None;
        TEntity? value;
        try
        {
            value = await load(state, token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            EndFailedFlight(flight, key);
            flight.Completion.TrySetCanceled(token);

            // Only a flight with its own cancellation is cancelled, and its starter waits on the completion instead.
            return default;
        }
        catch (Exception exception)
        {
            EndFailedFlight(flight, key);
            flight.Completion.TrySetException(exception);
            if (flight.Cancellation is null)
            {
                throw;
            }

            return default;
        }

        ValueTask<bool> fill = default;
        var filling = false;
        if (!lookup.Found && !lookup.WriteInProgress)
        {
            CloseFlight(flight, Interlocked.Increment(ref _flightEvents));
            filling = TryStartFill(key, policy, lookup, value, token, out fill);
        }

        if (filling && !fill.IsCompleted)
        {
            // The value is the database's, read after this flight's lookup: every reader that may take it can go now.
            // Counted before the value is published, so a reader that returns can wait for this fill.
            _runtime.PendingFills.Enter();
            flight.Completion.TrySetResult(value);
            flight.MarkLoaded();
            _ = SettleAfterFillAsync(flight, key, policy, fill, token);
            return value;
        }

        var stored = false;
        try
        {
            if (filling)
            {
                try
                {
                    stored = fill.Result;
                    CountFill(key, policy, stored);
                }
                catch (Exception exception)
                {
                    ReportFillFailure(key, exception, token);
                }
            }
        }
        finally
        {
            // Whatever the telemetry or the logger did, the flight settles and its readers get the value.
            SettleFlight(flight, key, stored);
            flight.Completion.TrySetResult(value);
        }

        return value;
    }

    /// <summary>Sends the fill of <paramref name="value"/> unless nothing is to be cached (see <see cref="TryPrepareFill"/>);
    /// an encoding or a store that fails at once hands back a failed fill.</summary>
    private bool TryStartFill(string key, ReadPolicy policy, CacheLookup lookup, TEntity? value, CancellationToken token, out ValueTask<bool> fill)
    {
        fill = default;
        try
        {
            if (!TryPrepareFill(policy, lookup, value, out var bytes, out var ttl))
            {
                return false;
            }

            // A "not found" carries no version: a versioned write-through that meets it invalidates instead of
            // storing (the row may have been deleted after that write committed).
            fill = _versionOf is not null && value is not null
                ? _store.TryFillVersionedAsync(key, bytes, _versionOf(value), ttl, lookup.FillToken, token)
                : _store.TryFillAsync(key, bytes, ttl, lookup.FillToken, token);
        }
        catch (Exception exception)
        {
            // The value could not be encoded, or the store failed at once: a fill that fails never fails the read.
            fill = ValueTask.FromException<bool>(exception);
        }

        return true;
    }

    /// <summary>Settles <paramref name="flight"/> once its fill has an outcome, after its readers have its value.
    /// Never throws: nobody awaits it.</summary>
    private async Task SettleAfterFillAsync(Flight flight, string key, ReadPolicy policy, ValueTask<bool> fill, CancellationToken token)
    {
        var stored = false;
        try
        {
            stored = await fill.ConfigureAwait(false);
            CountFill(key, policy, stored);
        }
        catch (Exception exception)
        {
            ReportFillFailure(key, exception, token);
        }
        finally
        {
            try
            {
                SettleFlight(flight, key, stored);
            }
            finally
            {
                _runtime.PendingFills.Exit();
            }
        }
    }

    /// <summary>Records whether the flight's fill was stored and settles it. The settled flight stays
    /// in the table for a while, for callers whose miss reply reaches it only now (it crossed this load or its fill on
    /// the way): see <see cref="Flight.Meet"/> for which of them take its value.</summary>
    private void SettleFlight(Flight flight, string key, bool stored)
    {
        if (!stored)
        {
            CloseFlight(flight, long.MinValue);
        }

        flight.FillStored = stored;
        flight.Settle(Interlocked.Increment(ref _flightEvents));
        RetireLater(key, flight);
    }

    /// <summary>A flight whose load failed or was cancelled leaves the table at once; readers waiting for its fill
    /// look again.</summary>
    private void EndFailedFlight(Flight flight, string key)
    {
        CloseFlight(flight, long.MinValue);
        _flights.TryRemove(new KeyValuePair<string, Flight>(key, flight));
        flight.Settle(Interlocked.Increment(ref _flightEvents));
    }

    /// <summary>Ends a flight's openness (no more joins without a lookup) and records which fill it sent
    /// (<see cref="long.MinValue"/>: none, so no reader that looked the key up may join it any more).</summary>
    private void CloseFlight(Flight flight, long fillNumber)
    {
        if (flight.Close(fillNumber))
        {
            Interlocked.Decrement(ref _openFlights);
        }
    }

    /// <summary>How long a flight that loaded a value stays in the table. Correctness does not depend on it (only a
    /// reader whose lookup started before the load may take the value, see <see cref="Flight.Meet"/>); it only bounds
    /// the memory held for readers whose miss reply crossed the load, so it is far longer than such a reply can be late
    /// on a loaded machine.</summary>
    internal static readonly TimeSpan FinishedFlightWindow = TimeSpan.FromSeconds(1);

    /// <summary>The shortest sleep of the finished-flight sweeper: a flight may stay this much longer than
    /// <see cref="FinishedFlightWindow"/>, and the sweeper wakes at most once per interval.</summary>
    internal static readonly TimeSpan SweepInterval = TimeSpan.FromMilliseconds(20);

    /// <summary>Queues a finished flight for removal after <see cref="FinishedFlightWindow"/>. One sweeper per entity type
    /// (started when the queue was idle) removes them in order, so a flight costs no timer of its own.</summary>
    private void RetireLater(string key, Flight flight)
    {
        flight.FinishedAt = _runtime.TimeProvider.GetTimestamp();
        _finishedFlights.Enqueue((key, flight));
        if (Interlocked.CompareExchange(ref _sweeping, 1, 0) == 0)
        {
            _ = SweepFinishedFlightsAsync();
        }
    }

    private async Task SweepFinishedFlightsAsync()
    {
        var time = _runtime.TimeProvider;
        while (true)
        {
            while (_finishedFlights.TryPeek(out var next))
            {
                var remaining = FinishedFlightWindow - time.GetElapsedTime(next.Flight.FinishedAt);
                if (remaining > TimeSpan.Zero)
                {
                    // Flights finish one after another under load, so the next is nearly always due within a
                    // millisecond; a timer cannot wait that little (it fires at once), and waiting for exactly the
                    // next one would spin. Sleeping at least SweepInterval removes the flights of that interval at once.
                    await Task.Delay(remaining > SweepInterval ? remaining : SweepInterval, time).ConfigureAwait(false);
                    continue;
                }

                _finishedFlights.TryDequeue(out _);
                _flights.TryRemove(new KeyValuePair<string, Flight>(next.Key, next.Flight));
            }

            Volatile.Write(ref _sweeping, 0);
            if (_finishedFlights.IsEmpty || Interlocked.CompareExchange(ref _sweeping, 1, 0) != 0)
            {
                return;
            }
        }
    }

    /// <summary>What a fill stores for a loaded value: its envelope and time to live, or a "not found" when the policy
    /// caches those. False when nothing is stored (a null value the policy does not cache).</summary>
    private bool TryPrepareFill(ReadPolicy policy, CacheLookup lookup, TEntity? value, out ReadOnlyMemory<byte> bytes, out TimeSpan ttl)
    {
        if (value is null)
        {
            bytes = default;
            ttl = default;
            if (policy.NullTimeToLive is not { } nullTtl)
            {
                return false;
            }

            bytes = CacheEnvelope.EncodeNotFound(_fingerprint);
            ttl = nullTtl;
            return true;
        }

        bytes = _envelopes.Encode(value);
        ttl = lookup.FillTimeToLive ?? policy.TimeToLive;
        return true;
    }

    private void CountFill(string key, ReadPolicy policy, bool stored)
    {
        var method = new KeyValuePair<string, object?>(CachingGenTelemetry.MethodTag, policy.Method);
        if (stored)
        {
            _telemetry.Fills.Add(1, _repositoryTag, method);
            return;
        }

        _telemetry.FillRefusals.Add(1, _repositoryTag, method);
        Log.FillRefused(_logger, key, Repository.Name);
    }

    /// <summary>A fill that fails leaves the key empty; it never fails the read. A fill cancelled because every reader
    /// of its flight left is no failure.</summary>
    private void ReportFillFailure(string key, Exception exception, CancellationToken token)
    {
        if (exception is OperationCanceledException && token.IsCancellationRequested)
        {
            return;
        }

        if (exception is CacheStoreUnavailableException unavailable)
        {
            _runtime.Outages.Report(unavailable, "fill");
        }
        else
        {
            Log.FillFailed(_logger, exception, key, Repository.Name);
        }
    }

    /// <summary>A read that does not use the cache: the store is unavailable, or the key's invalidation is pending in
    /// this process. No single flight (a shared load might predate a write this read must see) and no fill.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private async ValueTask<TEntity?> BypassAsync<TState>(ReadPolicy policy, TState state, Func<TState, CancellationToken, ValueTask<TEntity?>> load, Activity? activity, CancellationToken cancellationToken)
    {
        activity?.SetTag("cachinggen.hit", false);
        activity?.SetTag("cachinggen.bypass", true);
        _telemetry.Misses.Add(1, _repositoryTag, new KeyValuePair<string, object?>(CachingGenTelemetry.MethodTag, policy.Method));
        return await load(state, cancellationToken).ConfigureAwait(false);
    }

    private bool TryReadHit(string key, ReadPolicy policy, ReadOnlyMemory<byte> bytes, out TEntity? value)
    {
        if (_envelopes.TryDecode(bytes, out value, out var reason))
        {
            // Enabled only while a listener collects the counter: without one, a hit builds no tags.
            if (_telemetry.Hits.Enabled)
            {
                _telemetry.Hits.Add(1, _repositoryTag, new KeyValuePair<string, object?>(CachingGenTelemetry.MethodTag, policy.Method));
            }

            return true;
        }

        _telemetry.CorruptEntries.Add(1, _repositoryTag, new KeyValuePair<string, object?>(CachingGenTelemetry.MethodTag, policy.Method));
        Log.CorruptEntry(_logger, key, Repository.Name, reason ?? "unknown");
        return false;
    }

    private ReadOnlyMemory<byte> Encode(TEntity? entity) => _envelopes.Encode(entity);

    private ValueTask<WriteBackCoordinator.Lease> EnterAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        CloseOpenFlights(keys);
        return _directWriteCoordinator is null || keys.Count == 0
            ? new ValueTask<WriteBackCoordinator.Lease>(default(WriteBackCoordinator.Lease))
            : _directWriteCoordinator.EnterAndDrainAsync(keys, cancellationToken);
    }

    /// <summary>A write of these keys is starting in this process: readers that start from now on must not join a
    /// running load without a lookup (its fill will be refused, so they would wait for it only to read again).
    /// Writes of other processes are caught by the refused fill alone.</summary>
    private void CloseOpenFlights(IReadOnlyList<string> keys)
    {
        if (Volatile.Read(ref _openFlights) == 0)
        {
            return;
        }

        for (var i = 0; i < keys.Count; i++)
        {
            if (_flights.TryGetValue(keys[i], out var flight) && flight.CloseToJoiners())
            {
                Interlocked.Decrement(ref _openFlights);
            }
        }
    }

    /// <summary>The two cache steps around one write-through's database write. The begin step runs before the
    /// database write (its failure makes the keys pending, so this process reads them from the database until they are
    /// invalidated); the complete step runs after it, committed or not, and ignores the caller's cancellation.</summary>
    private async ValueTask WriteThroughCoreAsync<TState>(string[] keys, ReadOnlyMemory<byte>[] values, WriteThroughPolicy policy, TState state, Func<TState, CancellationToken, ValueTask> write, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        long[]? tokens = null;
        if (keys.Length > 0)
        {
            try
            {
                tokens = await BeginWritesAsync(keys, cancellationToken).ConfigureAwait(false);
            }
            catch (CacheStoreUnavailableException exception)
            {
                _runtime.Outages.Report(exception, "begin_write");
                _runtime.PendingInvalidations.Add(keys, fillTimeToLive: null);
            }
            catch (Exception exception)
            {
                Log.CacheUpdateFailed(_logger, exception, WriteThroughStrategy, policy.Method, Repository.Name);
                throw;
            }
        }

        try
        {
            await write(state, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            if (tokens is not null)
            {
                await CompleteWritesAsync(keys, values, tokens, policy, committed: false).ConfigureAwait(false);
            }

            throw;
        }

        if (tokens is not null)
        {
            await CompleteWritesAsync(keys, values, tokens, policy, committed: true).ConfigureAwait(false);
        }
    }

    /// <summary>A write-through of an entity with a <see cref="CacheVersionAttribute"/> member: the database write, then
    /// one compare-and-set per key (<see cref="ICacheStore.SetIfNewerAsync"/>) that stores the written entity only over
    /// an older version of it. No step before the database write: until this call returns, a read may still see the
    /// version before it, which a write not yet acknowledged allows. A failed database write invalidates the keys (it
    /// may have committed some of them), like a write-around. The entities were encoded before the database write (an
    /// entity that cannot be encoded fails the call before anything is written); one whose version the database write
    /// assigned (a mutable entity the inner repository updated) is encoded again with it.</summary>
    private async ValueTask VersionedWriteThroughAsync<TState>(string[] keys, ReadOnlyMemory<byte>[] values, IReadOnlyList<TEntity> entities, WriteThroughPolicy policy, TState state, Func<TState, CancellationToken, ValueTask> write, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var versionOf = _versionOf!;
        var versions = new long[keys.Length];
        for (var i = 0; i < versions.Length; i++)
        {
            versions[i] = versionOf(entities[i]);
        }

        try
        {
            await write(state, cancellationToken).ConfigureAwait(false);
        }
        catch when (keys.Length > 0)
        {
            await InvalidateAfterFailedWriteAsync(WriteThroughStrategy, policy.Method, keys, null).ConfigureAwait(false);
            throw;
        }

        if (keys.Length == 0)
        {
            return;
        }

        try
        {
            var entries = new VersionedEntry[keys.Length];
            for (var i = 0; i < entries.Length; i++)
            {
                var version = versionOf(entities[i]);
                entries[i] = version == versions[i]
                    ? new VersionedEntry(keys[i], values[i], version, policy.TimeToLive)
                    : new VersionedEntry(keys[i], Encode(entities[i]), version, policy.TimeToLive);
            }

            var outcomes = await _store.SetIfNewerAsync(entries, CancellationToken.None).ConfigureAwait(false);

            // Loads started during the database write may have read the row before it: a reader that starts now must
            // look the key up rather than join them (their fills will be refused or are older than what is cached).
            CloseOpenFlights(keys);
            if (_directWriteCoordinator is not null)
            {
                // A pinned entry left alone holds a write-back acknowledged while this write ran (kept: newer than the
                // database) or one already flushed whose settle was put off: the records acknowledged before this write
                // were flushed before it began (EnterAsync). The log's settle tells them apart, as after a write-around.
                var kept = Array.ConvertAll(outcomes, static outcome => outcome == VersionedWriteOutcome.PinnedKept);
                await InvalidationUnlessPending.SettleKeptAsync(_runtime.WriteBackLog, keys, kept, CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (CacheStoreUnavailableException exception)
        {
            _runtime.Outages.Report(exception, "set_if_newer");
            _runtime.PendingInvalidations.Add(keys, fillTimeToLive: null);
        }
        catch (Exception exception)
        {
            // The database has the write; an older version may still be cached.
            Log.CacheUpdateFailed(_logger, exception, WriteThroughStrategy, policy.Method, Repository.Name);
            await InvalidateAfterFailedWriteAsync(WriteThroughStrategy, policy.Method, keys, null).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The begin step of a write-through. A key the store refuses because its entry is pinned (a write-back
    /// record of it, possibly another process's, may be pending) is drained and settled, then begun again, so the
    /// write is ordered after that record; the markers already written are released meanwhile (the database
    /// has not been written yet). Bounded by <see cref="CachingGenOptions.DirectWriteDrainTimeout"/>.</summary>
    private async ValueTask<long[]> BeginWritesAsync(string[] keys, CancellationToken cancellationToken)
    {
        var started = _runtime.TimeProvider.GetTimestamp();

        // An outage here is the caller's to handle: the keys become pending invalidations.
        var tokens = await _store.BeginWritesAsync(keys, _runtime.Options.WriteLease, CancellationToken.None).ConfigureAwait(false);
        while (true)
        {
            var refused = Array.IndexOf(tokens, ICacheStore.RefusedPinnedToken);
            if (refused < 0)
            {
                return tokens;
            }

            // An outage from here on is an outage too, once the refused keys were drained: nothing of theirs was pending
            // then. The drain itself refuses to go on without the store (ReleasePinAsync).
            await ReleaseBegunAsync(keys, tokens).ConfigureAwait(false);
            await WaitForPinnedKeysAsync(keys, tokens, refused, started, cancellationToken).ConfigureAwait(false);
            tokens = await _store.BeginWritesAsync(keys, _runtime.Options.WriteLease, CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>Waits until the refused keys have no pending record in any process and settles their entries (bounded by
    /// <see cref="CachingGenOptions.DirectWriteDrainTimeout"/>).</summary>
    private async ValueTask WaitForPinnedKeysAsync(string[] keys, long[] tokens, int refused, long started, CancellationToken cancellationToken)
    {
        var timeout = _runtime.Options.DirectWriteDrainTimeout;
        if (_runtime.TimeProvider.GetElapsedTime(started) >= timeout)
        {
            throw new TimeoutException(
                $"A write-through of '{keys[refused]}' ({Repository.Name}) found the key's cache entry pinned by a pending write-back record for longer " +
                $"than {timeout} (DirectWriteDrainTimeout) and was NOT applied, so it cannot overtake that record. Check the flusher that owns the " +
                "key's shard (and the database), or raise CachingGenOptions.DirectWriteDrainTimeout, then retry.");
        }

        for (var i = refused; i < tokens.Length; i++)
        {
            if (tokens[i] == ICacheStore.RefusedPinnedToken)
            {
                await _runtime.Coordinator.ReleasePinAsync(keys[i], cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Releases the markers of a begin step that was refused for other keys (nothing was written to the
    /// database): each is completed as not committed.</summary>
    private async ValueTask ReleaseBegunAsync(string[] keys, long[] tokens)
    {
        var begun = new List<WriteCompletion>(tokens.Length);
        for (var i = 0; i < tokens.Length; i++)
        {
            if (tokens[i] != ICacheStore.RefusedPinnedToken)
            {
                begun.Add(new WriteCompletion(keys[i], tokens[i], default, TimeSpan.Zero, Committed: false));
            }
        }

        if (begun.Count > 0)
        {
            await _store.CompleteWritesAsync(begun, CancellationToken.None).ConfigureAwait(false);
        }
    }

    private async ValueTask CompleteWritesAsync(string[] keys, ReadOnlyMemory<byte>[] values, long[] tokens, WriteThroughPolicy policy, bool committed)
    {
        var completions = new WriteCompletion[keys.Length];
        for (var i = 0; i < completions.Length; i++)
        {
            completions[i] = new WriteCompletion(keys[i], tokens[i], values[i], policy.TimeToLive, committed);
        }

        try
        {
            await _store.CompleteWritesAsync(completions, CancellationToken.None).ConfigureAwait(false);
        }
        catch (CacheStoreUnavailableException exception)
        {
            // The markers stay until their lease ends (no process fills meanwhile); this process reads the keys from
            // the database until the retry has invalidated them.
            _runtime.Outages.Report(exception, "complete_write");
            _runtime.PendingInvalidations.Add(keys, fillTimeToLive: null);
        }
        catch (Exception exception) when (committed)
        {
            Log.CacheUpdateFailed(_logger, exception, WriteThroughStrategy, policy.Method, Repository.Name);
            throw;
        }
        catch (Exception exception)
        {
            // The database write failed: its exception is the one the caller must see.
            Log.CacheUpdateFailed(_logger, exception, WriteThroughStrategy, policy.Method, Repository.Name);
        }
    }

    /// <summary>The invalidation after a committed write-around or evict; an unavailable store leaves the keys pending.</summary>
    /// <remarks>On a repository with write-back methods it leaves an entry pinned by a pending write-back record alone
    /// (a pinned entry whose records were all flushed is invalidated by the log's settle).
    /// The key's records acknowledged before this write started were flushed first (its gate's drain reads the pending
    /// count every process shares), so a pinned entry now holds a record acknowledged while this write ran, possibly by
    /// another process: concurrent with it, and applied to the database after it by the flush. Invalidating that entry
    /// would make reads fill the row this write left and miss the acknowledged write until its flush.</remarks>
    private async ValueTask InvalidateAfterWriteAsync(string strategy, string method, IReadOnlyList<string> keys, TimeSpan? fillTimeToLive)
    {
        try
        {
            await InvalidateKeysAsync(keys, fillTimeToLive, CancellationToken.None).ConfigureAwait(false);
        }
        catch (CacheStoreUnavailableException exception)
        {
            _runtime.Outages.Report(exception, strategy);
            _runtime.PendingInvalidations.Add(keys, fillTimeToLive);
        }
        catch (Exception exception)
        {
            Log.CacheUpdateFailed(_logger, exception, strategy, method, Repository.Name);
            throw;
        }
    }

    /// <summary>Invalidates <paramref name="keys"/>; on a repository with write-back methods, unless a write-back record
    /// keeps an entry pinned (<see cref="InvalidationUnlessPending"/>).</summary>
    private ValueTask InvalidateKeysAsync(IReadOnlyList<string> keys, TimeSpan? fillTimeToLive, CancellationToken cancellationToken)
        => _directWriteCoordinator is null
            ? _store.InvalidateAsync(keys, fillTimeToLive, cancellationToken)
            : InvalidationUnlessPending.InvalidateAsync(_store, _runtime.WriteBackLog, keys, fillTimeToLive, cancellationToken);

    /// <summary>The invalidation after a write-around or evict whose database call failed: the call may have committed
    /// some or all of its rows before it failed (a bulk statement in chunks, a lost commit reply), and invalidating is
    /// always safe. Best effort: the database call's exception is the one the caller sees.</summary>
    private async ValueTask InvalidateAfterFailedWriteAsync(string strategy, string method, IReadOnlyList<string> keys, TimeSpan? fillTimeToLive)
    {
        try
        {
            await InvalidateAfterWriteAsync(strategy, method, keys, fillTimeToLive).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // InvalidateAfterWriteAsync logged it; an unavailable store left the keys pending instead of throwing.
        }
    }

    private void CountWrite(string strategy, string method)
        => _telemetry.Writes.Add(1, _repositoryTag, new KeyValuePair<string, object?>(CachingGenTelemetry.MethodTag, method), new KeyValuePair<string, object?>(CachingGenTelemetry.StrategyTag, strategy));

    private Activity? StartActivity(string name, string method)
    {
        var activity = CachingGenTelemetry.Source.StartActivity(name);
        if (activity is not null)
        {
            activity.SetTag(CachingGenTelemetry.RepositoryTag, Repository.Name);
            activity.SetTag(CachingGenTelemetry.MethodTag, method);
        }

        return activity;
    }

    /// <summary>What a miss does with the flight it finds in the table for its key (<see cref="Flight.Meet"/>).</summary>
    internal enum FlightMeeting
    {
        /// <summary>Take the flight's outcome: join it, or take its value when it has finished.</summary>
        Share,

        /// <summary>Wait until the flight has settled, then look the key up again: this lookup may have been answered
        /// before the flight's fill was stored.</summary>
        LookAgainAfterFill,

        /// <summary>Start a flight of its own: the flight's value may predate a write this read must see.</summary>
        LoadAgain,
    }

    /// <summary>One load of a key, shared by every caller that missed it; kept for a while after it finished.</summary>
    internal sealed class Flight(long fillToken, bool writeInProgress, long loadNumber, bool open, bool cancellable)
    {
        private int _waiters = 1;
        private int _open = open ? 1 : 0;
        private long _fillNumber = long.MaxValue;
        private long _settledNumber = long.MaxValue;

        private LazySignal _settled;

        /// <summary>The shared lookup whose latecomers were joined to this flight and wait for its settlement, or for
        /// its value once their right to it is confirmed (see <see cref="ConfirmLatecomers"/>).</summary>
        private SharedLookup? _handedLookup;

        /// <summary><see cref="ValueLoaded"/> and <see cref="LatecomersConfirmed"/>, as they happen.</summary>
        private int _earlyRelease;

        private const int ValueLoaded = 1;
        private const int LatecomersConfirmed = 2;

        /// <summary>Whether readers may still join without a lookup: the flight will fill and has not sent its fill yet.</summary>
        public bool IsOpen => Volatile.Read(ref _open) == 1;

        /// <summary>The <c>_flightEvents</c> number of this flight's fill: <see cref="long.MaxValue"/> before it is sent,
        /// <see cref="long.MinValue"/> when the flight ended without a stored fill.</summary>
        public long FillNumber => Volatile.Read(ref _fillNumber);

        /// <summary>Set before the flight settles: the fill was stored.</summary>
        public bool FillStored { get; set; }

        /// <summary>When the flight finished (a <see cref="TimeProvider"/> timestamp), for the sweeper.</summary>
        public long FinishedAt { get; set; }

        /// <summary>
        /// Decides what a miss whose lookup started when <c>_flightEvents</c> was <paramref name="eventsSeen"/> and
        /// answered <paramref name="lookup"/> does with this flight. A read must see every write acknowledged before it
        /// started, so it may take the flight's value only when that value is at least as new:
        /// <list type="bullet">
        /// <item><description>The load started after this lookup did (whatever the cache states and the fill): a write
        /// acknowledged before this read started was committed before the load read the database.</description></item>
        /// <item><description>The flight is running, its lookup saw the same cache state and its fill was not sent when
        /// this lookup started: a write acknowledged before this read started changed the key's cache state (a marker,
        /// tombstone or value) before that, so it came before the flight's lookup too, and before its load.</description></item>
        /// </list>
        /// A finished flight whose load started before this lookup is never shared: when it sent a fill that this
        /// lookup may have overtaken (the same state, the lookup started before the flight settled), the next lookup
        /// is a hit; otherwise (no fill, or the "absent" state came back after the fill: evicted, expired) the key is
        /// loaded again.
        /// </summary>
        public FlightMeeting Meet(long eventsSeen, CacheLookup lookup)
        {
            var outcome = Completion.Task;
            if (outcome.IsCompleted && !outcome.IsCompletedSuccessfully)
            {
                return FlightMeeting.LoadAgain;
            }

            if (eventsSeen < loadNumber)
            {
                return FlightMeeting.Share;
            }

            if (fillToken != lookup.FillToken || writeInProgress != lookup.WriteInProgress)
            {
                return FlightMeeting.LoadAgain;
            }

            // Settled is read first: a flight seen running here may finish before the join, which is then a join of a
            // running flight (its outcome is the one this reader waited for).
            var settledNumber = Volatile.Read(ref _settledNumber);
            var fillNumber = FillNumber;
            if (settledNumber == long.MaxValue && eventsSeen < fillNumber)
            {
                return FlightMeeting.Share;
            }

            return fillNumber != long.MinValue && eventsSeen < settledNumber ? FlightMeeting.LookAgainAfterFill : FlightMeeting.LoadAgain;
        }

        /// <summary>Records the <c>_flightEvents</c> number of the flight's end (its fill stored, refused or not made, or
        /// its load failed), then wakes the readers waiting for it.</summary>
        public void Settle(long settledNumber)
        {
            Volatile.Write(ref _settledNumber, settledNumber);
            _settled.Set();
            Interlocked.Exchange(ref _handedLookup, null)?.ReleaseLatecomers(mayTakeValue: false);
        }

        /// <summary>Lets <paramref name="lookup"/>'s latecomers go when this flight settles (at once if it has), or earlier
        /// with its value (see <see cref="ConfirmLatecomers"/>).</summary>
        public void ReleaseAtSettlement(SharedLookup lookup)
        {
            // A full fence between the write and the read, as in Settle: one of the two sees the other's write.
            Interlocked.Exchange(ref _handedLookup, lookup);
            if (Volatile.Read(ref _settledNumber) != long.MaxValue)
            {
                Interlocked.Exchange(ref _handedLookup, null)?.ReleaseLatecomers(mayTakeValue: false);
            }
        }

        /// <summary>The value is loaded (and in <see cref="Completion"/>): the handed latecomers take it now if their
        /// right to it is confirmed already.</summary>
        public void MarkLoaded() => ReleaseLatecomersEarly(ValueLoaded);

        /// <summary>A lookup sent after the handed latecomers arrived found the key's cache state as this flight's own
        /// lookup did (see <c>ConfirmForLatecomersAsync</c>): they may take the value without waiting for the fill.</summary>
        public void ConfirmLatecomers() => ReleaseLatecomersEarly(LatecomersConfirmed);

        private void ReleaseLatecomersEarly(int condition)
        {
            // Only the call that completes the pair sees both; the exchange lets the latecomers go once, here or in Settle.
            if ((Interlocked.Or(ref _earlyRelease, condition) | condition) == (ValueLoaded | LatecomersConfirmed))
            {
                Interlocked.Exchange(ref _handedLookup, null)?.ReleaseLatecomers(mayTakeValue: true);
            }
        }

        public TaskCompletionSource<TEntity?> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Cancels the load when every waiter has left; null when the starter cannot leave (its token cannot
        /// be cancelled), so the waiters never all leave.</summary>
        public CancellationTokenSource? Cancellation { get; } = cancellable ? new CancellationTokenSource() : null;

        /// <summary>Closes the flight to joins without a lookup and records its fill number; true the first time, when
        /// it was open.</summary>
        public bool Close(long fillNumber)
        {
            Volatile.Write(ref _fillNumber, fillNumber);
            return CloseToJoiners();
        }

        /// <summary>Waits until the flight has settled (see <see cref="Settle"/>).</summary>
        public Task WaitForFillAsync(CancellationToken cancellationToken) => _settled.WhenSet().WaitAsync(cancellationToken);

        /// <summary>Closes the flight to joins without a lookup; true the first time, when it was open.</summary>
        public bool CloseToJoiners() => Interlocked.Exchange(ref _open, 0) == 1;

        public int Waiters => Volatile.Read(ref _waiters);

        /// <summary>Joins <paramref name="readers"/> readers unless every waiter has left (the load is being cancelled).</summary>
        public bool TryJoin(int readers = 1)
        {
            while (true)
            {
                var waiters = Volatile.Read(ref _waiters);
                if (waiters <= 0)
                {
                    return false;
                }

                if (Interlocked.CompareExchange(ref _waiters, waiters + readers, waiters) == waiters)
                {
                    return true;
                }
            }
        }

        public ValueTask<TEntity?> WaitAsync(CancellationToken cancellationToken)
            => cancellationToken.CanBeCanceled ? WaitCancellableAsync(cancellationToken) : new ValueTask<TEntity?>(Completion.Task);

        private async ValueTask<TEntity?> WaitCancellableAsync(CancellationToken cancellationToken)
        {
            try
            {
                return await Completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && !Completion.Task.IsCompleted)
            {
                if (Interlocked.Decrement(ref _waiters) == 0)
                {
                    Cancellation?.Cancel();
                }

                throw;
            }
        }
    }
}
