using System.Globalization;
using CachingGen.Runtime;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace CachingGen.WriteBack;

/// <summary>
/// Unhealthy when the oldest unflushed write-back record (in any shard, whichever process flushes it) is older than
/// the threshold, or when the log cannot be read; the data carries each shard's backlog and oldest age.
/// </summary>
public sealed class WriteBackHealthCheck : IHealthCheck
{
    private readonly CachingGenRuntime _runtime;
    private readonly TimeSpan _maxPendingAge;

    /// <summary>Creates the check.</summary>
    /// <param name="runtime">The runtime whose write-back log is checked.</param>
    /// <param name="maxPendingAge">The oldest a pending record may be while the check is healthy.</param>
    public WriteBackHealthCheck(CachingGenRuntime runtime, TimeSpan maxPendingAge)
    {
        _runtime = runtime ?? throw new ArgumentNullException(nameof(runtime));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(maxPendingAge, TimeSpan.Zero);
        _maxPendingAge = maxPendingAge;
    }

    /// <inheritdoc />
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var log = _runtime.WriteBackLog;
        var now = _runtime.TimeProvider.GetUtcNow();
        var data = new Dictionary<string, object>(StringComparer.Ordinal);
        var oldestAge = TimeSpan.Zero;
        long backlog = 0;
        try
        {
            for (var shard = 0; shard < log.ShardCount; shard++)
            {
                var shardBacklog = await log.GetBacklogAsync(shard, cancellationToken).ConfigureAwait(false);
                backlog += shardBacklog;
                var oldest = await log.GetOldestPendingAsync(shard, cancellationToken).ConfigureAwait(false);
                var age = oldest is { } at && now > at ? now - at : TimeSpan.Zero;
                oldestAge = age > oldestAge ? age : oldestAge;
                data[string.Create(CultureInfo.InvariantCulture, $"shard{shard}.backlog")] = shardBacklog;
                data[string.Create(CultureInfo.InvariantCulture, $"shard{shard}.oldest_age_seconds")] = age.TotalSeconds;
            }
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "The write-back log cannot be read.", exception, data);
        }

        data["backlog"] = backlog;
        data["oldest_age_seconds"] = oldestAge.TotalSeconds;
        if (oldestAge > _maxPendingAge)
        {
            return new HealthCheckResult(context.Registration.FailureStatus,
                string.Create(CultureInfo.InvariantCulture, $"The oldest pending write-back record is {oldestAge.TotalSeconds:0.#} s old (limit {_maxPendingAge.TotalSeconds:0.#} s); {backlog} record(s) pending. Is a flusher running, and is the database reachable?"),
                data: data);
        }

        return HealthCheckResult.Healthy(string.Create(CultureInfo.InvariantCulture, $"{backlog} write-back record(s) pending; the oldest is {oldestAge.TotalSeconds:0.#} s old."), data);
    }
}
