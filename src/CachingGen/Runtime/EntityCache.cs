using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;
using CachingGen.Serialization;
using CachingGen.Storage;
using CachingGen.WriteBack;
using MessagePack;
using Microsoft.Extensions.Logging;

namespace CachingGen.Runtime;

/// <summary>
/// The strategy logic for one entity type of one repository. Generated decorators are thin: they compute keys and
/// bind the user's methods, then call these methods. Obtain one with <see cref="CachingGenRuntime.GetEntityCache{TEntity}"/>.
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
public sealed class EntityCache<TEntity>
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
    private readonly CachingGenTelemetry _telemetry;
    private readonly ILogger _logger;
    private readonly KeyValuePair<string, object?> _repositoryTag;
    private readonly ConcurrentDictionary<string, Flight> _flights = new(StringComparer.Ordinal);

    internal EntityCache(CachingGenRuntime runtime, RepositoryDescriptor repository)
    {
        _runtime = runtime;
        Repository = repository;
        _store = runtime.Store;
        _serializerOptions = repository.SerializerOptions ?? throw new ArgumentException("The repository has no serializer options.", nameof(repository));
        _fingerprint = _serializerOptions.Resolver is ISchemaFingerprintProvider provider ? provider.GetSchemaFingerprint<TEntity>() : 0;
        _directWriteCoordinator = repository.HasWriteBack ? runtime.Coordinator : null;
        _telemetry = runtime.Telemetry;
        _logger = runtime.Logger;
        _repositoryTag = new KeyValuePair<string, object?>(CachingGenTelemetry.RepositoryTag, repository.Name);
    }

    /// <summary>The repository this cache serves.</summary>
    public RepositoryDescriptor Repository { get; }

    /// <summary>The schema fingerprint stored in (and required of) this entity type's envelopes.</summary>
    public ulong SchemaFingerprint => _fingerprint;

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

        if (!TryStartLookup(key, cancellationToken, out var lookup))
        {
            return BypassAsync(policy, state, load, null, cancellationToken);
        }

        if (lookup.IsCompletedSuccessfully)
        {
            var result = lookup.Result;
            if (result.Found && TryReadHit(key, policy, result.Value, out var value))
            {
                return new ValueTask<TEntity?>(value);
            }

            return ReadMissAsync(key, policy, state, load, result, null, cancellationToken);
        }

        return ReadAfterLookupAsync(lookup, key, policy, state, load, null, cancellationToken);
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
            await WriteThroughCoreAsync(keys, values, policy, state, write, cancellationToken).ConfigureAwait(false);
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
            await WriteThroughCoreAsync(keys, values, policy, state, write, cancellationToken).ConfigureAwait(false);
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
            await write(state, cancellationToken).ConfigureAwait(false);
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
            await delete(state, cancellationToken).ConfigureAwait(false);
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
        using (await _runtime.Coordinator.EnterAsync(key, cancellationToken).ConfigureAwait(false))
        {
            await log.AppendAsync(record, pinned, cancellationToken).ConfigureAwait(false);
        }

        _runtime.WriteBack.Signal(WriteBackSharding.ShardOf(key, log.ShardCount));
        _telemetry.Appends.Add(1, _repositoryTag, new KeyValuePair<string, object?>(CachingGenTelemetry.MethodTag, policy.Method));
        CountWrite(WriteBackStrategy, policy.Method);
    }

    /// <summary>The number of flights in the table, running or finished and still joinable, for tests.</summary>
    internal int CountFlights() => _flights.Count;

    /// <summary>The number of callers waiting on the in-flight load of <paramref name="key"/> (0 when none), for tests.</summary>
    internal int GetFlightWaiters(string key) => _flights.TryGetValue(key, out var flight) && !flight.Completion.Task.IsCompleted ? Math.Max(flight.Waiters, 0) : 0;

    private async ValueTask<TEntity?> ReadWithActivityAsync<TState>(string key, ReadPolicy policy, TState state, Func<TState, CancellationToken, ValueTask<TEntity?>> load, CancellationToken cancellationToken)
    {
        using var activity = StartActivity("CachingGen.ReadThrough", policy.Method);
        try
        {
            if (!TryStartLookup(key, cancellationToken, out var lookup))
            {
                return await BypassAsync(policy, state, load, activity, cancellationToken).ConfigureAwait(false);
            }

            return await ReadAfterLookupAsync(lookup, key, policy, state, load, activity, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (activity is not null)
        {
            activity.SetStatus(ActivityStatusCode.Error, exception.Message);
            throw;
        }
    }

    private async ValueTask<TEntity?> ReadAfterLookupAsync<TState>(ValueTask<CacheLookup> pending, string key, ReadPolicy policy, TState state, Func<TState, CancellationToken, ValueTask<TEntity?>> load, Activity? activity, CancellationToken cancellationToken)
    {
        CacheLookup lookup;
        try
        {
            lookup = await pending.ConfigureAwait(false);
        }
        catch (CacheStoreUnavailableException exception)
        {
            _runtime.Outages.Report(exception, "read");
            return await BypassAsync(policy, state, load, activity, cancellationToken).ConfigureAwait(false);
        }

        if (lookup.Found && TryReadHit(key, policy, lookup.Value, out var value))
        {
            activity?.SetTag("cachinggen.hit", true);
            return value;
        }

        return await ReadMissAsync(key, policy, state, load, lookup, activity, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<TEntity?> ReadMissAsync<TState>(string key, ReadPolicy policy, TState state, Func<TState, CancellationToken, ValueTask<TEntity?>> load, CacheLookup lookup, Activity? activity, CancellationToken cancellationToken)
    {
        if (lookup.Found)
        {
            // An unusable entry (logged and counted by TryReadHit). Invalidate it to get a fill token, so the next fill
            // overwrites it. A pinned one may stand for write-back records that are not flushed yet: like a direct write,
            // the invalidation holds the key's gate after those records are flushed, so the load below reads them from
            // the database and no write-back acknowledged meanwhile in this process is erased.
            try
            {
                var keys = new[] { key };
                using (await EnterAsync(keys, cancellationToken).ConfigureAwait(false))
                {
                    await _store.InvalidateAsync(keys, null, cancellationToken).ConfigureAwait(false);
                }

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
        }

        activity?.SetTag("cachinggen.hit", false);
        _telemetry.Misses.Add(1, _repositoryTag, new KeyValuePair<string, object?>(CachingGenTelemetry.MethodTag, policy.Method));
        Flight flight;
        while (true)
        {
            // Only a flight that started from the same cache state may be shared: one that started before a write
            // was acknowledged may carry the older value, and this read may have started after that write.
            var created = new Flight(lookup.FillToken, lookup.WriteInProgress);
            if (_flights.TryGetValue(key, out var existing))
            {
                if (existing.SameState(created) && existing.TryJoin())
                {
                    flight = existing;
                    break;
                }

                if (_flights.TryUpdate(key, created, existing))
                {
                    flight = created;
                    _ = RunFlightAsync(created, key, policy, state, load, lookup);
                    break;
                }

                continue;
            }

            if (_flights.TryAdd(key, created))
            {
                flight = created;
                _ = RunFlightAsync(created, key, policy, state, load, lookup);
                break;
            }
        }

        return await flight.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task RunFlightAsync<TState>(Flight flight, string key, ReadPolicy policy, TState state, Func<TState, CancellationToken, ValueTask<TEntity?>> load, CacheLookup lookup)
    {
        var token = flight.Cancellation.Token;
        try
        {
            var value = await load(state, token).ConfigureAwait(false);
            var filled = !lookup.Found && !lookup.WriteInProgress && await FillAsync(key, policy, lookup, value, token).ConfigureAwait(false);
            if (filled)
            {
                // A caller whose lookup saw the same miss but reached the flight table only now (its GET reply crossed
                // the fill) joins this finished flight instead of loading again: its read began before the fill, and
                // any write acknowledged before it began would have changed the miss's token.
                flight.Completion.TrySetResult(value);
                _ = ForgetFinishedFlightAsync(key, flight);
                return;
            }

            _flights.TryRemove(new KeyValuePair<string, Flight>(key, flight));
            flight.Completion.TrySetResult(value);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            _flights.TryRemove(new KeyValuePair<string, Flight>(key, flight));
            flight.Completion.TrySetCanceled(token);
        }
        catch (Exception exception)
        {
            _flights.TryRemove(new KeyValuePair<string, Flight>(key, flight));
            flight.Completion.TrySetException(exception);
        }
    }

    /// <summary>How long a flight whose fill was stored stays joinable. Far shorter than any time to live (whole
    /// seconds), so the key cannot have expired back to the same "absent" miss within it; long enough to cover a GET
    /// reply that crossed the fill on a loaded machine.</summary>
    private static readonly TimeSpan FinishedFlightWindow = TimeSpan.FromMilliseconds(100);

    private async Task ForgetFinishedFlightAsync(string key, Flight flight)
    {
        try
        {
            await Task.Delay(FinishedFlightWindow, _runtime.TimeProvider).ConfigureAwait(false);
        }
        finally
        {
            _flights.TryRemove(new KeyValuePair<string, Flight>(key, flight));
        }
    }

    /// <summary>Stores a loaded value (or a "not found" when the policy caches it). Returns whether it was stored.</summary>
    private async ValueTask<bool> FillAsync(string key, ReadPolicy policy, CacheLookup lookup, TEntity? value, CancellationToken cancellationToken)
    {
        ReadOnlyMemory<byte> bytes;
        TimeSpan ttl;
        if (value is null)
        {
            if (policy.NullTimeToLive is not { } nullTtl)
            {
                return false;
            }

            bytes = CacheEnvelope.EncodeNotFound(_fingerprint);
            ttl = nullTtl;
        }
        else
        {
            bytes = CacheEnvelope.Encode(value, _fingerprint, _serializerOptions);
            ttl = lookup.FillTimeToLive ?? policy.TimeToLive;
        }

        var method = new KeyValuePair<string, object?>(CachingGenTelemetry.MethodTag, policy.Method);
        try
        {
            if (await _store.TryFillAsync(key, bytes, ttl, lookup.FillToken, cancellationToken).ConfigureAwait(false))
            {
                _telemetry.Fills.Add(1, _repositoryTag, method);
                return true;
            }

            _telemetry.FillRefusals.Add(1, _repositoryTag, method);
            Log.FillRefused(_logger, key, Repository.Name);
        }
        catch (CacheStoreUnavailableException exception)
        {
            _runtime.Outages.Report(exception, "fill");
        }
        catch (Exception exception) when (!(exception is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            Log.FillFailed(_logger, exception, key, Repository.Name);
        }

        return false;
    }

    /// <summary>Starts the lookup of <paramref name="key"/>; false when the read must bypass the cache (the key is
    /// pending invalidation in this process, or the store failed at once).</summary>
    private bool TryStartLookup(string key, CancellationToken cancellationToken, out ValueTask<CacheLookup> lookup)
    {
        lookup = default;
        if (_runtime.PendingInvalidations.Contains(key))
        {
            return false;
        }

        try
        {
            lookup = _store.GetAsync(key, cancellationToken);
            return true;
        }
        catch (CacheStoreUnavailableException exception)
        {
            _runtime.Outages.Report(exception, "read");
            return false;
        }
    }

    /// <summary>A read that does not use the cache: the store is unavailable, or the key's invalidation is pending in
    /// this process. No single flight (a shared load might predate a write this read must see) and no fill.</summary>
    private async ValueTask<TEntity?> BypassAsync<TState>(ReadPolicy policy, TState state, Func<TState, CancellationToken, ValueTask<TEntity?>> load, Activity? activity, CancellationToken cancellationToken)
    {
        activity?.SetTag("cachinggen.hit", false);
        activity?.SetTag("cachinggen.bypass", true);
        _telemetry.Misses.Add(1, _repositoryTag, new KeyValuePair<string, object?>(CachingGenTelemetry.MethodTag, policy.Method));
        return await load(state, cancellationToken).ConfigureAwait(false);
    }

    private bool TryReadHit(string key, ReadPolicy policy, ReadOnlyMemory<byte> bytes, out TEntity? value)
    {
        var method = new KeyValuePair<string, object?>(CachingGenTelemetry.MethodTag, policy.Method);
        if (CacheEnvelope.TryDecode(bytes, _fingerprint, _serializerOptions, out value, out var reason))
        {
            _telemetry.Hits.Add(1, _repositoryTag, method);
            return true;
        }

        _telemetry.CorruptEntries.Add(1, _repositoryTag, method);
        Log.CorruptEntry(_logger, key, Repository.Name, reason ?? "unknown");
        return false;
    }

    private ReadOnlyMemory<byte> Encode(TEntity? entity) => CacheEnvelope.Encode(entity, _fingerprint, _serializerOptions);

    private ValueTask<WriteBackCoordinator.Lease> EnterAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken)
        => _directWriteCoordinator is null || keys.Count == 0
            ? new ValueTask<WriteBackCoordinator.Lease>(default(WriteBackCoordinator.Lease))
            : _directWriteCoordinator.EnterAndDrainAsync(keys, cancellationToken);

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
                tokens = await _store.BeginWritesAsync(keys, _runtime.Options.WriteLease, CancellationToken.None).ConfigureAwait(false);
            }
            catch (CacheStoreUnavailableException exception)
            {
                _runtime.Outages.Report(exception, "begin_write");
                _runtime.PendingInvalidations.Add(keys);
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
            _runtime.PendingInvalidations.Add(keys);
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
    private async ValueTask InvalidateAfterWriteAsync(string strategy, string method, IReadOnlyList<string> keys, TimeSpan? fillTimeToLive)
    {
        try
        {
            await _store.InvalidateAsync(keys, fillTimeToLive, CancellationToken.None).ConfigureAwait(false);
        }
        catch (CacheStoreUnavailableException exception)
        {
            _runtime.Outages.Report(exception, strategy);
            _runtime.PendingInvalidations.Add(keys);
        }
        catch (Exception exception)
        {
            Log.CacheUpdateFailed(_logger, exception, strategy, method, Repository.Name);
            throw;
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

    /// <summary>One in-flight load of a key, shared by every caller that missed it.</summary>
    private sealed class Flight(long fillToken, bool writeInProgress)
    {
        private int _waiters = 1;

        /// <summary>Whether <paramref name="other"/> started from the same cache state as this flight.</summary>
        public bool SameState(Flight other) => fillToken == other.FillToken && writeInProgress == other.WriteInProgress;

        private long FillToken => fillToken;

        private bool WriteInProgress => writeInProgress;

        public TaskCompletionSource<TEntity?> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CancellationTokenSource Cancellation { get; } = new();

        public int Waiters => Volatile.Read(ref _waiters);

        /// <summary>Joins unless every waiter has left (the load is being cancelled).</summary>
        public bool TryJoin()
        {
            while (true)
            {
                var waiters = Volatile.Read(ref _waiters);
                if (waiters <= 0)
                {
                    return false;
                }

                if (Interlocked.CompareExchange(ref _waiters, waiters + 1, waiters) == waiters)
                {
                    return true;
                }
            }
        }

        public async ValueTask<TEntity?> WaitAsync(CancellationToken cancellationToken)
        {
            if (!cancellationToken.CanBeCanceled)
            {
                return await Completion.Task.ConfigureAwait(false);
            }

            try
            {
                return await Completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && !Completion.Task.IsCompleted)
            {
                if (Interlocked.Decrement(ref _waiters) == 0)
                {
                    Cancellation.Cancel();
                }

                throw;
            }
        }
    }
}
