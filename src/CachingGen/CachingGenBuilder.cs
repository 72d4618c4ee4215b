using System.Diagnostics.CodeAnalysis;
using CachingGen.Runtime;
using CachingGen.WriteBack;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

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
    /// <remarks>The inner repository and the decorator get <paramref name="lifetime"/>; the dispatcher (when the
    /// repository has write-back methods) is a singleton that resolves <typeparamref name="TInner"/> from the scope of
    /// each flush transaction.</remarks>
    public CachingGenBuilder AddRepository<TRepository, [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TInner>(
        Func<TRepository, CachingGenRuntime, TRepository> decorate,
        Func<Func<IServiceProvider, TRepository>, IWriteBackDispatcher>? createDispatcher,
        ServiceLifetime lifetime)
        where TRepository : class
        where TInner : class, TRepository
    {
        ArgumentNullException.ThrowIfNull(decorate);
        Services.Add(new ServiceDescriptor(typeof(TInner), typeof(TInner), lifetime));
        Services.Add(new ServiceDescriptor(
            typeof(TRepository),
            services => decorate(services.GetRequiredService<TInner>(), services.GetRequiredService<CachingGenRuntime>()),
            lifetime));
        if (createDispatcher is not null)
        {
            Services.AddSingleton(_ => createDispatcher(static scope => scope.GetRequiredService<TInner>()));
        }

        return this;
    }

    /// <summary>
    /// Chooses the in-memory write-back log on purpose (replacing any other registered log) and accepts that it is not
    /// durable: acknowledged write-back calls not yet flushed to the database are lost when the process stops. For
    /// tests, demos and data you can afford to lose; without this (or a durable log), a repository with
    /// <see cref="WriteBackAttribute"/> methods refuses to start.
    /// </summary>
    /// <returns>The builder, for chaining.</returns>
    public CachingGenBuilder UseInMemoryWriteBackLog()
    {
        Services.Configure<CachingGenOptions>(static options => options.AllowNonDurableWriteBack = true);
        Services.Replace(ServiceDescriptor.Singleton<IWriteBackLog>(CachingGenServiceCollectionExtensions.CreateInMemoryWriteBackLog));
        return this;
    }
}
