using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net;
using System.Text;
using CachingGen.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace CachingGen.Redis;

/// <summary>
/// An <see cref="ICacheStore"/> on Redis (standalone, replicated or Redis Cluster) through StackExchange.Redis.
/// </summary>
/// <remarks>
/// <para><b>Layout.</b> One Redis string per cache key. A value is stored as the byte <c>'V'</c> followed by the
/// runtime's envelope; a read hit is one <c>GET</c> plus a one-byte check, and the returned memory is a slice of the
/// reply (no copy). An invalidation replaces the value by a tombstone: <c>'T'</c>, an 8-byte big-endian random positive
/// generation and, when a fill time to live was named, that time to live in 8-byte big-endian ticks; it lives
/// <c>max(fillTimeToLive, TombstoneLifetime)</c>.</para>
/// <para><b>Fill tokens.</b> A miss on an absent key returns token 0, a miss on a tombstone returns the tombstone's
/// generation. <see cref="TryFillAsync"/> is a compare-and-set on that one key: it stores the value when the key is
/// absent (token 0: a plain <c>SET NX PX</c>) or still holds the same tombstone (a Lua script), and refuses it when the
/// key holds a value (a write or another fill came first), a write marker, or a different tombstone (another
/// invalidation came first). Generations are random 64-bit numbers drawn on
/// the client, so no shared counter key (which would be cross-slot in a cluster) is needed.</para>
/// <para><b>Foreign bytes.</b> A key holding bytes this store did not write (neither a <c>'V'</c> value nor a
/// well-formed tombstone) reads as a miss with a special token whose fill overwrites them as long as they are still
/// there. Foreign bytes that happen to start with <c>'V'</c> read as a hit of the remaining bytes: the runtime's
/// envelope validation rejects them. A lookup of a key of another Redis type (hash, list...) fails with
/// <see cref="CachingGen.Storage.CacheStoreUnavailableException"/> (WRONGTYPE); a fill of it is refused or fails the same
/// way, never stored.</para>
/// <para><b>Keys and hash slots.</b> The Redis key is <c>KeyNamespace + cacheKey</c>, i.e.
/// <c>{namespace}{prefix}:{encodedKey}</c>. Redis Cluster hashes it with CRC16 (XMODEM) modulo 16384 over its UTF-8
/// bytes, or over the text between the first <c>{</c> and the next <c>}</c> when that text is non-empty (a hash tag).
/// <c>CacheKey</c> percent-encodes <c>{</c> and <c>}</c> in string key parts, so user data never forms a hash tag and
/// keys spread over all slots; see <see cref="GetHashSlot"/>. Bulk operations are pipelined single-key commands, except
/// the write steps of one script in a batch, which go out as one multi-key script call per hash slot (any keys on a
/// standalone server), so every command is valid in a cluster.</para>
/// <para><b>Write-through.</b> <see cref="BeginWritesAsync"/> writes a marker (<c>'W'</c>, generation, contended flag,
/// in-flight count; it lives the lease) with a Lua script per key (one call per hash slot for a batch); <see cref="CompleteWritesAsync"/> turns it into
/// the value only when its writer was alone, else into a tombstone (see <see cref="ICacheStore"/>).</para>
/// <para><b>Bulk and group commit.</b> <see cref="SetManyAsync"/> sends one <c>SET</c> per key in ONE pipelined
/// <see cref="IBatch"/>. Begin and complete steps and invalidations are group-committed: every small step queued
/// while the previous batch is out is sent in the next single batch (by the thread that sees that batch's replies), so
/// concurrent single-row calls share round trips; a bulk call's step is its own batch, sent at once.</para>
/// <para><b>Outage.</b> Every operation is bounded by <see cref="RedisCacheOptions.OperationTimeout"/> (reads and fills
/// through pooled waits and one deadline timer per store, see <see cref="OperationDeadlines"/>); a timeout, a lost
/// connection or a server error surfaces as <see cref="CachingGen.Storage.CacheStoreUnavailableException"/>. Argument errors throw
/// argument exceptions and cancellation throws <see cref="OperationCanceledException"/>.</para>
/// <para><b>Limitation.</b> Redis deletes expired values; a fill whose miss is older than a value that was written
/// and has since expired (or was evicted) is accepted. The window is the life of that value, or of a tombstone.
/// Do not let Redis evict tombstones early: prefer <c>noeviction</c>; never <c>allkeys-*</c> with write-back (it evicts
/// pinned entries, see docs/write-back.md).</para>
/// </remarks>
public sealed partial class RedisCacheStore : ICacheStore, IRecoveringCacheStore, IDisposable
{
    private readonly IConnectionMultiplexer _connection;
    private readonly IDatabase _database;
    private readonly RedisKeyLayout _keys;
    private readonly TimeSpan _timeout;
    private readonly long _tombstoneMilliseconds;
    private readonly ILogger _logger;
    private readonly string _endpoints;
    private readonly Meter _meter;
    private readonly RedisWritePipeline _pipeline;
    private readonly OperationDeadlines _deadlines;
    private int _disposed;

