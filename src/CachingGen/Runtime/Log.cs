using Microsoft.Extensions.Logging;

namespace CachingGen.Runtime;

/// <summary>Every log message of the runtime, source-generated.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1001, Level = LogLevel.Warning,
        Message = "CachingGen is using the in-memory write-back log, which is NOT durable: acknowledged write-back calls that are not yet flushed to the database are LOST if this process crashes or is killed. Register a durable IWriteBackLog for production.")]
    public static partial void InMemoryLogNotDurable(ILogger logger);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Warning,
        Message = "Cache entry {Key} of {Repository} is unusable ({Reason}); treated as a miss, the next fill overwrites it.")]
    public static partial void CorruptEntry(ILogger logger, string key, string repository, string reason);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Warning,
        Message = "Filling {Key} of {Repository} failed; the loaded value was returned without being cached.")]
    public static partial void FillFailed(ILogger logger, Exception exception, string key, string repository);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Debug,
        Message = "Fill of {Key} of {Repository} was refused: the key was written or invalidated after the miss.")]
    public static partial void FillRefused(ILogger logger, string key, string repository);

    [LoggerMessage(EventId = 1104, Level = LogLevel.Error,
        Message = "{Strategy} {Method} of {Repository}: the database write succeeded but the cache update failed; cached entries of the written keys may be stale until they expire.")]
    public static partial void CacheUpdateFailed(ILogger logger, Exception exception, string strategy, string method, string repository);

    [LoggerMessage(EventId = 1201, Level = LogLevel.Warning,
        Message = "Write-back record {IdempotencyKey} ({Repository} {Method}) failed on attempt {Attempt} of {MaxAttempts}; retrying in {Delay}.")]
    public static partial void WriteBackRetry(ILogger logger, Exception exception, string idempotencyKey, string repository, string method, int attempt, int maxAttempts, TimeSpan delay);

    [LoggerMessage(EventId = 1202, Level = LogLevel.Error,
        Message = "Write-back record {IdempotencyKey} ({Repository} {Method}) was dead-lettered after {Attempts} attempt(s); its write never reached the database and the cached entry was invalidated.")]
    public static partial void WriteBackDeadLettered(ILogger logger, Exception exception, string idempotencyKey, string repository, string method, int attempts);

    [LoggerMessage(EventId = 1203, Level = LogLevel.Warning,
        Message = "A write-back batch of {Count} record(s) on shard {Shard} failed; applying its records one per transaction to isolate the failure.")]
    public static partial void WriteBackBatchIsolating(ILogger logger, Exception exception, int count, int shard);

    [LoggerMessage(EventId = 1204, Level = LogLevel.Debug,
        Message = "Write-back record {IdempotencyKey} was already applied (ledger); skipped.")]
    public static partial void WriteBackDuplicateSkipped(ILogger logger, string idempotencyKey);

    [LoggerMessage(EventId = 1205, Level = LogLevel.Error,
        Message = "The write-back flusher of shard {Shard} failed; it tries again after the poll interval.")]
    public static partial void FlusherLoopFailed(ILogger logger, Exception exception, int shard);

    [LoggerMessage(EventId = 1206, Level = LogLevel.Information,
        Message = "Write-back flusher drained: no pending records.")]
    public static partial void DrainCompleted(ILogger logger);

    [LoggerMessage(EventId = 1207, Level = LogLevel.Warning,
        Message = "Write-back drain ended with {Pending} record(s) still pending (per shard: {Shards}); durable log: {IsDurable}. A durable log flushes them after restart; a non-durable log loses them.")]
    public static partial void DrainIncomplete(ILogger logger, long pending, string shards, bool isDurable);

    [LoggerMessage(EventId = 1208, Level = LogLevel.Information,
        Message = "Write-back flusher started: {Shards} shard(s), batch size {BatchSize}, durable log: {IsDurable}.")]
    public static partial void FlusherStarted(ILogger logger, int shards, int batchSize, bool isDurable);

    [LoggerMessage(EventId = 1209, Level = LogLevel.Warning,
        Message = "Could not give the flushed entry {Key} its time to live; it stays pinned until the next write of the key.")]
    public static partial void UnpinFailed(ILogger logger, Exception exception, string key);

    [LoggerMessage(EventId = 1211, Level = LogLevel.Warning,
        Message = "The database is unavailable to the write-back flusher of shard {Shard} ({Records} record(s) waiting); trying again in {Delay}. No record is charged an attempt.")]
    public static partial void DatabaseUnavailable(ILogger logger, Exception exception, int shard, int records, TimeSpan delay);

    [LoggerMessage(EventId = 1212, Level = LogLevel.Warning,
        Message = "The write-back log could not count the failed attempt of record {IdempotencyKey}; counting {Attempts} in this process (the log's count may be behind after an ownership move).")]
    public static partial void FailedAttemptNotRecorded(ILogger logger, Exception exception, string idempotencyKey, int attempts);

    [LoggerMessage(EventId = 1210, Level = LogLevel.Warning,
        Message = "Reading the backlog of the write-back log failed.")]
    public static partial void BacklogReadFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1105, Level = LogLevel.Warning,
        Message = "The cache store is unavailable ({Operation} failed); reads go to the database, writes commit and leave their keys pending invalidation. {Suppressed} more failure(s) since the last message; the next message comes at most {Interval} from now.")]
    public static partial void CacheStoreUnavailable(ILogger logger, Exception exception, string operation, long suppressed, TimeSpan interval);

    [LoggerMessage(EventId = 1106, Level = LogLevel.Information,
        Message = "Invalidated {Count} key(s) whose cache step had failed during a store outage; {Remaining} still pending.")]
    public static partial void PendingInvalidationsApplied(ILogger logger, int count, int remaining);

    [LoggerMessage(EventId = 1107, Level = LogLevel.Error,
        Message = "Retrying pending invalidations failed unexpectedly; trying again after the backoff.")]
    public static partial void PendingInvalidationFailed(ILogger logger, Exception exception);
}
