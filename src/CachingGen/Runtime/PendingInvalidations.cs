using System.Collections.Concurrent;
using CachingGen.Storage;
using CachingGen.WriteBack;
using Microsoft.Extensions.Logging;

namespace CachingGen.Runtime;

/// <summary>
/// Keys whose cache step failed because the store was unavailable after their database write committed. While a key
/// is pending, reads of it in this process bypass the cache (inner repository, no fill), so no stale entry is served
/// when the store comes back. A retry loop on the <see cref="TimeProvider"/> invalidates them with exponential backoff
/// until the store answers, then forgets them.
/// </summary>
/// <remarks>The loop runs only while keys are pending; reads pay one volatile read when none are.</remarks>
internal sealed class PendingInvalidations : IDisposable
{
    private const int BatchSize = 512;

    private readonly ConcurrentDictionary<string, Registration> _keys = new(StringComparer.Ordinal);
    private readonly ICacheStore _store;
    private readonly IWriteBackLog _log;
    private readonly StoreOutageReporter _outages;
    private readonly TimeProvider _time;
    private readonly TimeSpan _baseDelay;
    private readonly TimeSpan _maxDelay;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationToken _stoppingToken;
    // Completed (and replaced) when the store recovers: the retry loop stops waiting out its backoff.
    private TaskCompletionSource _recovered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    // Never below the number of pending keys (an add that loses a race still counts), so zero proves there are none.
    private int _count;
    private int _running;

    public PendingInvalidations(ICacheStore store, IWriteBackLog log, StoreOutageReporter outages, TimeProvider time, TimeSpan baseDelay, TimeSpan maxDelay, ILogger logger)
    {
        _store = store;
        _log = log;
        _outages = outages;
        _time = time;
        _baseDelay = baseDelay;
        _maxDelay = maxDelay;
        _logger = logger;
        _stoppingToken = _stopping.Token;
        if (store is IRecoveringCacheStore recovering)
        {
            recovering.Recovered += OnStoreRecovered;
        }
    }

