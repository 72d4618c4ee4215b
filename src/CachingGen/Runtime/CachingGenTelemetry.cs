using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace CachingGen.Runtime;

/// <summary>The meter and activity source of one runtime. Instruments cost next to nothing when nobody listens.</summary>
internal sealed class CachingGenTelemetry : IDisposable
{
    public const string Name = "CachingGen";

    public const string RepositoryTag = "cachinggen.repository";
    public const string MethodTag = "cachinggen.method";
    public const string StrategyTag = "cachinggen.strategy";
    public const string ShardTag = "cachinggen.shard";
    public const string OperationTag = "cachinggen.operation";

    /// <summary>The activity source of every cache operation (<c>CachingGen</c>).</summary>
    public static readonly ActivitySource Source = new(Name, typeof(CachingGenTelemetry).Assembly.GetName().Version?.ToString());

    public CachingGenTelemetry(Func<IEnumerable<Measurement<long>>> observeBacklog, Func<IEnumerable<Measurement<double>>> observeOldestPendingAge, Func<int> observePendingInvalidations)
    {
        Meter = new Meter(Name, typeof(CachingGenTelemetry).Assembly.GetName().Version?.ToString());
        Hits = Meter.CreateCounter<long>("cachinggen.cache.hits", "{lookup}", "Read-through lookups answered by the cache.");
        Misses = Meter.CreateCounter<long>("cachinggen.cache.misses", "{lookup}", "Read-through lookups that went to the inner repository.");
        Fills = Meter.CreateCounter<long>("cachinggen.cache.fills", "{entry}", "Entries stored after a miss.");
        FillRefusals = Meter.CreateCounter<long>("cachinggen.cache.fill_refusals", "{entry}", "Fills refused because the key was written or invalidated after the miss.");
        CorruptEntries = Meter.CreateCounter<long>("cachinggen.cache.corrupt_entries", "{entry}", "Entries with a foreign format, another schema fingerprint or an undecodable payload.");
        Writes = Meter.CreateCounter<long>("cachinggen.writes", "{call}", "Write calls, by strategy.");
        Appends = Meter.CreateCounter<long>("cachinggen.writeback.appends", "{record}", "Write-back records appended (acknowledged writes).");
        Flushed = Meter.CreateCounter<long>("cachinggen.writeback.flushed", "{record}", "Write-back records applied and acknowledged.");
        Duplicates = Meter.CreateCounter<long>("cachinggen.writeback.duplicates", "{record}", "Write-back records skipped because the ledger shows them applied.");
        Retries = Meter.CreateCounter<long>("cachinggen.writeback.retries", "{attempt}", "Failed write-back attempts that will be retried.");
        DeadLetters = Meter.CreateCounter<long>("cachinggen.writeback.dead_letters", "{record}", "Write-back records given up on.");
        Unavailable = Meter.CreateCounter<long>("cachinggen.cache.unavailable", "{operation}", "Cache operations that failed because the store was unavailable (timeout, lost connection); the call went on without the cache.");
        Meter.CreateObservableGauge("cachinggen.cache.pending_invalidations", observePendingInvalidations, "{key}", "Keys whose invalidation failed during a store outage and is being retried; reads of them bypass the cache.");
        Coalesced = Meter.CreateCounter<long>("cachinggen.writeback.coalesced", "{record}", "Write-back records not replayed because a later write of the same key and method in the same batch replaces them (their idempotency keys are still recorded).");
        AppliedInBatches = Meter.CreateCounter<long>("cachinggen.writeback.applied_in_batches", "{record}", "Write-back records applied through a multi-row apply call ([WriteBack(ApplyManyWith = ...)]) that committed.");
        BatchSize = Meter.CreateHistogram<int>("cachinggen.writeback.batch_size", "{record}", "Records per committed flush transaction.");
        CoalescingRatio = Meter.CreateHistogram<double>("cachinggen.writeback.coalescing_ratio", null, "Per committed batch: coalesced records / records.");
        Meter.CreateObservableGauge("cachinggen.writeback.backlog", observeBacklog, "{record}", "Unflushed write-back records per shard this process owns, as last seen by the flusher.");
        Meter.CreateObservableGauge("cachinggen.writeback.oldest_pending_age", observeOldestPendingAge, "s", "Age of the oldest unflushed write-back record per shard this process owns, as last seen by the flusher (0 when empty).");
    }

    public Meter Meter { get; }

    public Counter<long> Hits { get; }

    public Counter<long> Misses { get; }

    public Counter<long> Fills { get; }

    public Counter<long> FillRefusals { get; }

    public Counter<long> CorruptEntries { get; }

    public Counter<long> Writes { get; }

    public Counter<long> Unavailable { get; }

    public Counter<long> Appends { get; }

    public Counter<long> Flushed { get; }

    public Counter<long> Duplicates { get; }

    public Counter<long> Retries { get; }

    public Counter<long> DeadLetters { get; }

    public Counter<long> Coalesced { get; }

    public Counter<long> AppliedInBatches { get; }

    public Histogram<int> BatchSize { get; }

    public Histogram<double> CoalescingRatio { get; }

    public void Dispose() => Meter.Dispose();
}
