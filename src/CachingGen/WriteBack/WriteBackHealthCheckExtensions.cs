using CachingGen.Runtime;
using CachingGen.WriteBack;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers <see cref="WriteBackHealthCheck"/>.</summary>
public static class WriteBackHealthCheckExtensions
{
    /// <summary>Adds the write-back health check: unhealthy when the oldest pending write-back record is older than
    /// <paramref name="maxPendingAge"/> (default 1 minute) or the log cannot be read.</summary>
    public static IHealthChecksBuilder AddCachingGenWriteBack(this IHealthChecksBuilder builder, TimeSpan? maxPendingAge = null, string name = "cachinggen-writeback", HealthStatus failureStatus = HealthStatus.Unhealthy, IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var limit = maxPendingAge ?? TimeSpan.FromMinutes(1);
        return builder.Add(new HealthCheckRegistration(name, provider => new WriteBackHealthCheck(provider.GetRequiredService<CachingGenRuntime>(), limit), failureStatus, tags));
    }
}
