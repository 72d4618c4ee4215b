using CachingGen.Runtime;
using CachingGen.Storage;
using StackExchange.Redis;

namespace CachingGen.Redis;

/// <summary>The pooled, timer-free waits of the two hot commands: a read's <c>GET</c> and an absent key's fill.</summary>
public sealed partial class RedisCacheStore
{
    private readonly WaitPool<LookupWait> _lookupWaits = new();
    private readonly WaitPool<FillWait> _fillWaits = new();

    private ValueTask<CacheLookup> AwaitLookup(Task<RedisValue> pending, string key, CancellationToken cancellationToken)
    {
        if (!_lookupWaits.TryRent(out var wait))
        {
            wait = new LookupWait(this, _lookupWaits.Join());
        }

        return wait.Start(pending, key, cancellationToken);
    }

    private ValueTask<bool> AwaitFill(Task<bool> pending, CancellationToken cancellationToken)
    {
        if (pending.IsCompletedSuccessfully)
        {
            return new ValueTask<bool>(pending.Result);
        }

        if (!_fillWaits.TryRent(out var wait))
        {
            wait = new FillWait(this, _fillWaits.Join());
        }

        return wait.Start(pending, cancellationToken);
    }

    private Exception Translate(string operation, Exception failure) => IsServerFailure(failure) ? Unavailable(operation, failure) : failure;

    /// <param name="store">The store whose <c>GET</c>s it waits for.</param>
    /// <param name="pool">The pool this wait is a member of; null for a wait dropped after use.</param>
    private sealed class LookupWait(RedisCacheStore store, WaitPool<LookupWait>? pool) : BoundedCommand<RedisValue, CacheLookup>(store._deadlines)
    {
        private string? _key;

        public ValueTask<CacheLookup> Start(Task<RedisValue> pending, string key, CancellationToken cancellationToken)
        {
            _key = key;
            return Await(pending, cancellationToken);
        }

        protected override CacheLookup Map(RedisValue reply) => store.Interpret(_key!, reply);

        protected override Exception Translate(Exception failure) => store.Translate("GET", failure);

        protected override void Return()
        {
            _key = null;
            ReturnTo(this, pool);
        }

        protected override void Retire() => LeavePool(pool);
    }

    /// <param name="store">The store whose fills it waits for.</param>
    /// <param name="pool">The pool this wait is a member of; null for a wait dropped after use.</param>
    private sealed class FillWait(RedisCacheStore store, WaitPool<FillWait>? pool) : BoundedCommand<bool, bool>(store._deadlines)
    {
        public ValueTask<bool> Start(Task<bool> pending, CancellationToken cancellationToken) => Await(pending, cancellationToken);

        protected override bool Map(bool reply) => reply;

        protected override Exception Translate(Exception failure) => store.Translate("fill", failure);

        protected override void Return() => ReturnTo(this, pool);

        protected override void Retire() => LeavePool(pool);
    }
}
