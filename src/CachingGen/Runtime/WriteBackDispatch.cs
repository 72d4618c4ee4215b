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
        => throw new NotImplementedException();

    /// <summary>The error for a record whose method this build does not have (renamed or removed since it was logged).</summary>
    public static Exception UnknownMethod(WriteBackRecord record) => throw new NotImplementedException();
}
