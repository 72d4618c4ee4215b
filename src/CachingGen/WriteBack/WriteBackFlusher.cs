using System.Diagnostics;
using System.Diagnostics.Metrics;
using CachingGen.Runtime;
using CachingGen.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CachingGen.WriteBack;

/// <summary>
/// Applies write-back records to the database: per shard, in log order, in batches of one transaction each, with
/// the idempotency ledger, retries with exponential backoff and jitter, dead letters, and a graceful drain.
/// </summary>
/// <remarks>
/// <para>Each shard has its own worker and its own gate: one batch at a time per shard, so records of one key are
/// applied in acknowledgement order. When a batch fails, its records are applied one per transaction so the
/// failing record is isolated; later records of the failing key wait for it (per-key order), records of other keys
/// go on. A failing record is retried after <c>RetryBaseDelay * 2^(attempt-1)</c> (capped at <c>RetryMaxDelay</c>,
/// randomized between half and all of it), and dead-lettered after <c>MaxAttempts</c> attempts, or at once when it
/// can never be applied (<see cref="PermanentWriteBackException"/>).</para>
/// <para>Within a batch, consecutive records of a method with a multi-row apply
/// (<see cref="WriteBackAttribute.ApplyManyWith"/>) go to the database in one call, never two records of one key in a
/// call; their ledger rows commit with it. When that call fails, the batch is retried one record per transaction as
/// above, so a poison record is isolated as it would be without it.</para>
/// <para>Idle workers wait for an append's signal, with <c>PollInterval</c> as a fallback. A record's failed attempts
/// are counted by the log with the record's pending state (<see cref="IWriteBackLog.RecordFailedAttemptAsync"/>), so
/// <c>MaxAttempts</c> holds when the shard's ownership moves to another flusher; the retry delay lives in this
/// process (a new owner retries a failed record at once, then backs off from its count).</para>
/// </remarks>
public sealed class WriteBackFlusher : BackgroundService
{
    private const int MaxReadWindowFactor = 16;
    private static readonly TimeSpan KeyWaitPoll = TimeSpan.FromMilliseconds(20);

    private readonly CachingGenRuntime _runtime;
    private readonly IWriteBackLog _log;
    private readonly IWriteBackTransactionFactory _transactions;
    private readonly WriteBackCoordinator _coordinator;
    private readonly CachingGenTelemetry _telemetry;
    private readonly CachingGenOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly IServiceScopeFactory? _scopes;
    private readonly ShardState[] _shards;
    private readonly CancellationTokenSource _abort = new();
    private int _state;

    internal WriteBackFlusher(
        CachingGenRuntime runtime,
        IWriteBackLog log,
        IWriteBackTransactionFactory transactions,
        WriteBackCoordinator coordinator,
        CachingGenTelemetry telemetry,
        CachingGenOptions options,
        TimeProvider time,
        ILogger logger,
        IServiceScopeFactory? scopes)
    {
        _runtime = runtime;
        _log = log;
        _transactions = transactions;
        _coordinator = coordinator;
        _telemetry = telemetry;
        _options = options;
        _time = time;
        _logger = logger;
        _scopes = scopes;
        _shards = new ShardState[log.ShardCount];
        for (var i = 0; i < _shards.Length; i++)
        {
            _shards[i] = new ShardState();
        }
    }

    /// <summary>The number of shards (the log's).</summary>
    public int ShardCount => _shards.Length;

    /// <summary>Whether the background workers run (between <see cref="StartAsync"/> and <see cref="StopAsync"/>).</summary>
    public bool IsRunning => Volatile.Read(ref _state) == 1;

    /// <summary>The number of unflushed records of every shard.</summary>
    public async Task<long> GetBacklogAsync(CancellationToken cancellationToken = default)
    {
        long total = 0;
        for (var i = 0; i < _shards.Length; i++)
        {
            total += await _log.GetBacklogAsync(i, cancellationToken).ConfigureAwait(false);
        }

        return total;
    }