    /// <summary>Creates a store over <paramref name="connection"/>, which the caller owns (the store never disposes it).</summary>
    /// <param name="connection">The Redis connection. For fast failure during an outage configure it with
    /// <c>BacklogPolicy.FailFast</c> and <c>AbortOnConnectFail = false</c> (the <c>UseRedis(string)</c> registration does).</param>
    /// <param name="options">The options; defaults when null. Read once: later changes have no effect.</param>
    /// <param name="logger">Receives connection failures and restorations (endpoints only); none when null.</param>
    public RedisCacheStore(IConnectionMultiplexer connection, RedisCacheOptions? options = null, ILogger<RedisCacheStore>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        options ??= new RedisCacheOptions();
        options.Validate();
        _connection = connection;
        _database = connection.GetDatabase(options.Database);
        _keys = new RedisKeyLayout(string.IsNullOrEmpty(options.KeyNamespace) ? null : options.KeyNamespace, options.WriteBackShardCount);
        _timeout = options.OperationTimeout;
        _tombstoneMilliseconds = RedisEntryFormat.ToMilliseconds(options.TombstoneLifetime);
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _endpoints = DescribeEndPoints(connection);
        _meter = new Meter("CachingGen", typeof(RedisCacheStore).Assembly.GetName().Version?.ToString());
        _pipeline = new RedisWritePipeline(connection, _database, _timeout, _meter);
        _deadlines = new OperationDeadlines(_timeout, TimeProvider.System);
        _connection.ConnectionFailed += OnConnectionFailed;
        _connection.ConnectionRestored += OnConnectionRestored;
        Log.Created(_logger, _endpoints, options.Database, _timeout.TotalMilliseconds);
    }

    /// <summary>The Redis key that stores <paramref name="cacheKey"/>: <c>KeyNamespace + cacheKey</c>, or, with
    /// <see cref="RedisCacheOptions.WriteBackShardCount"/> shards, <c>KeyNamespace + "{cg-wb:S}" + cacheKey</c>.</summary>
    public string GetRedisKey(string cacheKey)
    {
        ArgumentNullException.ThrowIfNull(cacheKey);
        return _keys.CacheKeyText(cacheKey);
    }

    /// <summary>The key layout, shared with the write-back log so entries and streams share hash tags.</summary>
    internal RedisKeyLayout KeyLayout => _keys;

    /// <summary>The database the store uses.</summary>
    internal IDatabase Database => _database;

    /// <summary>The shortest life of a tombstone, in ms.</summary>
    internal long TombstoneMilliseconds => _tombstoneMilliseconds;

    /// <summary>
    /// The Redis Cluster hash slot (0..16383) of a Redis key: CRC16-XMODEM of its UTF-8 bytes modulo 16384, or of the
    /// hash tag (the text between the first <c>{</c> and the next <c>}</c>, when non-empty) only. Use it with
    /// <see cref="GetRedisKey"/> to see where a cache key lives.
    /// </summary>
    public static int GetHashSlot(string redisKey)
    {
        ArgumentNullException.ThrowIfNull(redisKey);
        var bytes = Encoding.UTF8.GetBytes(redisKey);
        ReadOnlySpan<byte> span = bytes;
        var open = span.IndexOf((byte)'{');
        if (open >= 0)
        {
            var close = span[(open + 1)..].IndexOf((byte)'}');
            if (close > 0)
            {
                span = span.Slice(open + 1, close);
            }
        }

        return Crc16.Compute(span) & 16383;
    }