    private void OnStoreRecovered(object? sender, EventArgs e)
        => Interlocked.Exchange(ref _recovered, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    /// <summary>The number of pending keys (for the gauge and tests: it locks the dictionary).</summary>
    public int Count => _keys.Count;

    /// <summary>Whether reads of <paramref name="key"/> must bypass the cache.</summary>
    public bool Contains(string key) => Volatile.Read(ref _count) > 0 && _keys.ContainsKey(key);

    /// <summary>The current registration of <paramref name="key"/>, or null when it is not pending; pass it to
    /// <see cref="Forget"/> once a write has replaced the key's entry in the store.</summary>
    public Registration? RegistrationOf(string key) => Volatile.Read(ref _count) > 0 && _keys.TryGetValue(key, out var registration) ? registration : null;

    /// <summary>Drops <paramref name="key"/> if it is still pending under <paramref name="registration"/>: a write that
    /// reached the store after that registration (a write-back append pins the newest value) made the stale entry
    /// harmless. A registration made later (another failed cache step) stays.</summary>
    public void Forget(string key, Registration registration)
    {
        if (_keys.TryRemove(new KeyValuePair<string, Registration>(key, registration)))
        {
            Interlocked.Decrement(ref _count);
        }
    }

    /// <summary>Records <paramref name="keys"/> with the failed invalidation's <paramref name="fillTimeToLive"/> (each
    /// registration is new: a retry that started earlier never forgets it, and the latest write's fill TTL is the one
    /// the retry leaves for the next fill) and makes sure the retry loop runs.</summary>
    public void Add(IReadOnlyList<string> keys, TimeSpan? fillTimeToLive)
    {
        for (var i = 0; i < keys.Count; i++)
        {
            // Counted only when this call really added the key: an AddOrUpdate factory may run and then lose the race,
            // which would leave the count above zero for good and cost every read a dictionary lookup.
            var registration = new Registration(fillTimeToLive);
            var key = keys[i];
            while (true)
            {
                if (_keys.TryAdd(key, registration))
                {
                    Interlocked.Increment(ref _count);
                    break;
                }

                if (_keys.TryGetValue(key, out var current) && _keys.TryUpdate(key, registration, current))
                {
                    break;
                }
            }
        }

        if (keys.Count > 0 && Interlocked.CompareExchange(ref _running, 1, 0) == 0)
        {
            _ = Task.Run(RetryAsync);
        }
    }

    /// <summary>Tries once to invalidate every pending key (the retry loop does this on its own; tests call it).</summary>
    internal async Task<bool> TryDrainOnceAsync(CancellationToken cancellationToken)
    {
        // One batch carries one fill TTL: keys are grouped by their registration's.
        var snapshot = _keys.ToArray();
        Array.Sort(snapshot, static (a, b) => Nullable.Compare(a.Value.FillTimeToLive, b.Value.FillTimeToLive));
        for (var offset = 0; offset < snapshot.Length;)
        {
            var fillTimeToLive = snapshot[offset].Value.FillTimeToLive;
            var end = offset + 1;
            while (end < snapshot.Length && end - offset < BatchSize && snapshot[end].Value.FillTimeToLive == fillTimeToLive)
            {
                end++;
            }

            var chunk = snapshot.AsSpan(offset, end - offset).ToArray();
            offset = end;
            var keys = Array.ConvertAll(chunk, static pair => pair.Key);
            try
            {
                // A write-back of the key acknowledged since the store came back pinned a value newer than the
                // database: erasing it would let a read fill the older row back in before the record is flushed. A
                // pinned value whose records were all flushed (its settle failed during the outage) may be older than
                // a direct write since: the log's settle unpins exactly those, in one step with its pending check.
                await InvalidationUnlessPending.InvalidateAsync(_store, _log, keys, fillTimeToLive, cancellationToken).ConfigureAwait(false);
            }
            catch (CacheStoreUnavailableException exception)
            {
                _outages.Report(exception, "pending_invalidation");
                return false;
            }

            foreach (var pair in chunk)
            {
                if (_keys.TryRemove(pair))
                {
                    Interlocked.Decrement(ref _count);
                }
            }

            Log.PendingInvalidationsApplied(_logger, keys.Length, Count);
        }

        return true;
    }

    private async Task RetryAsync()
    {
        var delay = _baseDelay;
        try
        {
            // Other processes may read the replaced values until the invalidations land: when the store says it is
            // back, retry now rather than at the end of the backoff. The signal is taken before each attempt, so a
            // recovery during a failing attempt wakes the wait after it.
            var recovered = Volatile.Read(ref _recovered).Task;
            while (!_stoppingToken.IsCancellationRequested)
            {
                using (var wait = CancellationTokenSource.CreateLinkedTokenSource(_stoppingToken))
                {
                    var delayed = Task.Delay(delay, _time, wait.Token);
                    if (await Task.WhenAny(delayed, recovered).ConfigureAwait(false) == recovered)
                    {
                        wait.Cancel();
                        delay = _baseDelay;
                    }

                    _stoppingToken.ThrowIfCancellationRequested();
                }

                recovered = Volatile.Read(ref _recovered).Task;
                bool drained;
                try
                {
                    drained = await TryDrainOnceAsync(_stoppingToken).ConfigureAwait(false);
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    Log.PendingInvalidationFailed(_logger, exception);
                    drained = false;
                }

                if (drained)
                {
                    delay = _baseDelay;
                    Volatile.Write(ref _running, 0);

                    // A key added after the snapshot but before the flag was cleared would wait for the next Add:
                    // take the loop back if there is one.
                    if (_keys.IsEmpty || Interlocked.CompareExchange(ref _running, 1, 0) != 0)
                    {
                        return;
                    }

                    continue;
                }

                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _maxDelay.Ticks));
            }
        }
        catch (OperationCanceledException) when (_stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Stops the retry loop. Keys still pending are forgotten: their entries live until their TTL.</summary>
    public void Dispose()
    {
        if (_store is IRecoveringCacheStore recovering)
        {
            recovering.Recovered -= OnStoreRecovered;
        }

        _stopping.Cancel();
    }

    /// <summary>One failed invalidation of a key: its identity tells a later registration apart, and it keeps the fill
    /// TTL the invalidation would have left (a write-around's), so the retry leaves the same one.</summary>
    internal sealed class Registration(TimeSpan? fillTimeToLive)
    {
        public TimeSpan? FillTimeToLive { get; } = fillTimeToLive;
    }
}

/// <summary>Counts every operation that failed because the cache store was unavailable and logs them without flooding:
/// the first failure at once, then at most one line per interval with the number of failures in between.</summary>
internal sealed class StoreOutageReporter
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    private readonly CachingGenTelemetry _telemetry;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private long _nextLogAt = long.MinValue;
    private long _suppressed;

    public StoreOutageReporter(CachingGenTelemetry telemetry, TimeProvider time, ILogger logger)
    {
        _telemetry = telemetry;
        _time = time;
        _logger = logger;
    }

    public void Report(CacheStoreUnavailableException exception, string operation)
    {
        _telemetry.Unavailable.Add(1, new KeyValuePair<string, object?>(CachingGenTelemetry.OperationTag, operation));
        var now = _time.GetTimestamp();
        var next = Volatile.Read(ref _nextLogAt);
        if (now < next || Interlocked.CompareExchange(ref _nextLogAt, now + (long)(Interval.TotalSeconds * _time.TimestampFrequency), next) != next)
        {
            Interlocked.Increment(ref _suppressed);
            return;
        }

        Log.CacheStoreUnavailable(_logger, exception, operation, Interlocked.Exchange(ref _suppressed, 0), Interval);
    }
}
