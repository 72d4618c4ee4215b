using System.Globalization;
using CachingGen.Storage;
using CachingGen.WriteBack;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace CachingGen.Redis;

/// <summary>
/// A durable <see cref="IWriteBackLog"/> on Redis Streams, for several application and flusher processes.
/// </summary>
/// <remarks>
/// <para><b>Append.</b> One Lua script pins the cache entry (a SET without expiry, see
/// <see cref="RedisWriteBackScripts.CacheFragments"/>), counts the record in the shard's per-key pending hash and
/// XADDs it to the shard's stream. The entry and the stream share the shard's hash tag (<see cref="RedisKeyLayout"/>),
/// so this is one atomic step on a Redis Cluster too. Durability follows <see cref="RedisWriteBackOptions.Durability"/>.</para>
/// <para><b>Ownership.</b> Each shard has one consumer group; a flusher reads a shard only while it holds the shard's
/// lease (checked and renewed by the read script itself). A flusher that takes a free lease claims every pending
/// entry of the group (XAUTOCLAIM): the previous owner's. A stale owner cannot read new entries; a batch it already
/// read and commits late is made harmless by the idempotency ledger (its claims wait on, then see, the new owner's).</para>
/// <para><b>Acknowledgement</b> XACKs and XDELs each applied entry and uncounts it from its key, so the stream's
/// length is the backlog and <see cref="GetPendingCountAsync"/> is one HGET.</para>
/// </remarks>
public sealed partial class RedisWriteBackLog : IWriteBackLog, IAsyncDisposable
{
    private static readonly TimeSpan MaxBackPressurePoll = TimeSpan.FromMilliseconds(100);

    private readonly IConnectionMultiplexer _connection;
    private readonly IDatabase _database;
    private readonly RedisKeyLayout _keys;
    private readonly RedisWriteBackOptions _options;
    private readonly long _tombstoneMilliseconds;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly long[] _leaseValidUntil;
    private readonly int[] _ownershipChanges;
    private readonly object _initGate = new();
    private readonly int _clientAsyncTimeoutMs;
    private Task? _initialization;

    /// <summary>Creates the log. It writes cache entries through <paramref name="store"/>'s key layout, so the store
    /// must have been created with <see cref="RedisCacheOptions.WriteBackShardCount"/> = <paramref name="shardCount"/>.</summary>
    /// <param name="connection">The connection (the store's); the caller owns it.</param>
    /// <param name="store">The cache store whose entries appends pin.</param>
    /// <param name="shardCount">The number of shards (<c>CachingGenOptions.ShardCount</c>).</param>
    /// <param name="options">The options; defaults when null.</param>
    /// <param name="logger">Receives start-up check results and ownership changes.</param>
    /// <param name="timeProvider">The clock of enqueue and dead-letter times.</param>
    public RedisWriteBackLog(IConnectionMultiplexer connection, RedisCacheStore store, int shardCount, RedisWriteBackOptions? options = null, ILogger<RedisWriteBackLog>? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(shardCount);
        if (store.KeyLayout.ShardCount != shardCount)
        {
            throw new InvalidOperationException(
                $"The Redis cache store was created with WriteBackShardCount = {store.KeyLayout.ShardCount}, but the write-back log has {shardCount} shard(s). " +
                "A write-back entry and its shard's stream must share a hash tag: create the store with RedisCacheOptions.WriteBackShardCount equal to " +
                "CachingGenOptions.ShardCount (UseRedisWriteBackLog does this for you).");
        }

        _options = options ?? new RedisWriteBackOptions();
        _options.Validate();
        _connection = connection;
        _database = store.Database;
        _keys = store.KeyLayout;
        _tombstoneMilliseconds = store.TombstoneMilliseconds;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
        ConsumerName = _options.ConsumerName ?? string.Create(CultureInfo.InvariantCulture, $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}");
        _leaseValidUntil = new long[shardCount];
        _ownershipChanges = new int[shardCount];
        _clientAsyncTimeoutMs = ConfigurationOptions.Parse(connection.Configuration).AsyncTimeout;
    }

    /// <inheritdoc />
    public bool IsDurable => true;

    /// <inheritdoc />
    public int ShardCount => _leaseValidUntil.Length;

