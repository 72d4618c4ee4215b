using CachingGen.WriteBack;

namespace CachingGen.Runtime;

/// <summary>
/// The process-wide runtime the generated decorators bind to: the cache store, the write-back log and its
/// coordinator, time, logging and telemetry. One per application (a DI singleton).
/// </summary>
public sealed class CachingGenRuntime
{
    /// <summary>The entity cache of one entity type of one repository (cached: the same instance every time).</summary>
    public EntityCache<TEntity> GetEntityCache<TEntity>(RepositoryDescriptor repository) => throw new NotImplementedException();

    /// <summary>Makes a dispatcher known to the flusher (for decorators built without dependency injection).
    /// The first dispatcher registered for a repository wins.</summary>
    public void RegisterDispatcher(IWriteBackDispatcher dispatcher) => throw new NotImplementedException();
}