    /// <inheritdoc />
    public ValueTask<CacheLookup> GetAsync(string key, CancellationToken cancellationToken)
    {
        var redisKey = ToRedisKey(key);
        cancellationToken.ThrowIfCancellationRequested();
        Task<RedisValue> pending;
        try
        {
            pending = _database.StringGetAsync(redisKey);
        }
        catch (Exception exception) when (IsServerFailure(exception))
        {
            throw Unavailable("GET", exception);
        }

        return pending.IsCompletedSuccessfully ? new ValueTask<CacheLookup>(Interpret(key, pending.Result)) : AwaitLookup(pending, key, cancellationToken);
    }

    private CacheLookup Interpret(string key, RedisValue stored)
    {
        var lookup = RedisEntryFormat.Parse(stored);
        if (lookup.FillToken == RedisEntryFormat.ForeignToken && !lookup.Found)
        {
            // Another program's bytes under our key: a miss whose fill overwrites them, but worth one line, because a
            // key-namespace clash silently costs every read a database trip.
            Log.ForeignBytes(_logger, key, stored.Length());
        }

        return lookup;
    }

    /// <inheritdoc />
    public ValueTask<bool> TryFillAsync(string key, ReadOnlyMemory<byte> value, TimeSpan timeToLive, long fillToken, CancellationToken cancellationToken)
    {
        var redisKey = ToRedisKey(key);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeToLive, TimeSpan.Zero);
        return Fill(redisKey, RedisEntryFormat.EncodeValue(value.Span), timeToLive, fillToken, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<bool> TryFillVersionedAsync(string key, ReadOnlyMemory<byte> value, long version, TimeSpan timeToLive, long fillToken, CancellationToken cancellationToken)
    {
        var redisKey = ToRedisKey(key);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeToLive, TimeSpan.Zero);
        return Fill(redisKey, RedisEntryFormat.EncodeVersionedValue(version, value.Span), timeToLive, fillToken, cancellationToken);
    }

    /// <summary>A fill of <paramref name="stored"/> (a value in the store's layout) after a miss that saw <paramref name="fillToken"/>.</summary>
    private ValueTask<bool> Fill(RedisKey redisKey, byte[] stored, TimeSpan timeToLive, long fillToken, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<bool>(cancellationToken);
        }

        if (fillToken <= 0 && fillToken != RedisEntryFormat.ForeignToken)
        {
            // The miss saw no key: the compare-and-set is "store only if still absent", which SET NX does in one plain
            // command (no script, no argument array), the same cost as a hand-written fill.
            Task<bool> set;
            try
            {
                set = _database.StringSetAsync(redisKey, stored, TimeSpan.FromMilliseconds(RedisEntryFormat.ToMilliseconds(timeToLive)), keepTtl: false, When.NotExists, CommandFlags.None);
            }
            catch (Exception exception) when (IsServerFailure(exception))
            {
                throw Unavailable("fill", exception);
            }

            // No state machine of its own: a miss already pays for the runtime's, and this is every absent-key fill.
            return AwaitFill(set, cancellationToken);
        }

