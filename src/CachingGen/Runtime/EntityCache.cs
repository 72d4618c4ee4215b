using System.ComponentModel;

namespace CachingGen.Runtime;

/// <summary>
/// The strategy logic for one entity type of one repository. Generated decorators are thin: they compute keys and
/// bind the user's methods, then call these methods. Obtain one with <see cref="CachingGenRuntime.GetEntityCache{TEntity}"/>.
/// </summary>
/// <typeparam name="TEntity">The cached entity type.</typeparam>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class EntityCache<TEntity>
{
    /// <summary>Read-through: hit → cached value; miss → one inner call per key (single-flight), fill, return.</summary>
    public ValueTask<TEntity?> ReadThroughAsync<TState>(string key, ReadPolicy policy, TState state, Func<TState, CancellationToken, ValueTask<TEntity?>> load, CancellationToken cancellationToken)
        => throw new NotImplementedException();

    /// <summary>Write-through of one entity: database first (through <paramref name="write"/>), then the cache entry.</summary>
    public ValueTask WriteThroughAsync<TState>(string key, TEntity entity, WriteThroughPolicy policy, TState state, Func<TState, CancellationToken, ValueTask> write, CancellationToken cancellationToken)
        => throw new NotImplementedException();

    /// <summary>Write-through of many entities: database first, then every entry in one batch.</summary>
    public ValueTask WriteThroughManyAsync<TState>(IReadOnlyList<TEntity> entities, Func<TEntity, string> keyOf, WriteThroughPolicy policy, TState state, Func<TState, CancellationToken, ValueTask> write, CancellationToken cancellationToken)
        => throw new NotImplementedException();

    /// <summary>Write-around of the given keys: database only, then (unless disabled) one batched invalidation.</summary>
    public ValueTask WriteAroundAsync<TState>(IReadOnlyList<string> keys, WriteAroundPolicy policy, TState state, Func<TState, CancellationToken, ValueTask> write, CancellationToken cancellationToken)
        => throw new NotImplementedException();

    /// <summary>Evict: database first (through <paramref name="delete"/>), then the entries of the keys are removed.</summary>
    public ValueTask EvictAsync<TState>(IReadOnlyList<string> keys, EvictPolicy policy, TState state, Func<TState, CancellationToken, ValueTask> delete, CancellationToken cancellationToken)
        => throw new NotImplementedException();

    /// <summary>Write-back: the pinned cache entry and the log record in one step, then acknowledge.</summary>
    /// <param name="key">The entity's cache key.</param>
    /// <param name="entity">The entity as it will be after the write (stored in the cache).</param>
    /// <param name="idempotencyPart">The encoded value of the idempotency member; the record's idempotency key is <c>{key}@{idempotencyPart}</c>.</param>
    /// <param name="policy">The method's policy.</param>
    /// <param name="arguments">The call's arguments, serialized with <see cref="WriteBackArguments"/>.</param>
    /// <param name="cancellationToken">Cancels the call before it is acknowledged.</param>
    public ValueTask WriteBackAsync(string key, TEntity entity, string idempotencyPart, WriteBackPolicy policy, byte[] arguments, CancellationToken cancellationToken)
        => throw new NotImplementedException();
}