    /// <summary>Flushes every shard until it is empty, waiting out retry delays (failing records end dead-lettered
    /// after <c>MaxAttempts</c>). Works whether or not the background workers run.</summary>
    public Task FlushAsync(CancellationToken cancellationToken = default)
    {
        var shards = new Task[_shards.Length];
        for (var i = 0; i < shards.Length; i++)
        {
            shards[i] = FlushShardAsync(i, null, cancellationToken);
        }

        return Task.WhenAll(shards);
    }

    /// <summary>Flushes the shard of <paramref name="entityKey"/> until that key has no pending record.</summary>
    public Task FlushKeyAsync(string entityKey, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entityKey);
        return FlushShardAsync(WriteBackSharding.ShardOf(entityKey, _shards.Length), entityKey, cancellationToken);
    }

    /// <inheritdoc />
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.CompareExchange(ref _state, 1, 0) != 0)
        {
            throw new InvalidOperationException("The write-back flusher was already started; it can run once.");
        }

        Log.FlusherStarted(_logger, _shards.Length, _options.BatchSize, _log.IsDurable);
        return base.StartAsync(cancellationToken);
    }

    /// <summary>Stops the workers, then drains: flushes what is pending for at most <c>DrainTimeout</c> (or until
    /// <paramref name="cancellationToken"/>) and logs what is still pending.</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.CompareExchange(ref _state, 2, 1) != 1)
        {
            return;
        }

        // Stopping ends the workers' waits; a batch in flight finishes (it is not rolled back to be redone by the
        // drain) unless the host's shutdown deadline passes.
        using (cancellationToken.Register(static state => ((CancellationTokenSource)state!).Cancel(), _abort))
        {
            await base.StopAsync(cancellationToken).ConfigureAwait(false);
            await DrainAsync(cancellationToken).ConfigureAwait(false);
        }

        _abort.Cancel();
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        _abort.Cancel();
        base.Dispose();
    }

    /// <summary>Marks the flusher stopped without starting it (the runtime drains it itself).</summary>
    internal bool TryRetire() => Interlocked.CompareExchange(ref _state, 2, 0) == 0;

    internal void Signal(int shard) => _shards[shard].Signal.Set();

    internal void SignalAll()
    {
        foreach (var shard in _shards)
        {
            shard.Signal.Set();
        }
    }

    internal IEnumerable<Measurement<double>> ObserveOldestPendingAge()
    {
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        for (var i = 0; i < _shards.Length; i++)
        {
            var oldest = Volatile.Read(ref _shards[i].OldestPendingUnixMs);
            yield return new Measurement<double>(oldest == 0 ? 0 : Math.Max(0, now - oldest) / 1000.0, new KeyValuePair<string, object?>(CachingGenTelemetry.ShardTag, i));
        }
    }

    internal IEnumerable<Measurement<long>> ObserveBacklog()
    {
        for (var i = 0; i < _shards.Length; i++)
        {
            yield return new Measurement<long>(Volatile.Read(ref _shards[i].LastBacklog), new KeyValuePair<string, object?>(CachingGenTelemetry.ShardTag, i));
        }
    }

    /// <summary>Flushes for at most <c>DrainTimeout</c>, then logs what is left.</summary>
    internal async Task DrainAsync(CancellationToken cancellationToken)
    {
        using (var timeout = new CancellationTokenSource(_options.DrainTimeout, _time))
        using (var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token))
        {
            try
            {
                await FlushAsync(linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (linked.IsCancellationRequested)
            {
            }
            catch (Exception exception)
            {
                Log.FlusherLoopFailed(_logger, exception, -1);
            }
        }

        var perShard = new long[_shards.Length];
        long total = 0;
        try
        {
            for (var i = 0; i < perShard.Length; i++)
            {
                perShard[i] = await _log.GetBacklogAsync(i, CancellationToken.None).ConfigureAwait(false);
                total += perShard[i];
            }
        }
        catch (Exception exception)
        {
            Log.BacklogReadFailed(_logger, exception);
            total = -1;
        }

        if (total == 0)
        {
            Log.DrainCompleted(_logger);
        }
        else
        {
            Log.DrainIncomplete(_logger, total, string.Join(", ", perShard), _log.IsDurable);
        }
    }

    /// <inheritdoc />
    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var workers = new Task[_shards.Length];
        for (var i = 0; i < workers.Length; i++)
        {
            workers[i] = RunShardAsync(i, stoppingToken);
        }

        return Task.WhenAll(workers);
    }

    private async Task RunShardAsync(int shard, CancellationToken stoppingToken)
    {
        await Task.Yield();
        var state = _shards[shard];
        while (!stoppingToken.IsCancellationRequested)
        {
            var wake = state.Signal.Arm();
            var wait = _options.PollInterval;
            try
            {
                var pass = await ProcessShardOnceAsync(shard, _abort.Token).ConfigureAwait(false);
                if (pass.Progressed)
                {
                    continue;
                }

                if (pass.NextAttemptAt is { } at)
                {
                    var until = at - _time.GetUtcNow();
                    wait = until < wait ? (until > TimeSpan.Zero ? until : TimeSpan.Zero) : wait;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested || _abort.IsCancellationRequested)
            {
                break;
            }
            catch (Exception exception)
            {
                Log.FlusherLoopFailed(_logger, exception, shard);
            }

            if (wait <= TimeSpan.Zero || stoppingToken.IsCancellationRequested)
            {
                continue;
            }

            using var cancelDelay = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            var delay = Task.Delay(wait, _time, cancelDelay.Token);
            await Task.WhenAny(wake, delay).ConfigureAwait(false);
            cancelDelay.Cancel();
        }
    }

    private async Task FlushShardAsync(int shard, string? entityKey, CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var pass = await ProcessShardOnceAsync(shard, cancellationToken).ConfigureAwait(false);
            // A shard another process owns is that process's to drain; a key's records are waited for wherever
            // they are flushed (direct writes must not overtake them).
            var done = entityKey is null
                ? pass.Backlog == 0 || !_log.OwnsShard(shard)
                : await _log.GetPendingCountAsync(entityKey, cancellationToken).ConfigureAwait(false) == 0;
            if (done)
            {
                return;
            }

            if (pass.Progressed)
            {
                continue;
            }

            // Waiting for another process's flusher (it owns the shard): look again soon, the caller is blocked.
            var idle = entityKey is not null && !_log.OwnsShard(shard) && _options.PollInterval > KeyWaitPoll ? KeyWaitPoll : _options.PollInterval;
            var wait = pass.NextAttemptAt is { } at ? at - _time.GetUtcNow() : idle;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await Task.Yield();
            }
        }
    }

    private async Task<Pass> ProcessShardOnceAsync(int shard, CancellationToken cancellationToken)
    {
        await _coordinator.ApplyDeferredAsync(exception => Log.UnpinFailed(_logger, exception.Exception, exception.Key)).ConfigureAwait(false);
        var state = _shards[shard];
        await state.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (state.DatabaseNotBefore > _time.GetUtcNow())
            {
                return new Pass(false, Volatile.Read(ref state.LastBacklog), state.DatabaseNotBefore);
            }

            // Keys backing off after a failed apply: all their records wait (per-key order), the shard's other keys go on.
            var now = _time.GetUtcNow();
            HashSet<string>? blockedKeys = null;
            DateTimeOffset? nextAttemptAt = null;
            var retryFellDue = false;
            foreach (var failure in state.Failures.Values)
            {
                if (failure.NotBefore > now)
                {
                    (blockedKeys ??= new HashSet<string>(StringComparer.Ordinal)).Add(failure.EntityKey);
                    nextAttemptAt = nextAttemptAt is { } earliest && earliest < failure.NotBefore ? earliest : failure.NotBefore;
                }
                else if (!failure.Rescanned)
                {
                    failure.Rescanned = true;
                    retryFellDue = true;
                }
            }

            // While keys back off, passes scan the shard: from the oldest record, then each pass after the last record
            // the previous one examined, so those keys' records never fill the read window for the others. A retry that
            // falls due starts the scan again from the oldest record, once: the scan meets the failed record before any
            // later record of its key. A record left pending also starts it again (see ShardState.LeftPending).
            var scanning = blockedKeys is not null && _log.ReadsAfterPosition;
            var after = scanning && !retryFellDue ? state.ResumeAfter : null;
            state.ResumeAfter = null;
            state.LeftPending = false;

            var window = Math.Min(_options.BatchSize + state.LastSkipped, _options.BatchSize * MaxReadWindowFactor);
            var records = await _log.ReadAsync(shard, window, after, cancellationToken).ConfigureAwait(false);
            var ownershipChanges = _log.OwnershipChanges(shard);
            if (ownershipChanges != state.OwnershipChanges)
            {
                // Another flusher owned the shard meanwhile: the failures noted here may be applied or dead-lettered
                // already. Forget them, and go on only with records read from the oldest (a read after the cursor would
                // skip older records of keys that are no longer held back).
                state.OwnershipChanges = ownershipChanges;
                state.Failures.Clear();
                state.LastSkipped = 0;
                blockedKeys = null;
                nextAttemptAt = null;
                scanning = false;
                if (after is not null)
                {
                    return new Pass(true, Volatile.Read(ref state.LastBacklog), null);
                }
            }

            if (records.Count == 0)
            {
                state.LastSkipped = 0;
                if (after is null)
                {
                    state.Failures.Clear();
                    Volatile.Write(ref state.LastBacklog, 0);
                    Volatile.Write(ref state.OldestPendingUnixMs, 0);
                    return new Pass(false, 0, null);
                }

                // The scan reached the end of the log: the records appended next come after the cursor.
                state.ResumeAfter = after;
                var remaining = await _log.GetBacklogAsync(shard, cancellationToken).ConfigureAwait(false);
                Volatile.Write(ref state.LastBacklog, remaining);
                return new Pass(false, remaining, nextAttemptAt);
            }

            if (after is null)
            {
                // Reads return the oldest unacknowledged records first.
                Volatile.Write(ref state.OldestPendingUnixMs, Math.Max(1, records[0].Record.EnqueuedAt.ToUnixTimeMilliseconds()));
            }

            var batch = new List<PendingWriteBack>(Math.Min(records.Count, _options.BatchSize));
            string? lastExamined = null;
            var skipped = 0;
            foreach (var record in records)
            {
                if (batch.Count == _options.BatchSize)
                {
                    break;
                }

                lastExamined = record.Position;

                if (blockedKeys is not null && blockedKeys.Contains(record.Record.EntityKey))
                {
                    skipped++;
                    continue;
                }

                batch.Add(record);
            }

            state.LastSkipped = skipped;
            if (batch.Count > 0)
            {
                await ApplyAsync(shard, batch, cancellationToken).ConfigureAwait(false);
            }

            // Every record up to lastExamined is now acknowledged, dead-lettered, or a record of a key that waits for a
            // retry, unless a record was left pending. So the scan may go on after it.
            var movedOn = false;
            if (scanning && lastExamined is not null && !state.LeftPending)
            {
                state.ResumeAfter = lastExamined;

                // A read after a position never returns that position's record; one that did ignored the position
                // (a log decorator that does not forward it): no progress then, so the loop waits instead of spinning.
                movedOn = after is null || !ReturnedPosition(records, after);
            }

            var backlog = await _log.GetBacklogAsync(shard, cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref state.LastBacklog, backlog);
            if (backlog == 0)
            {
                Volatile.Write(ref state.OldestPendingUnixMs, 0);
            }

            return new Pass(batch.Count > 0 || movedOn, backlog, nextAttemptAt);
        }
        finally
        {
            state.Gate.Release();
        }
    }

    private static bool ReturnedPosition(IReadOnlyList<PendingWriteBack> records, string position)
    {
        foreach (var record in records)
        {
            if (string.Equals(record.Position, position, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    private async Task ApplyAsync(int shard, List<PendingWriteBack> batch, CancellationToken cancellationToken)
    {
        if (batch.Count > 1 && !_transactions.IsAtomic)
        {
            await ApplyEachAsync(shard, batch, cancellationToken).ConfigureAwait(false);
            return;
        }

        try
        {
            await ApplyInTransactionAsync(batch, cancellationToken).ConfigureAwait(false);
        }
        catch (DatabaseUnavailableException unavailable)
        {
            OnDatabaseUnavailable(shard, batch.Count, unavailable);
            return;
        }
        catch (Exception exception) when (!(exception is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            if (batch.Count == 1)
            {
                await OnFailureAsync(shard, batch[0], exception, cancellationToken).ConfigureAwait(false);
                return;
            }

            Log.WriteBackBatchIsolating(_logger, exception, batch.Count, shard);
            await ApplyEachAsync(shard, batch, cancellationToken).ConfigureAwait(false);
            return;
        }

        _shards[shard].DatabaseFailures = 0;
        await CompleteAsync(shard, batch, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Applies records one per transaction; a key whose record failed is skipped for the rest of the batch, so
    /// its later records never overtake it.</summary>
    private async Task ApplyEachAsync(int shard, List<PendingWriteBack> batch, CancellationToken cancellationToken)
    {
        var failedKeys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var record in batch)
        {
            if (failedKeys.Contains(record.Record.EntityKey))
            {
                // Its key's failed record may have been dead-lettered or applied elsewhere, so the key need not be
                // backing off: read this record again from the oldest.
                _shards[shard].LeftPending = true;
                continue;
            }

            var single = new[] { record };
            try
            {
                await ApplyInTransactionAsync(single, cancellationToken).ConfigureAwait(false);
            }
            catch (DatabaseUnavailableException unavailable)
            {
                OnDatabaseUnavailable(shard, batch.Count, unavailable);
                return;
            }
            catch (Exception recordException) when (!(recordException is OperationCanceledException && cancellationToken.IsCancellationRequested))
            {
                failedKeys.Add(record.Record.EntityKey);
                await OnFailureAsync(shard, record, recordException, cancellationToken).ConfigureAwait(false);
                continue;
            }

            await CompleteAsync(shard, single, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The database cannot even begin a transaction (it is down or unreachable): no record is at fault, so
    /// none is charged an attempt; the whole shard backs off instead.</summary>
    private void OnDatabaseUnavailable(int shard, int records, DatabaseUnavailableException unavailable)
    {
        var state = _shards[shard];
        state.LeftPending = true;
        state.DatabaseFailures++;
        var delay = Backoff(state.DatabaseFailures);
        state.DatabaseNotBefore = _time.GetUtcNow() + delay;
        _telemetry.Retries.Add(records, new KeyValuePair<string, object?>(CachingGenTelemetry.ShardTag, shard));
        Log.DatabaseUnavailable(_logger, unavailable.InnerException ?? unavailable, shard, records, delay);
    }

    private async Task ApplyInTransactionAsync(IReadOnlyList<PendingWriteBack> records, CancellationToken cancellationToken)
    {
        using var activity = CachingGenTelemetry.Source.StartActivity("CachingGen.WriteBack.Flush");
        activity?.SetTag("cachinggen.writeback.records", records.Count);
        AsyncServiceScope? scope = _scopes?.CreateAsyncScope();
        try
        {
            var services = scope?.ServiceProvider;
            IWriteBackTransaction transaction;
            try
            {
                transaction = await _transactions.BeginAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (!(exception is OperationCanceledException && cancellationToken.IsCancellationRequested))
            {
                throw new DatabaseUnavailableException(exception);
            }

            WriteBackTransaction.SetCurrent(transaction);
            await using (transaction.ConfigureAwait(false))
            {
                var replaced = FindReplacedRecords(records);
                var coalesced = 0;
                var keys = new string[records.Count];
                for (var i = 0; i < keys.Length; i++)
                {
                    keys[i] = records[i].Record.IdempotencyKey;
                }

                var claims = keys.Length == 1
                    ? new[] { await transaction.TryClaimAsync(keys[0], cancellationToken).ConfigureAwait(false) }
                    : await transaction.TryClaimManyAsync(keys, cancellationToken).ConfigureAwait(false);
                var toApply = new List<WriteBackRecord>(records.Count);
                for (var i = 0; i < records.Count; i++)
                {
                    var record = records[i].Record;
                    if (!claims[i])
                    {
                        Log.WriteBackDuplicateSkipped(_logger, record.IdempotencyKey);
                        _telemetry.Duplicates.Add(1, new KeyValuePair<string, object?>(CachingGenTelemetry.RepositoryTag, record.Repository));
                        continue;
                    }

                    if (replaced is not null && replaced[i])
                    {
                        coalesced++;
                        continue;
                    }

                    toApply.Add(record);
                }

                var multiRowRuns = await ApplyClaimedAsync(toApply, services, cancellationToken).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                if (multiRowRuns is not null)
                {
                    foreach (var (repository, count) in multiRowRuns)
                    {
                        _telemetry.AppliedInBatches.Add(count, new KeyValuePair<string, object?>(CachingGenTelemetry.RepositoryTag, repository));
                    }
                }

                _telemetry.BatchSize.Record(records.Count);
                if (coalesced > 0)
                {
                    _telemetry.Coalesced.Add(coalesced);
                }

                _telemetry.CoalescingRatio.Record((double)coalesced / records.Count);
            }
        }
        catch (Exception exception) when (activity is not null)
        {
            activity.SetStatus(ActivityStatusCode.Error, exception.Message);
            throw;
        }
        finally
        {
            WriteBackTransaction.SetCurrent(null);
            if (scope is { } created)
            {
                await created.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Applies the claimed records of one transaction in their order: a run of consecutive records of one method
    /// whose dispatcher has a multi-row apply goes to the database in one call, other records one call each. A run
    /// ends before a second record of a key already in it (one statement must not decide the order of two writes of a
    /// key), so per-key order holds. Returns the repository and size of every multi-row call (null when none), for the
    /// telemetry of a committed transaction.</summary>
    private async ValueTask<List<(string Repository, int Count)>?> ApplyClaimedAsync(List<WriteBackRecord> records, IServiceProvider? services, CancellationToken cancellationToken)
    {
        List<(string Repository, int Count)>? multiRowRuns = null;
        HashSet<string>? runKeys = null;
        var start = 0;
        while (start < records.Count)
        {
            var first = records[start];
            var dispatcher = DispatcherOf(first);
            var end = start + 1;
            if (dispatcher is IWriteBackBatchDispatcher batchDispatcher && batchDispatcher.CanApplyMany(first.Method))
            {
                runKeys ??= new HashSet<string>(StringComparer.Ordinal);
                runKeys.Clear();
                runKeys.Add(first.EntityKey);
                while (end < records.Count
                    && string.Equals(records[end].Repository, first.Repository, StringComparison.Ordinal)
                    && string.Equals(records[end].Method, first.Method, StringComparison.Ordinal)
                    && runKeys.Add(records[end].EntityKey))
                {
                    end++;
                }

                if (end - start > 1)
                {
                    await batchDispatcher.ApplyManyAsync(records.GetRange(start, end - start), services, cancellationToken).ConfigureAwait(false);
                    (multiRowRuns ??= new List<(string Repository, int Count)>()).Add((first.Repository, end - start));
                    start = end;
                    continue;
                }
            }

            await dispatcher.ApplyAsync(first, services, cancellationToken).ConfigureAwait(false);
            start = end;
        }

        return multiRowRuns;
    }

    private IWriteBackDispatcher DispatcherOf(WriteBackRecord record)
        => _runtime.GetDispatcher(record.Repository) ?? throw new InvalidOperationException(
            $"No write-back dispatcher is known for repository '{record.Repository}'. Register the repository with " +
            "AddCachingGen().AddRepository (the generated AddCached... extension), or construct its decorator with this runtime before flushing.");

    /// <summary>Marks the records a later record of the same key and the same coalescible method replaces (null when
    /// none): consecutive writes of one key, in the key's own order within the batch.</summary>
    private bool[]? FindReplacedRecords(IReadOnlyList<PendingWriteBack> records)
    {
        if (records.Count < 2)
        {
            return null;
        }

        bool[]? replaced = null;
        var laterOfKey = new Dictionary<string, WriteBackRecord>(StringComparer.Ordinal);
        for (var i = records.Count - 1; i >= 0; i--)
        {
            var record = records[i].Record;
            if (laterOfKey.TryGetValue(record.EntityKey, out var later)
                && string.Equals(later.Repository, record.Repository, StringComparison.Ordinal)
                && string.Equals(later.Method, record.Method, StringComparison.Ordinal)
                && _runtime.CanCoalesce(record))
            {
                (replaced ??= new bool[records.Count])[i] = true;
            }

            laterOfKey[record.EntityKey] = record;
        }

        return replaced;
    }

    private async Task CompleteAsync(int shard, IReadOnlyList<PendingWriteBack> records, CancellationToken cancellationToken)
    {
        var state = _shards[shard];
        var lastOfKey = new Dictionary<string, WriteBackRecord>(StringComparer.Ordinal);
        foreach (var pending in records)
        {
            lastOfKey[pending.Record.EntityKey] = pending.Record;
        }

        var settles = new List<(string Key, TimeSpan? TimeToLive)>(lastOfKey.Count);
        foreach (var (key, record) in lastOfKey)
        {
            settles.Add((key, _runtime.TimeToLiveOf(record)));
        }

        cancellationToken.ThrowIfCancellationRequested();
        if (!await _coordinator.CompleteAsync(shard, records, settles, exception => Log.UnpinFailed(_logger, exception.Exception, exception.Key)).ConfigureAwait(false))
        {
            state.LeftPending = true;
            return;
        }

        foreach (var pending in records)
        {
            state.Failures.Remove(pending.Position);
            _telemetry.Flushed.Add(1, new KeyValuePair<string, object?>(CachingGenTelemetry.RepositoryTag, pending.Record.Repository));
        }
    }

    private async Task OnFailureAsync(int shard, PendingWriteBack pending, Exception exception, CancellationToken cancellationToken)
    {
        var state = _shards[shard];
        if (!state.Failures.TryGetValue(pending.Position, out var failure))
        {
            failure = new Failure(pending.Record.EntityKey);
            state.Failures[pending.Position] = failure;
        }

        failure.Attempts = await CountFailedAttemptAsync(pending, failure, cancellationToken).ConfigureAwait(false);
        var record = pending.Record;
        if (failure.Attempts == 0)
        {
            // No longer pending: another flusher (the shard's new owner) applied or dead-lettered it meanwhile.
            state.Failures.Remove(pending.Position);
            return;
        }

        var tags = new KeyValuePair<string, object?>(CachingGenTelemetry.RepositoryTag, record.Repository);
        if (exception is PermanentWriteBackException || failure.Attempts >= _options.MaxAttempts)
        {
            await _log.DeadLetterAsync(pending, $"{exception.GetType().FullName}: {exception.Message}", cancellationToken).ConfigureAwait(false);
            state.Failures.Remove(pending.Position);
            _telemetry.DeadLetters.Add(1, tags);
            Log.WriteBackDeadLettered(_logger, exception, record.IdempotencyKey, record.Repository, record.Method, failure.Attempts);
            try
            {
                // The dead write never reached the database: drop its pinned entry so readers load the truth.
                await _coordinator.SettleAsync(record.EntityKey, null, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception settleException)
            {
                Log.UnpinFailed(_logger, settleException, record.EntityKey);
            }

            return;
        }

        var delay = Backoff(failure.Attempts);
        failure.NotBefore = _time.GetUtcNow() + delay;
        failure.Rescanned = false;
        _telemetry.Retries.Add(1, tags);
        Log.WriteBackRetry(_logger, exception, record.IdempotencyKey, record.Repository, record.Method, failure.Attempts, _options.MaxAttempts, delay);
    }

    /// <summary>The record's failed attempts, this one included, as the log counts them across owners; when the log
    /// cannot count (the cache store is down) the larger of this process's count and the count read with the record.</summary>
    private async ValueTask<int> CountFailedAttemptAsync(PendingWriteBack pending, Failure failure, CancellationToken cancellationToken)
    {
        try
        {
            return await _log.RecordFailedAttemptAsync(pending, cancellationToken).ConfigureAwait(false);
        }
        catch (CacheStoreUnavailableException exception)
        {
            var attempts = Math.Max(failure.Attempts, pending.FailedAttempts) + 1;
            Log.FailedAttemptNotRecorded(_logger, exception, pending.Record.IdempotencyKey, attempts);
            return attempts;
        }
    }

    private TimeSpan Backoff(int attempt) => Backoff(_options, attempt, Random.Shared.NextDouble());

    /// <summary>The wait before retry <paramref name="attempt"/>: the base delay doubled per attempt, capped, and with
    /// jitter a uniform part of its second half (<paramref name="random"/> in [0, 1)), so flushers that failed together
    /// do not retry together.</summary>
    internal static TimeSpan Backoff(CachingGenOptions options, int attempt, double random)
    {
        var baseTicks = (double)options.RetryBaseDelay.Ticks;
        var ticks = Math.Min(baseTicks * Math.Pow(2, Math.Min(attempt - 1, 62)), options.RetryMaxDelay.Ticks);
        if (options.RetryJitter)
        {
            ticks *= 0.5 + (random * 0.5);
        }

        return TimeSpan.FromTicks((long)ticks);
    }

    private readonly record struct Pass(bool Progressed, long Backlog, DateTimeOffset? NextAttemptAt);

    private sealed class Failure(string entityKey)
    {
        public string EntityKey { get; } = entityKey;

        public int Attempts { get; set; }

        public DateTimeOffset NotBefore { get; set; }

        /// <summary>A scan from the oldest record started after this retry fell due.</summary>
        public bool Rescanned { get; set; }
    }

    /// <summary>Beginning a flush transaction failed: the database is unavailable, not a record.</summary>
    private sealed class DatabaseUnavailableException(Exception inner) : Exception("The write-back transaction could not begin.", inner);

    private sealed class ShardState
    {
        public int DatabaseFailures;
        public DateTimeOffset DatabaseNotBefore;
        public readonly SemaphoreSlim Gate = new(1, 1);
        public readonly AsyncSignal Signal = new();
        public readonly Dictionary<string, Failure> Failures = new(StringComparer.Ordinal);
        public int LastSkipped;

        /// <summary>Where the next read starts (exclusive; null: from the oldest unacknowledged record). Set only while
        /// keys are backing off, to the last record a pass examined when every record up to it was either settled or
        /// one of theirs.</summary>
        public string? ResumeAfter;

        /// <summary>This pass left a record it read unacknowledged without a failure that makes its key wait (the store
        /// refused the acknowledgement, the database was unavailable, a record skipped after its key failed): the
        /// next read starts from the oldest record.</summary>
        public bool LeftPending;
        public long LastBacklog;
        public long OldestPendingUnixMs;

        /// <summary>The log's <see cref="IWriteBackLog.OwnershipChanges"/> of this shard when last read.</summary>
        public int OwnershipChanges;
    }
}
