using System.Collections.Concurrent;
using CachingGen.Storage;
using StackExchange.Redis;

namespace CachingGen.Redis;

/// <summary>The pooled, timer-free waits of the two hot commands: a read's <c>GET</c> and an absent key's fill.</summary>
public sealed partial class RedisCacheStore
{
    /// <summary>Pooled waits kept per kind; more concurrent commands than this allocate, and the extra are dropped.</summary>
    private const int PooledWaits = 256;

    private readonly ConcurrentQueue<LookupWait> _lookupWaits = new();
    private readonly ConcurrentQueue<FillWait> _fillWaits = new();
    private int _pooledLookupWaits;
    private int _pooledFillWaits;

    private ValueTask<CacheLookup> AwaitLookup(Task<RedisValue> pending, string key, CancellationToken cancellationToken)
    {
        var wait = Rent(_lookupWaits, ref _pooledLookupWaits) ?? new LookupWait(this);
        return wait.Start(pending, key, cancellationToken);
    }

    private ValueTask<bool> AwaitFill(Task<bool> pending, CancellationToken cancellationToken)
    {
        if (pending.IsCompletedSuccessfully)
        {
            return new ValueTask<bool>(pending.Result);
        }

        var wait = Rent(_fillWaits, ref _pooledFillWaits) ?? new FillWait(this);
        return wait.Start(pending, cancellationToken);
    }

    private static T? Rent<T>(ConcurrentQueue<T> pool, ref int pooled)
        where T : class
    {
        if (pool.TryDequeue(out var wait))
        {
            Interlocked.Decrement(ref pooled);
            return wait;
        }

        return null;
    }

    private static void Return<T>(ConcurrentQueue<T> pool, ref int pooled, T wait)
    {
        if (Interlocked.Increment(ref pooled) <= PooledWaits)
        {
            pool.Enqueue(wait);
        }
        else
        {
            Interlocked.Decrement(ref pooled);
        }
    }

    private Exception Translate(string operation, Exception failure) => IsServerFailure(failure) ? Unavailable(operation, failure) : failure;

    private sealed class LookupWait(RedisCacheStore store) : BoundedCommand<RedisValue, CacheLookup>
    {
        private string? _key;

        public ValueTask<CacheLookup> Start(Task<RedisValue> pending, string key, CancellationToken cancellationToken)
        {
            _key = key;
            return Await(pending, store._deadlines, cancellationToken);
        }

        protected override CacheLookup Map(RedisValue reply) => store.Interpret(_key!, reply);

        protected override Exception Translate(Exception failure) => store.Translate("GET", failure);

        protected override void Return()
        {
            _key = null;
            RedisCacheStore.Return(store._lookupWaits, ref store._pooledLookupWaits, this);
        }
    }

    private sealed class FillWait(RedisCacheStore store) : BoundedCommand<bool, bool>
    {
        public ValueTask<bool> Start(Task<bool> pending, CancellationToken cancellationToken) => Await(pending, store._deadlines, cancellationToken);

        protected override bool Map(bool reply) => reply;

        protected override Exception Translate(Exception failure) => store.Translate("fill", failure);

        protected override void Return() => RedisCacheStore.Return(store._fillWaits, ref store._pooledFillWaits, this);
    }
}
