using CachingGen.Runtime;
using CachingGen.WriteBack;
using Microsoft.Extensions.DependencyInjection;

namespace CachingGen;

/// <summary>Configures CachingGen in a service collection: returned by <c>services.AddCachingGen()</c>.</summary>
public sealed class CachingGenBuilder
{
    /// <summary>Creates a builder over <paramref name="services"/>.</summary>
    public CachingGenBuilder(IServiceCollection services) => Services = services ?? throw new ArgumentNullException(nameof(services));

    /// <summary>The service collection being configured.</summary>
    public IServiceCollection Services { get; }

    /// <summary>Registers <typeparamref name="TInner"/> as the database repository and <typeparamref name="TRepository"/>
    /// as its caching decorator. Called by the generated <c>AddCached{Name}</c> extensions.</summary>
    public CachingGenBuilder AddRepository<TRepository, TInner>(
        Func<TRepository, CachingGenRuntime, TRepository> decorate,
        Func<Func<IServiceProvider, TRepository>, IWriteBackDispatcher>? createDispatcher,
        ServiceLifetime lifetime)
        where TRepository : class
        where TInner : class, TRepository
        => throw new NotImplementedException();
}
