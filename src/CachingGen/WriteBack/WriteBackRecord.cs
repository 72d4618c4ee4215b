namespace CachingGen.WriteBack;

/// <summary>
/// One acknowledged write-back call, as stored in the write-back log: which repository method to replay, the
/// entity key it writes (its ordering and sharding unit), the idempotency key that makes a replay recognisable,
/// and the call's arguments serialized by the generated formatters.
/// </summary>
/// <param name="Repository">The repository interface's stable name, for example <c>Sample.IPreferenceRepository</c>.</param>
/// <param name="Method">The method's stable signature, for example <c>UpdateAsync(Sample.Preference)</c>.</param>
/// <param name="EntityKey">The cache key of the written entity, for example <c>pref:42</c>.</param>
/// <param name="IdempotencyKey">The entity key plus the idempotency member's value, for example <c>pref:42@7</c>.</param>
/// <param name="Arguments">The method's arguments (all but the cancellation token) as one MessagePack array.</param>
/// <param name="EnqueuedAt">When the write was acknowledged.</param>
public sealed record WriteBackRecord(
    string Repository,
    string Method,
    string EntityKey,
    string IdempotencyKey,
    ReadOnlyMemory<byte> Arguments,
    DateTimeOffset EnqueuedAt)
{
    /// <summary>The time to live the cached entry gets once this record's flush has committed (the method's
    /// <c>WriteBackPolicy.TimeToLive</c>, which every record the runtime appends carries). Null only for records
    /// written without one: the flusher then uses <c>CachingGenOptions.DefaultWriteBackTimeToLive</c>.</summary>
    public TimeSpan? TimeToLive { get; init; }

    /// <summary>Whether a later record of the same key and method supersedes this one, so a flush batch holding both may
    /// skip replaying this one (the method's <c>[WriteBack(Coalesce = true)]</c>). Stored with the record, so a flusher
    /// process decides by what the writer's build declared.</summary>
    public bool Coalesce { get; init; }
}

/// <summary>A record read back from the log, with the log's own position so it can be acknowledged.</summary>
/// <param name="Shard">The shard the record was read from.</param>
/// <param name="Position">The log's identifier of this record within the shard (a stream id in Redis).</param>
/// <param name="Record">The record.</param>
/// <param name="DeliveryCount">How many times the record has been handed to a flusher, this time included.</param>
public sealed record PendingWriteBack(int Shard, string Position, WriteBackRecord Record, int DeliveryCount)
{
    /// <summary>How many apply attempts of the record have failed so far, by any flusher
    /// (<see cref="IWriteBackLog.RecordFailedAttemptAsync"/>).</summary>
    public int FailedAttempts { get; init; }
}