        return CompareAndFillAsync(redisKey, stored, timeToLive, fillToken, cancellationToken);
    }

    /// <summary>The fill after a miss on a tombstone or foreign bytes: the <see cref="RedisScripts.Fill"/> script.</summary>
    private async ValueTask<bool> CompareAndFillAsync(RedisKey redisKey, byte[] stored, TimeSpan timeToLive, long fillToken, CancellationToken cancellationToken)
    {
        var arguments = new RedisValue[]
        {
            RedisEntryFormat.ExpectedForFill(fillToken),
            stored,
            RedisEntryFormat.ToMilliseconds(timeToLive),
        };
        var result = await EvaluateAsync(RedisScripts.Fill, redisKey, arguments, "fill", cancellationToken).ConfigureAwait(false);
        return (long)result == 1;
    }

    /// <inheritdoc />
    public async ValueTask SetManyAsync(IReadOnlyList<CacheEntry> entries, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var count = entries.Count;
        var keys = new RedisKey[count];
        for (var i = 0; i < count; i++)
        {
            var entry = entries[i];
            if (entry.Key is null)
            {
                throw new ArgumentNullException(nameof(entries), $"Entry {i} has a null key.");
            }

            if (entry.TimeToLive is { } ttl && ttl <= TimeSpan.Zero)
            {
                throw new ArgumentOutOfRangeException(nameof(entries), ttl, $"The time to live of entry {i} must be positive.");
            }

            keys[i] = ToRedisKey(entry.Key);
        }

        cancellationToken.ThrowIfCancellationRequested();
        if (count == 0)
        {
            return;
        }

        Task pending;
        try
        {
            var batch = _database.CreateBatch();
            var sets = new Task[count];
            for (var i = 0; i < count; i++)
            {
                var entry = entries[i];
                TimeSpan? expiry = entry.TimeToLive is { } ttl ? TimeSpan.FromMilliseconds(RedisEntryFormat.ToMilliseconds(ttl)) : null;

                // A SET without expiry clears any previous TTL: a null time to live pins the entry.
                sets[i] = batch.StringSetAsync(keys[i], RedisEntryFormat.EncodeValue(entry.Value.Span), expiry, keepTtl: false, When.Always, CommandFlags.None);
            }

            batch.Execute();
            pending = Task.WhenAll(sets);
        }
        catch (Exception exception) when (IsServerFailure(exception))
        {
            throw Unavailable("SET batch", exception);
        }

        await Bounded(pending, "SET batch", cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask InvalidateAsync(IReadOnlyList<string> keys, TimeSpan? fillTimeToLive, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        CacheStoreArguments.RequirePositiveFillTimeToLive(fillTimeToLive);

        var count = keys.Count;
        var redisKeys = new RedisKey[count];
        for (var i = 0; i < count; i++)
        {
            if (keys[i] is null)
            {
                throw new ArgumentNullException(nameof(keys), $"Key {i} is null.");
            }

            redisKeys[i] = ToRedisKey(keys[i]);
        }

        cancellationToken.ThrowIfCancellationRequested();
        if (count == 0)
        {
            return;
        }

        var lifetime = TimeSpan.FromMilliseconds(TombstoneMillisecondsFor(fillTimeToLive));
        var commands = new RedisCommand[count];
        for (var i = 0; i < count; i++)
        {
            commands[i] = new RedisCommand(redisKeys[i], null, [RedisEntryFormat.EncodeTombstone(RedisEntryFormat.NewGeneration(), fillTimeToLive)], lifetime);
        }

        await PipelineAsync(commands, "invalidate batch", cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<long[]> BeginWritesAsync(IReadOnlyList<string> keys, TimeSpan lease, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lease, TimeSpan.Zero);
        var count = keys.Count;
        var commands = new RedisCommand[count];
        var tokens = new long[count];
        RedisValue leaseMilliseconds = RedisEntryFormat.ToMilliseconds(lease);
        for (var i = 0; i < count; i++)
        {
            if (keys[i] is null)
            {
                throw new ArgumentNullException(nameof(keys), $"Key {i} is null.");
            }

            tokens[i] = RedisEntryFormat.NewGeneration();
            commands[i] = new RedisCommand(ToRedisKey(keys[i]), RedisScripts.BeginWrite, [RedisEntryFormat.EncodeGeneration(tokens[i]), leaseMilliseconds]);
        }

        cancellationToken.ThrowIfCancellationRequested();
        if (count > 0)
        {
            var results = await PipelineAsync(commands, "begin write batch", cancellationToken).ConfigureAwait(false);
            for (var i = 0; i < count; i++)
            {
                if ((long)results[i]! == 0)
                {
                    tokens[i] = ICacheStore.RefusedPinnedToken;
                }
            }
        }

        return tokens;
    }

    /// <inheritdoc />
    public async ValueTask<WriteCompletionOutcome[]> CompleteWritesAsync(IReadOnlyList<WriteCompletion> completions, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(completions);
        var count = completions.Count;
        var commands = new RedisCommand[count];
        RedisValue tombstoneMilliseconds = _tombstoneMilliseconds;
        for (var i = 0; i < count; i++)
        {
            var completion = completions[i];
            if (completion.Key is null)
            {
                throw new ArgumentNullException(nameof(completions), $"Completion {i} has a null key.");
            }

            if (completion.Committed && completion.TimeToLive <= TimeSpan.Zero)
            {
                throw new ArgumentOutOfRangeException(nameof(completions), completion.TimeToLive, $"The time to live of completion {i} must be positive.");
            }

            commands[i] = new RedisCommand(ToRedisKey(completion.Key), RedisScripts.CompleteWrite,
            [
                RedisEntryFormat.EncodeGeneration(completion.WriteToken),
                completion.Committed ? "1" : "0",
                completion.Committed ? RedisEntryFormat.EncodeValue(completion.Value.Span) : RedisValue.EmptyString,
                completion.Committed ? RedisEntryFormat.ToMilliseconds(completion.TimeToLive) : 1,
                RedisEntryFormat.EncodeGeneration(RedisEntryFormat.NewGeneration()),
                tombstoneMilliseconds,
            ]);
        }

        return await PipelinePerKeyAsync(commands, "complete write batch", static reply => reply switch
        {
            0 => WriteCompletionOutcome.Stored,
            2 => WriteCompletionOutcome.StillInFlight,
            3 => WriteCompletionOutcome.PinnedKept,
            _ => WriteCompletionOutcome.Invalidated,
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<VersionedWriteOutcome[]> SetIfNewerAsync(IReadOnlyList<VersionedEntry> entries, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var count = entries.Count;
        var commands = new RedisCommand[count];
        RedisValue tombstoneMilliseconds = _tombstoneMilliseconds;
        for (var i = 0; i < count; i++)
        {
            var entry = entries[i];
            if (entry.Key is null)
            {
                throw new ArgumentNullException(nameof(entries), $"Entry {i} has a null key.");
            }

            if (entry.TimeToLive <= TimeSpan.Zero)
            {
                throw new ArgumentOutOfRangeException(nameof(entries), entry.TimeToLive, $"The time to live of entry {i} must be positive.");
            }

            commands[i] = new RedisCommand(ToRedisKey(entry.Key), RedisScripts.SetIfNewer,
            [
                RedisEntryFormat.EncodeVersionedValue(entry.Version, entry.Value.Span),
                RedisEntryFormat.ToMilliseconds(entry.TimeToLive),
                RedisEntryFormat.EncodeGeneration(RedisEntryFormat.NewGeneration()),
                tombstoneMilliseconds,
            ]);
        }

        return await PipelinePerKeyAsync(commands, "versioned write batch", static reply => reply switch
        {
            0 => VersionedWriteOutcome.Stored,
            1 => VersionedWriteOutcome.NewerKept,
            3 => VersionedWriteOutcome.PinnedKept,
            _ => VersionedWriteOutcome.Invalidated,
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Pipelined (group-committed) batches of write steps sent so far, for tests and diagnostics; the
    /// <c>cachinggen.redis.batches</c> counter of the <c>CachingGen</c> meter counts the same.</summary>
    internal long PipelinedBatches => _pipeline.Batches;

    /// <summary>Sends <paramref name="commands"/> through the group-commit pipeline, bounded by the operation timeout.
    /// Script commands that a server answers with NOSCRIPT (restart, SCRIPT FLUSH, failover) are sent once more with
    /// their source; only those, so no command is applied twice.</summary>
    private async Task<RedisResult?[]> PipelineAsync(RedisCommand[] commands, string operation, CancellationToken cancellationToken)
    {
        var deadline = Environment.TickCount64 + (long)_timeout.TotalMilliseconds;
        var replies = await Bounded(_pipeline.EnqueueAsync(commands, sendSource: false, cancellationToken), operation, cancellationToken).ConfigureAwait(false);
        var results = new RedisResult?[commands.Length];
        List<int>? missing = null;
        for (var i = 0; i < replies.Length; i++)
        {
            var error = replies[i].Error;
            if (error is RedisServerException server && IsNoScript(server))
            {
                (missing ??= new List<int>()).Add(i);
            }
            else if (error is not null)
            {
                throw Unavailable(operation, error);
            }
            else
            {
                results[i] = replies[i].Result;
            }
        }

        if (missing is not null)
        {
            var retry = missing.Select(i => commands[i]).ToArray();
            var left = TimeSpan.FromMilliseconds(Math.Max(1, deadline - Environment.TickCount64));
            var retried = await Bounded(_pipeline.EnqueueAsync(retry, sendSource: true, cancellationToken), operation, cancellationToken, left).ConfigureAwait(false);
            for (var j = 0; j < retried.Length; j++)
            {
                if (retried[j].Error is { } error)
                {
                    throw Unavailable(operation, error);
                }

                results[missing[j]] = retried[j].Result;
            }
        }

        return results;
    }

    /// <inheritdoc />
    public async ValueTask<bool> ExpireAsync(string key, TimeSpan timeToLive, CancellationToken cancellationToken)
    {
        var redisKey = ToRedisKey(key);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeToLive, TimeSpan.Zero);
        cancellationToken.ThrowIfCancellationRequested();
        var arguments = new RedisValue[] { RedisEntryFormat.ToMilliseconds(timeToLive) };
        var result = await EvaluateAsync(RedisScripts.Expire, redisKey, arguments, "expire", cancellationToken).ConfigureAwait(false);
        return (long)result == 1;
    }

    /// <inheritdoc />
    public async ValueTask<bool[]> InvalidateUnlessPinnedAsync(IReadOnlyList<string> keys, TimeSpan? fillTimeToLive, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        CacheStoreArguments.RequirePositiveFillTimeToLive(fillTimeToLive);
        var count = keys.Count;
        var commands = new RedisCommand[count];
        RedisValue tombstoneMilliseconds = TombstoneMillisecondsFor(fillTimeToLive);
        for (var i = 0; i < count; i++)
        {
            if (keys[i] is null)
            {
                throw new ArgumentNullException(nameof(keys), $"Key {i} is null.");
            }

            commands[i] = new RedisCommand(ToRedisKey(keys[i]), RedisScripts.InvalidateUnlessPinned,
                [RedisEntryFormat.EncodeTombstone(RedisEntryFormat.NewGeneration(), fillTimeToLive), tombstoneMilliseconds]);
        }

        return await PipelinePerKeyAsync(commands, "invalidate unless pinned batch", static reply => reply == 1, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends one script call per key (<paramref name="commands"/>) as one group-committed batch and turns
    /// each call's integer reply into its key's outcome.</summary>
    private async ValueTask<TOutcome[]> PipelinePerKeyAsync<TOutcome>(RedisCommand[] commands, string operation, Func<long, TOutcome> outcomeOf, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var outcomes = new TOutcome[commands.Length];
        if (commands.Length == 0)
        {
            return outcomes;
        }

        var results = await PipelineAsync(commands, operation, cancellationToken).ConfigureAwait(false);
        for (var i = 0; i < outcomes.Length; i++)
        {
            outcomes[i] = outcomeOf((long)results[i]!);
        }

        return outcomes;
    }

    /// <summary>A tombstone outlives the fill TTL it carries, so the next fill still finds it.</summary>
    private long TombstoneMillisecondsFor(TimeSpan? fillTimeToLive)
        => Math.Max(_tombstoneMilliseconds, fillTimeToLive is { } fill ? RedisEntryFormat.ToMilliseconds(fill) : 0);

    /// <summary>Stops listening to the connection's events. Does not dispose the connection.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _connection.ConnectionFailed -= OnConnectionFailed;
            _connection.ConnectionRestored -= OnConnectionRestored;
            _pipeline.Complete();
            _deadlines.Dispose();
            _meter.Dispose();
        }
    }

    private RedisKey ToRedisKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return _keys.CacheKey(key);
    }

    /// <summary>EVALSHA, and EVAL (which also caches the script on that server) when the server answers NOSCRIPT
    /// (first use, restart, SCRIPT FLUSH, failover). The whole exchange is bounded by the operation timeout.</summary>
    private async Task<RedisResult> EvaluateAsync(RedisScripts script, RedisKey key, RedisValue[] arguments, string operation, CancellationToken cancellationToken)
    {
        var keys = new[] { key };
        var deadline = Environment.TickCount64 + (long)_timeout.TotalMilliseconds;
        Task<RedisResult> pending;
        try
        {
            pending = _database.ScriptEvaluateAsync(script.Sha1, keys, arguments);
        }
        catch (Exception exception) when (IsServerFailure(exception))
        {
            throw Unavailable(operation, exception);
        }

        try
        {
            return await Bounded(pending, operation, cancellationToken, _timeout).ConfigureAwait(false);
        }
        catch (CacheStoreUnavailableException exception) when (exception.InnerException is RedisServerException server && IsNoScript(server))
        {
            var left = TimeSpan.FromMilliseconds(Math.Max(1, deadline - Environment.TickCount64));
            try
            {
                pending = _database.ScriptEvaluateAsync(script.Source, keys, arguments);
            }
            catch (Exception inner) when (IsServerFailure(inner))
            {
                throw Unavailable(operation, inner);
            }

            return await Bounded(pending, operation, cancellationToken, left).ConfigureAwait(false);
        }
    }

    private static bool IsNoScript(RedisServerException exception)
        => exception.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal);

    private Task<T> Bounded<T>(Task<T> pending, string operation, CancellationToken cancellationToken)
        => Bounded(pending, operation, cancellationToken, _timeout);

    private async Task<T> Bounded<T>(Task<T> pending, string operation, CancellationToken cancellationToken, TimeSpan timeout)
    {
        try
        {
            return await pending.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (IsServerFailure(exception))
        {
            Observe(pending);
            throw Unavailable(operation, exception);
        }
        catch (OperationCanceledException)
        {
            Observe(pending);
            throw;
        }
    }

    private async Task Bounded(Task pending, string operation, CancellationToken cancellationToken)
    {
        try
        {
            await pending.WaitAsync(_timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (IsServerFailure(exception))
        {
            Observe(pending);
            throw Unavailable(operation, exception);
        }
        catch (OperationCanceledException)
        {
            Observe(pending);
            throw;
        }
    }

    /// <summary>A command abandoned by a timeout or a cancellation may still fail later: observe it so it does not
    /// surface as an unobserved task exception.</summary>
    private static void Observe(Task pending)
    {
        if (!pending.IsCompleted)
        {
            _ = pending.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    /// <summary>Redis client and server errors and timeouts (<see cref="RedisTimeoutException"/> is a
    /// <see cref="TimeoutException"/>, as is the operation timeout of <see cref="Task.WaitAsync(TimeSpan)"/>).</summary>
    private static bool IsServerFailure(Exception exception) => exception is RedisException or TimeoutException;

    private CacheStoreUnavailableException Unavailable(string operation, Exception exception)
    {
        var reason = exception switch
        {
            TimeoutException => string.Create(CultureInfo.InvariantCulture, $"timed out after {_timeout.TotalMilliseconds:0.###} ms"),
            RedisConnectionException connection => $"connection failed ({connection.FailureType})",
            RedisServerException => "the server answered with an error",
            _ => "the client failed",
        };
        return new CacheStoreUnavailableException($"Redis cache store unavailable ({_endpoints}): {operation} {reason}.", exception);
    }

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e)
        => Log.ConnectionFailed(_logger, Describe(e.EndPoint), e.ConnectionType, e.FailureType);

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        Log.ConnectionRestored(_logger, Describe(e.EndPoint), e.ConnectionType);
        Recovered?.Invoke(this, EventArgs.Empty);
    }

    /// <inheritdoc />
    /// <remarks>Raised on StackExchange.Redis's <c>ConnectionRestored</c>.</remarks>
    public event EventHandler? Recovered;

    private static string DescribeEndPoints(IConnectionMultiplexer connection)
    {
        var endpoints = connection.GetEndPoints(configuredOnly: true);
        return endpoints.Length == 0 ? "no endpoints" : string.Join(", ", endpoints.Select(Describe));
    }

    /// <summary>host:port only: an endpoint never carries credentials.</summary>
    internal static string Describe(EndPoint? endpoint) => endpoint switch
    {
        null => "unknown endpoint",
        DnsEndPoint dns => string.Create(CultureInfo.InvariantCulture, $"{dns.Host}:{dns.Port}"),
        IPEndPoint ip => ip.ToString(),
        _ => endpoint.ToString() ?? "unknown endpoint",
    };

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Redis cache store on {EndPoints} (database {Database}, operation timeout {TimeoutMs} ms)")]
        public static partial void Created(ILogger logger, string endPoints, int database, double timeoutMs);

        [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Redis connection to {EndPoint} failed ({ConnectionType}, {FailureType}); cache operations fail with CacheStoreUnavailableException until it is restored")]
        public static partial void ConnectionFailed(ILogger logger, string endPoint, ConnectionType connectionType, ConnectionFailureType failureType);

        [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "Redis connection to {EndPoint} restored ({ConnectionType})")]
        public static partial void ConnectionRestored(ILogger logger, string endPoint, ConnectionType connectionType);

        [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "Cache key {Key} holds {Length} bytes that CachingGen did not write (another program, or another key namespace): read as a miss, the next fill overwrites them. Give CachingGen its own RedisCacheOptions.KeyNamespace if this repeats")]
        public static partial void ForeignBytes(ILogger logger, string key, long length);
    }
}