    /// <summary>This process's consumer name in the shards' consumer groups (the value of a lease it holds).</summary>
    public string ConsumerName { get; }

    /// <summary>The durability appends wait for.</summary>
    public WriteBackDurability Durability => _options.Durability;

    /// <summary>Runs the start-up checks (AOF and fsync settings against <see cref="RedisWriteBackOptions.Durability"/>,
    /// <c>maxmemory-policy</c>) and creates the shards' consumer groups. Runs once; every operation awaits it, and the
    /// registration's hosted service runs it at start-up so a misconfigured server stops the application early.</summary>
    public Task InitializeAsync(CancellationToken cancellationToken = default)
    {
        // Every operation passes here: once initialized, no lock.
        var done = Volatile.Read(ref _initialization);
        if (done is { IsCompletedSuccessfully: true })
        {
            return done;
        }

        lock (_initGate)
        {
            if (_initialization is null || _initialization.IsFaulted || _initialization.IsCanceled)
            {
                _initialization = InitializeCoreAsync();
            }

            return _initialization.WaitAsync(cancellationToken);
        }
    }

    /// <summary>
    /// <see cref="InitializeAsync"/> at the host's start: an unsafe server stops the application (with the fix), but an
    /// unreachable one does not. A flusher or service that starts during a Redis outage (a restart, a failover, a
    /// deploy ordering) keeps running: the checks and the consumer groups are set up by the first operation once Redis
    /// answers, and the flusher retries its shards with backoff until then.
    /// </summary>
    internal async Task InitializeAtStartupAsync(CancellationToken cancellationToken)
    {
        try
        {
            await InitializeAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (CacheStoreUnavailableException exception)
        {
            Log.StartupDeferred(_logger, exception);
        }
    }

    /// <inheritdoc />
    public async ValueTask AppendAsync(WriteBackRecord record, CacheEntry pinnedEntry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (!string.Equals(record.EntityKey, pinnedEntry.Key, StringComparison.Ordinal))
        {
            throw new ArgumentException($"The pinned entry's key '{pinnedEntry.Key}' is not the record's entity key '{record.EntityKey}'.", nameof(pinnedEntry));
        }

        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        var shard = ShardOf(record.EntityKey);
        var cacheKey = _keys.CacheKey(record.EntityKey, shard);
        var keys = new[] { cacheKey, _keys.Log(shard), _keys.Pending(shard) };
        var arguments = new RedisValue[]
        {
            RedisEntryFormat.EncodeValue(pinnedEntry.Value.Span),
            record.EntityKey,
            RedisWriteBackRecordFormat.Encode(record),
            _options.MaxBacklogPerShard,
        };

        var waitedSince = _time.GetTimestamp();
        var poll = TimeSpan.FromMilliseconds(5);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();

            // Once the script is sent the caller's cancellation no longer applies: the write may be in Redis.
            var result = await EvaluateAsync(RedisWriteBackScripts.Append, keys, arguments, "write-back append", CancellationToken.None).ConfigureAwait(false);
            if (!result.IsNull)
            {
                break;
            }

            if (_options.BackPressure == WriteBackBackPressure.Fail || _time.GetElapsedTime(waitedSince) >= _options.BackPressureTimeout)
            {
                Log.BackPressureRefused(_logger, shard, _options.MaxBacklogPerShard);
                throw new WriteBackBackPressureException(string.Create(CultureInfo.InvariantCulture,
                    $"Write-back shard {shard} holds {_options.MaxBacklogPerShard} unflushed record(s) (MaxBacklogPerShard), so '{record.Method}' of '{record.Repository}' was refused (BackPressure = {_options.BackPressure}). ") +
                    "Nothing was written. The database or the flusher cannot keep up: check the flusher's health, add flushers or shards, or raise the bound.");
            }

            await Task.Delay(poll, _time, cancellationToken).ConfigureAwait(false);
            poll = poll * 2 < MaxBackPressurePoll ? poll * 2 : MaxBackPressurePoll;
        }

        if (_options.Durability == WriteBackDurability.Replicated)
        {
            await WaitForReplicasAsync(cacheKey, record).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<PendingWriteBack>> ReadAsync(int shard, int maxCount, CancellationToken cancellationToken)
        => ReadAsync(shard, maxCount, null, cancellationToken);

    /// <inheritdoc />
    public bool ReadsAfterPosition => true;

    /// <inheritdoc />
    public int OwnershipChanges(int shard)
    {
        CheckShard(shard);
        return Volatile.Read(ref _ownershipChanges[shard]);
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<PendingWriteBack>> ReadAsync(int shard, int maxCount, string? after, CancellationToken cancellationToken)
    {
        CheckShard(shard);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxCount);
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        var renewedAt = _time.GetTimestamp();
        var keys = new[] { _keys.Lease(shard), _keys.Log(shard), _keys.Attempts(shard) };
        var arguments = new RedisValue[] { ConsumerName, RedisEntryFormat.ToMilliseconds(_options.LeaseDuration), RedisWriteBackScripts.GroupName, maxCount, after ?? "0" };
        RedisResult result;
        try
        {
            result = await EvaluateAsync(RedisWriteBackScripts.Read, keys, arguments, "write-back read", cancellationToken).ConfigureAwait(false);
        }
        catch (CacheStoreUnavailableException exception) when (exception.InnerException is RedisServerException server && server.Message.Contains("NOGROUP", StringComparison.Ordinal))
        {
            // The server lost the group (a restart without persistence): create the groups again and read next time.
            Log.GroupMissing(_logger, shard);
            lock (_initGate)
            {
                _initialization = null;
            }

            Volatile.Write(ref _leaseValidUntil[shard], 0);
            throw;
        }

        var items = (RedisResult[])result!;
        if ((long)items[0] < 0)
        {
            if (Interlocked.Exchange(ref _leaseValidUntil[shard], 0) != 0)
            {
                Interlocked.Increment(ref _ownershipChanges[shard]);
                Log.ShardLost(_logger, shard, ConsumerName);
            }

            return Array.Empty<PendingWriteBack>();
        }

        var previous = Interlocked.Exchange(ref _leaseValidUntil[shard], renewedAt + (long)(_options.LeaseDuration.TotalSeconds * _time.TimestampFrequency));
        if ((long)items[0] == 1 || previous == 0)
        {
            Interlocked.Increment(ref _ownershipChanges[shard]);
            Log.ShardOwned(_logger, shard, ConsumerName);
        }

        var records = new List<PendingWriteBack>((items.Length - 1) / 4);
        for (var i = 1; i + 3 < items.Length; i += 4)
        {
            var position = (string)items[i]!;
            records.Add(new PendingWriteBack(shard, position, ParseRecord((RedisResult[])items[i + 3]!), (int)(long)items[i + 1]) { FailedAttempts = (int)(long)items[i + 2] });
        }

        return records;
    }

    /// <inheritdoc />
    public async ValueTask AcknowledgeAsync(int shard, IReadOnlyList<PendingWriteBack> records, CancellationToken cancellationToken)
    {
        CheckShard(shard);
        ArgumentNullException.ThrowIfNull(records);
        if (records.Count == 0)
        {
            return;
        }

        var arguments = new RedisValue[1 + (2 * records.Count)];
        arguments[0] = RedisWriteBackScripts.GroupName;
        for (var i = 0; i < records.Count; i++)
        {
            arguments[1 + (2 * i)] = records[i].Position;
            arguments[2 + (2 * i)] = records[i].Record.EntityKey;
        }

        await EvaluateAsync(RedisWriteBackScripts.Acknowledge, new[] { _keys.Log(shard), _keys.Pending(shard), _keys.Attempts(shard) }, arguments, "write-back acknowledge", cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask DeadLetterAsync(PendingWriteBack record, string error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        CheckShard(record.Shard);
        var r = record.Record;
        var arguments = new RedisValue[]
        {
            RedisWriteBackScripts.GroupName, record.Position, r.EntityKey, error ?? string.Empty, _time.GetUtcNow().ToUnixTimeMilliseconds(),
            r.Repository, r.Method, r.IdempotencyKey, r.Arguments, r.EnqueuedAt.ToUnixTimeMilliseconds(),
            r.TimeToLive is { } ttl ? RedisEntryFormat.ToMilliseconds(ttl) : RedisValue.EmptyString,
        };
        var keys = new[] { _keys.Log(record.Shard), _keys.Pending(record.Shard), _keys.DeadLetters(record.Shard), _keys.Attempts(record.Shard) };
        await EvaluateAsync(RedisWriteBackScripts.DeadLetter, keys, arguments, "write-back dead-letter", cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<int> RecordFailedAttemptAsync(PendingWriteBack record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        CheckShard(record.Shard);
        var result = await EvaluateAsync(RedisWriteBackScripts.FailedAttempt, new[] { _keys.Log(record.Shard), _keys.Attempts(record.Shard) }, new RedisValue[] { record.Position }, "write-back failed attempt", cancellationToken).ConfigureAwait(false);
        return (int)(long)result;
    }

    /// <inheritdoc />
    public async ValueTask<long> GetPendingCountAsync(string entityKey, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entityKey);
        var value = await BoundedAsync(_database.HashGetAsync(_keys.Pending(ShardOf(entityKey)), entityKey), "write-back pending count", cancellationToken).ConfigureAwait(false);
        return value.IsNull ? 0 : Math.Max(0, (long)value);
    }

    /// <inheritdoc />
    public async ValueTask<long> GetBacklogAsync(int shard, CancellationToken cancellationToken)
    {
        CheckShard(shard);
        return await BoundedAsync(_database.StreamLengthAsync(_keys.Log(shard)), "write-back backlog", cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<DateTimeOffset?> GetOldestPendingAsync(int shard, CancellationToken cancellationToken)
    {
        CheckShard(shard);
        var first = await BoundedAsync(_database.StreamRangeAsync(_keys.Log(shard), "-", "+", 1), "write-back oldest pending", cancellationToken).ConfigureAwait(false);
        if (first.Length == 0)
        {
            return null;
        }

        // A stream id is "<unix ms>-<sequence>": the time Redis appended the record.
        var id = (string)first[0].Id!;
        var dash = id.IndexOf('-', StringComparison.Ordinal);
        return long.TryParse(dash < 0 ? id : id[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out var ms) ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;
    }

    /// <inheritdoc />
    public ValueTask SettleAsync(string entityKey, TimeSpan? timeToLive, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entityKey);
        return SettleManyAsync(new[] { (entityKey, timeToLive) }, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>One script per shard: a shard's cache entries and pending hash share its hash tag (one cluster slot).</remarks>
    public async ValueTask SettleManyAsync(IReadOnlyList<(string EntityKey, TimeSpan? TimeToLive)> keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var byShard = new Dictionary<int, List<(string EntityKey, TimeSpan? TimeToLive)>>();
        foreach (var item in keys)
        {
            ArgumentNullException.ThrowIfNull(item.EntityKey, nameof(keys));
            var shard = ShardOf(item.EntityKey);
            if (!byShard.TryGetValue(shard, out var ofShard))
            {
                byShard[shard] = ofShard = new List<(string EntityKey, TimeSpan? TimeToLive)>();
            }

            ofShard.Add(item);
        }

        var settles = new List<Task>(byShard.Count);
        foreach (var (shard, ofShard) in byShard)
        {
            var redisKeys = new RedisKey[ofShard.Count + 1];
            var arguments = new RedisValue[ofShard.Count * 3 + 1];
            redisKeys[0] = _keys.Pending(shard);
            AddSettleArguments(shard, ofShard, redisKeys, 1, arguments, 0);
            settles.Add(EvaluateAsync(RedisWriteBackScripts.Settle, redisKeys, arguments, "write-back settle", cancellationToken));
        }

        await Task.WhenAll(settles).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <remarks>One script: the shard's stream, hashes and the keys' cache entries share its hash tag.</remarks>
    public async ValueTask AcknowledgeAndSettleAsync(int shard, IReadOnlyList<PendingWriteBack> records, IReadOnlyList<(string EntityKey, TimeSpan? TimeToLive)> keys, CancellationToken cancellationToken)
    {
        CheckShard(shard);
        ArgumentNullException.ThrowIfNull(records);
        ArgumentNullException.ThrowIfNull(keys);
        foreach (var record in records)
        {
            if (record.Shard != shard)
            {
                throw new ArgumentException($"The record {record.Position} belongs to shard {record.Shard}, not to shard {shard}.", nameof(records));
            }
        }

        foreach (var (entityKey, _) in keys)
        {
            ArgumentNullException.ThrowIfNull(entityKey, nameof(keys));
            if (ShardOf(entityKey) != shard)
            {
                throw new ArgumentException($"The key '{entityKey}' belongs to shard {ShardOf(entityKey)}, not to shard {shard}: settle it with SettleManyAsync.", nameof(keys));
            }
        }

        if (records.Count == 0)
        {
            if (keys.Count > 0)
            {
                await SettleManyAsync(keys, cancellationToken).ConfigureAwait(false);
            }

            return;
        }

        var redisKeys = new RedisKey[3 + keys.Count];
        redisKeys[0] = _keys.Log(shard);
        redisKeys[1] = _keys.Pending(shard);
        redisKeys[2] = _keys.Attempts(shard);
        var arguments = new RedisValue[2 + (2 * records.Count) + 1 + (3 * keys.Count)];
        arguments[0] = RedisWriteBackScripts.GroupName;
        arguments[1] = records.Count;
        for (var i = 0; i < records.Count; i++)
        {
            arguments[2 + (2 * i)] = records[i].Position;
            arguments[3 + (2 * i)] = records[i].Record.EntityKey;
        }

        AddSettleArguments(shard, keys, redisKeys, 3, arguments, 2 + (2 * records.Count));
        await EvaluateAsync(RedisWriteBackScripts.AcknowledgeAndSettle, redisKeys, arguments, "write-back acknowledge and settle", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Fills a settle's cache entries (from <paramref name="firstKey"/>) and its tombstone life followed by one
    /// (entity key, time to live, tombstone) triple per key (from <paramref name="firstArgument"/>).</summary>
    private void AddSettleArguments(int shard, IReadOnlyList<(string EntityKey, TimeSpan? TimeToLive)> keys, RedisKey[] redisKeys, int firstKey, RedisValue[] arguments, int firstArgument)
    {
        arguments[firstArgument] = _tombstoneMilliseconds;
        for (var i = 0; i < keys.Count; i++)
        {
            var (entityKey, timeToLive) = keys[i];
            redisKeys[firstKey + i] = _keys.CacheKey(entityKey, shard);
            var at = firstArgument + 1 + (3 * i);
            arguments[at] = entityKey;
            arguments[at + 1] = timeToLive is { } ttl ? RedisEntryFormat.ToMilliseconds(ttl) : RedisValue.EmptyString;
            arguments[at + 2] = RedisEntryFormat.EncodeTombstone(RedisEntryFormat.NewGeneration(), null);
        }
    }

    /// <inheritdoc />
    public bool OwnsShard(int shard)
    {
        CheckShard(shard);
        var until = Volatile.Read(ref _leaseValidUntil[shard]);
        return until != 0 && _time.GetTimestamp() < until;
    }

    /// <summary>Reads up to <paramref name="count"/> dead letters of a shard, oldest first.</summary>
    public async Task<IReadOnlyList<RedisWriteBackDeadLetter>> ReadDeadLettersAsync(int shard, int count = 100, CancellationToken cancellationToken = default)
    {
        CheckShard(shard);
        var entries = await BoundedAsync(_database.StreamRangeAsync(_keys.DeadLetters(shard), "-", "+", count), "write-back dead letters", cancellationToken).ConfigureAwait(false);
        var result = new List<RedisWriteBackDeadLetter>(entries.Length);
        foreach (var entry in entries)
        {
            var fields = entry.Values.ToDictionary(static v => (string)v.Name!, static v => v.Value, StringComparer.Ordinal);
            result.Add(new RedisWriteBackDeadLetter(
                shard,
                (string)fields.GetValueOrDefault("id")!,
                ToRecord(fields),
                (string?)fields.GetValueOrDefault("error") ?? string.Empty,
                DateTimeOffset.FromUnixTimeMilliseconds((long)fields.GetValueOrDefault("at"))));
        }

        return result;
    }

    /// <summary>Gives up the leases this process holds, so another flusher takes its shards over at once instead of
    /// after <see cref="RedisWriteBackOptions.LeaseDuration"/>. Best effort.</summary>
    public async ValueTask DisposeAsync()
    {
        for (var shard = 0; shard < ShardCount; shard++)
        {
            if (Interlocked.Exchange(ref _leaseValidUntil[shard], 0) == 0)
            {
                continue;
            }

            try
            {
                await _database.ScriptEvaluateAsync(
                    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
                    new[] { _keys.Lease(shard) }, new RedisValue[] { ConsumerName }).WaitAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is RedisException or TimeoutException)
            {
                Log.LeaseReleaseFailed(_logger, exception, shard);
            }
        }
    }

    private async Task InitializeCoreAsync()
    {
        await CheckServersAsync().ConfigureAwait(false);
        for (var shard = 0; shard < ShardCount; shard++)
        {
            try
            {
                await BoundedAsync(_database.StreamCreateConsumerGroupAsync(_keys.Log(shard), RedisWriteBackScripts.GroupName, "0", createStream: true), "write-back group creation", CancellationToken.None).ConfigureAwait(false);
            }
            catch (CacheStoreUnavailableException exception) when (exception.InnerException is RedisServerException server && server.Message.Contains("BUSYGROUP", StringComparison.Ordinal))
            {
                // Created before, by this or another process.
            }
        }
    }

    private async Task CheckServersAsync()
    {
        // CONFIG is an admin command: the application's connection usually does not allow it, so the check opens a
        // short-lived admin connection with the same configuration (endpoints, credentials, TLS).
        var configuration = ConfigurationOptions.Parse(_connection.Configuration);
        configuration.AllowAdmin = true;
        configuration.AbortOnConnectFail = false;
        await using var admin = await ConnectionMultiplexer.ConnectAsync(configuration).ConfigureAwait(false);
        var problems = new List<string>();
        var checkedServers = 0;
        foreach (var server in admin.GetServers())
        {
            if (server.IsReplica || !server.IsConnected)
            {
                continue;
            }

            checkedServers++;

            var endpoint = RedisCacheStore.Describe(server.EndPoint);
            string? appendOnly, fsync, policy;
            try
            {
                appendOnly = await ConfigAsync(server, "appendonly").ConfigureAwait(false);
                fsync = await ConfigAsync(server, "appendfsync").ConfigureAwait(false);
                policy = await ConfigAsync(server, "maxmemory-policy").ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is RedisException or TimeoutException)
            {
                Log.ServerNotVerified(_logger, exception, endpoint, _options.Durability);
                continue;
            }

            if (policy is not null && policy.StartsWith("allkeys-", StringComparison.OrdinalIgnoreCase))
            {
                problems.Add($"Redis {endpoint} has maxmemory-policy '{policy}': under memory pressure it may evict pinned write-back entries and the write-back streams, " +
                    "losing acknowledged writes. Fix: 'CONFIG SET maxmemory-policy noeviction' (or a volatile-* policy: pinned entries and streams have no TTL) and the same in redis.conf.");
            }

            if (!string.Equals(appendOnly, "yes", StringComparison.OrdinalIgnoreCase))
            {
                problems.Add($"Redis {endpoint} has appendonly '{appendOnly}': a Redis restart loses every write-back record not yet flushed, so no durability level holds. " +
                    "Fix: 'CONFIG SET appendonly yes' and 'appendonly yes' in redis.conf.");
            }
            else if (_options.Durability == WriteBackDurability.Fsync && !string.Equals(fsync, "always", StringComparison.OrdinalIgnoreCase))
            {
                problems.Add($"Redis {endpoint} has appendfsync '{fsync}', but write-back Durability is Fsync, which needs 'always' (an acknowledged write is on disk). " +
                    "Fix: 'CONFIG SET appendfsync always' and the same in redis.conf, or choose Durability = Acknowledged and accept its loss window (docs/write-back.md).");
            }
            else if (_options.Durability == WriteBackDurability.Acknowledged && string.Equals(fsync, "no", StringComparison.OrdinalIgnoreCase))
            {
                problems.Add($"Redis {endpoint} has appendfsync 'no': the operating system decides when the AOF reaches the disk (often 30 s later), so a machine crash can lose " +
                    "far more than the about one second of acknowledged writes that Durability = Acknowledged promises. Fix: 'CONFIG SET appendfsync everysec' and the same in redis.conf.");
            }
        }

        if (checkedServers == 0)
        {
            // Nothing reachable: the checks (and the group creation) run again on the next operation.
            throw new CacheStoreUnavailableException("Redis write-back log unavailable: no Redis primary answered the start-up checks (appendonly, appendfsync, maxmemory-policy).");
        }

        if (problems.Count == 0)
        {
            Log.ServerChecked(_logger, _options.Durability);
            return;
        }

        foreach (var problem in problems)
        {
            Log.UnsafeServer(_logger, problem);
        }

        if (_options.RefuseUnsafeServer)
        {
            throw new InvalidOperationException(
                "The Redis server cannot keep CachingGen's write-back promise (set RedisWriteBackOptions.RefuseUnsafeServer = false to run anyway):" +
                Environment.NewLine + string.Join(Environment.NewLine, problems));
        }
    }

    private async Task<string?> ConfigAsync(IServer server, string name)
    {
        var pairs = await server.ConfigGetAsync(name).WaitAsync(_options.OperationTimeout).ConfigureAwait(false);
        return pairs.Length == 0 ? null : pairs[0].Value;
    }

    private async Task WaitForReplicasAsync(RedisKey cacheKey, WriteBackRecord record)
    {
        var server = _connection.GetServer(cacheKey);
        var timeoutMs = RedisEntryFormat.ToMilliseconds(_options.ReplicationTimeout);
        var reached = (long)await BoundedAsync(server.ExecuteAsync("WAIT", _options.ReplicaCount, timeoutMs), "WAIT", CancellationToken.None, _options.ReplicationTimeout + _options.OperationTimeout).ConfigureAwait(false);
        if (reached < _options.ReplicaCount)
        {
            throw new WriteBackDurabilityException(string.Create(CultureInfo.InvariantCulture,
                $"Write-back record '{record.IdempotencyKey}' reached {reached} of {_options.ReplicaCount} replica(s) within {timeoutMs} ms (Durability = Replicated). ") +
                "It is in the primary's memory and may still be flushed; retry the call with the same idempotency key (a duplicate is skipped).");
        }
    }

    private Task<RedisResult> EvaluateAsync(RedisScripts script, RedisKey[] keys, RedisValue[] arguments, string operation, CancellationToken cancellationToken)
        => BoundedAsync(_database.ScriptEvaluateAsync(script.Source, keys, arguments), operation, cancellationToken);

    private Task<T> BoundedAsync<T>(Task<T> pending, string operation, CancellationToken cancellationToken)
        => BoundedAsync(pending, operation, cancellationToken, _options.OperationTimeout);

    private async Task<T> BoundedAsync<T>(Task<T> pending, string operation, CancellationToken cancellationToken, TimeSpan timeout)
    {
        try
        {
            // The client fails a command after its own async timeout: when that is soon enough and nothing can cancel
            // the wait, skip the extra timer (the hot path of appends).
            return !cancellationToken.CanBeCanceled && timeout.TotalMilliseconds >= _clientAsyncTimeoutMs
                ? await pending.ConfigureAwait(false)
                : await pending.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            _ = pending.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            throw new CacheStoreUnavailableException($"Redis write-back log unavailable: {operation} failed ({exception.GetType().Name}: {exception.Message}).", exception);
        }
    }

    private int ShardOf(string entityKey) => WriteBackSharding.ShardOf(entityKey, ShardCount);

    private void CheckShard(int shard)
    {
        if ((uint)shard >= (uint)ShardCount)
        {
            throw new ArgumentOutOfRangeException(nameof(shard), shard, $"The log has {ShardCount} shard(s).");
        }
    }

    private static WriteBackRecord ParseRecord(RedisResult[] flat)
    {
        if (flat.Length == 4 && (string?)flat[2] == RedisWriteBackRecordFormat.Field)
        {
            if (RedisWriteBackRecordFormat.TryDecode((byte[]?)flat[3] ?? Array.Empty<byte>(), out var packed))
            {
                return packed;
            }

            // A damaged record keeps its entity key (the field beside it): dead-lettering it uncounts that key.
            return ToRecord(new Dictionary<string, RedisValue>(StringComparer.Ordinal) { ["k"] = (RedisValue)flat[1] });
        }

        // An entry of an earlier version (one field per member).
        var fields = new Dictionary<string, RedisValue>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < flat.Length; i += 2)
        {
            fields[(string)flat[i]!] = (RedisValue)flat[i + 1];
        }

        return ToRecord(fields);
    }

    private static WriteBackRecord ToRecord(Dictionary<string, RedisValue> fields)
    {
        // A malformed entry still becomes a record: the flusher cannot dispatch it and dead-letters it, visibly.
        var ttl = fields.GetValueOrDefault("l");
        return new WriteBackRecord(
            (string?)fields.GetValueOrDefault("r") ?? string.Empty,
            (string?)fields.GetValueOrDefault("m") ?? string.Empty,
            (string?)fields.GetValueOrDefault("k") ?? string.Empty,
            (string?)fields.GetValueOrDefault("i") ?? string.Empty,
            (byte[]?)fields.GetValueOrDefault("a") ?? Array.Empty<byte>(),
            DateTimeOffset.FromUnixTimeMilliseconds(fields.TryGetValue("t", out var t) && t.TryParse(out long ms) ? ms : 0))
        {
            TimeToLive = ttl.TryParse(out long ttlMs) && ttlMs > 0 ? TimeSpan.FromMilliseconds(ttlMs) : null,
            Coalesce = fields.GetValueOrDefault("c") == "1",
        };
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2101, Level = LogLevel.Information, Message = "Write-back Redis server check passed for durability {Durability}.")]
        public static partial void ServerChecked(ILogger logger, WriteBackDurability durability);

        [LoggerMessage(EventId = 2102, Level = LogLevel.Error, Message = "{Problem}")]
        public static partial void UnsafeServer(ILogger logger, string problem);

        [LoggerMessage(EventId = 2103, Level = LogLevel.Warning, Message = "Could not read the configuration of Redis {EndPoint} (CONFIG may be disabled): durability {Durability} and the eviction policy are NOT verified; check appendonly, appendfsync and maxmemory-policy yourself.")]
        public static partial void ServerNotVerified(ILogger logger, Exception exception, string endPoint, WriteBackDurability durability);

        [LoggerMessage(EventId = 2104, Level = LogLevel.Information, Message = "Flusher {Consumer} owns write-back shard {Shard}.")]
        public static partial void ShardOwned(ILogger logger, int shard, string consumer);

        [LoggerMessage(EventId = 2105, Level = LogLevel.Warning, Message = "Flusher {Consumer} lost write-back shard {Shard} to another flusher (its lease expired).")]
        public static partial void ShardLost(ILogger logger, int shard, string consumer);

        [LoggerMessage(EventId = 2106, Level = LogLevel.Warning, Message = "Write-back shard {Shard} is full ({Max} records): a write was refused by back-pressure.")]
        public static partial void BackPressureRefused(ILogger logger, int shard, long max);

        [LoggerMessage(EventId = 2107, Level = LogLevel.Warning, Message = "The consumer group of write-back shard {Shard} is missing (Redis lost it); recreating the groups.")]
        public static partial void GroupMissing(ILogger logger, int shard);

        [LoggerMessage(EventId = 2108, Level = LogLevel.Debug, Message = "Could not release the lease of write-back shard {Shard}; it expires by itself.")]
        public static partial void LeaseReleaseFailed(ILogger logger, Exception exception, int shard);

        [LoggerMessage(EventId = 2109, Level = LogLevel.Warning, Message = "Redis did not answer the write-back start-up checks; the application starts anyway, and the checks and consumer groups run with the first write-back operation once Redis answers.")]
        public static partial void StartupDeferred(ILogger logger, Exception exception);
    }
}

/// <summary>A dead-lettered record in a shard's dead-letter stream.</summary>
/// <param name="Shard">The shard.</param>
/// <param name="Position">The record's id in the shard's stream before it was dead-lettered.</param>
/// <param name="Record">The record.</param>
/// <param name="Error">Why it could not be applied.</param>
/// <param name="DeadLetteredAt">When it was dead-lettered.</param>
public sealed record RedisWriteBackDeadLetter(int Shard, string Position, WriteBackRecord Record, string Error, DateTimeOffset DeadLetteredAt);
