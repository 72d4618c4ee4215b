using System.ComponentModel;
using CachingGen.WriteBack;

namespace CachingGen.Runtime;

/// <summary>Helpers for generated write-back dispatchers.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class WriteBackDispatch
{
    /// <summary>The inner repository to replay against: the bound instance, or the one resolved from the batch's scope.</summary>
    public static TRepository ResolveInner<TRepository>(TRepository? bound, Func<IServiceProvider, TRepository>? resolve, IServiceProvider? services, string repository)
        where TRepository : class
    {
        if (bound is not null)
        {
            return bound;
        }

        if (resolve is null)
        {
            throw new InvalidOperationException(
                $"The write-back dispatcher of '{repository}' has neither an inner repository instance nor a way to resolve one.");
        }

        if (services is null)
        {
            throw new InvalidOperationException(
                $"The write-back dispatcher of '{repository}' resolves its inner repository from dependency injection, but the flush " +
                "ran without a service provider. Build the runtime through services.AddCachingGen() so flush batches get a scope, " +
                "or register a dispatcher bound to an inner repository instance.");
        }

        return resolve(services) ?? throw new InvalidOperationException(
            $"The write-back dispatcher of '{repository}' resolved a null inner repository.");
    }

    /// <summary>The error for a record whose method this build does not have (renamed or removed since it was logged).</summary>
    public static Exception UnknownMethod(WriteBackRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return new PermanentWriteBackException(
            $"Write-back record '{record.IdempotencyKey}' names method '{record.Method}' of repository '{record.Repository}', " +
            "which this build does not have: the method was renamed or removed since the record was logged. " +
            "The record cannot be replayed and is dead-lettered.");
    }
}
