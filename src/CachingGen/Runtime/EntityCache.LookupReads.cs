using System.Diagnostics;
using System.Threading.Tasks.Sources;
using CachingGen.Storage;

namespace CachingGen.Runtime;

public sealed partial class EntityCache<TEntity>
{
    /// <summary>
    /// A read whose lookup the store has not answered yet, continued by a pooled object instead of an async method: a
    /// hit then completes the caller's <see cref="ValueTask{TResult}"/> straight from the store's answer, with no state
    /// machine box per read. Anything but a clean hit goes on through the async slow paths, as an async method would.
    /// </summary>
    /// <remarks>
    /// The caller's execution context flows to the continuation (log scopes, activities), as an await would flow it. The
    /// object goes back to its pool when the caller takes the outcome; the completion is the last thing it does, because
    /// the caller's continuation may run inline and take the outcome at once.
    /// </remarks>
    private sealed class LookupRead<TState> : IValueTaskSource<TEntity?>
    {
        private static readonly WaitPool<LookupRead<TState>> Pool = new();

        private readonly Action _onLookup;
        private readonly Action _onSlowPath;
        private readonly WaitPool<LookupRead<TState>>? _pool;
        private ManualResetValueTaskSourceCore<TEntity?> _core;
        private EntityCache<TEntity>? _cache;
        private ValueTask<CacheLookup> _lookup;
        private ValueTask<TEntity?> _slowPath;
        private OwnedLookup _owned;
        private string? _key;
        private ReadPolicy? _policy;
        private TState _state = default!;
        private Func<TState, CancellationToken, ValueTask<TEntity?>>? _load;
        private long _eventsSeen;
        private Activity? _activity;
        private CancellationToken _cancellationToken;
        private ExecutionContext? _context;

        /// <param name="pool">The pool this read is a member of; null for a read dropped after use.</param>
        private LookupRead(WaitPool<LookupRead<TState>>? pool)
        {
            _pool = pool;
            _onLookup = OnLookup;
            _onSlowPath = OnSlowPath;
        }

        public static ValueTask<TEntity?> Start(EntityCache<TEntity> cache, ValueTask<CacheLookup> lookup, OwnedLookup owned, string key, ReadPolicy policy, TState state, Func<TState, CancellationToken, ValueTask<TEntity?>> load, long eventsSeen, Activity? activity, CancellationToken cancellationToken)
        {
            if (!Pool.TryRent(out var read))
            {
                read = new LookupRead<TState>(Pool.Join());
            }

            read._cache = cache;
            read._lookup = lookup;
            read._owned = owned;
            read._key = key;
            read._policy = policy;
            read._state = state;
            read._load = load;
            read._eventsSeen = eventsSeen;
            read._activity = activity;
            read._cancellationToken = cancellationToken;
            read._context = ExecutionContext.Capture();
            var token = read._core.Version;
            lookup.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(read._onLookup);
            return new ValueTask<TEntity?>(read, token);
        }

        public TEntity? GetResult(short token)
        {
            if (token != _core.Version || _core.GetStatus(token) == ValueTaskSourceStatus.Pending)
            {
                throw new InvalidOperationException("This read's outcome was already taken, or is not there yet: a ValueTask may be awaited only once.");
            }

            try
            {
                return _core.GetResult(token);
            }
            finally
            {
                _core.Reset();
                _pool?.Return(this);
            }
        }

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
            => _core.OnCompleted(continuation, state, token, flags);

        private void OnLookup()
        {
            // Mostly the caller's context is the default one, as is the reply thread's: running in it again is a no-op.
            if (_context is null || ReferenceEquals(_context, ExecutionContext.Capture()))
            {
                Continue();
            }
            else
            {
                ExecutionContext.Run(_context, static read => ((LookupRead<TState>)read!).Continue(), this);
            }
        }

        private void Continue()
        {
            ValueTask<TEntity?> next;
            try
            {
                next = ReadOn();
            }
            catch (Exception exception)
            {
                Clear();
                _core.SetException(exception);
                return;
            }

            Clear();
            if (next.IsCompletedSuccessfully)
            {
                _core.SetResult(next.Result);
                return;
            }

            _slowPath = next;
            next.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_onSlowPath);
        }

        /// <summary>Reads on from the store's answer (<see cref="ReadOnAnswer"/>); a store outage sends the read to the
        /// database, any other failure of the lookup is the caller's. Either way the lookup's sharers are let go.</summary>
        private ValueTask<TEntity?> ReadOn()
        {
            var cache = _cache!;
            var lookup = _lookup;
            _lookup = default;
            CacheLookup answer;
            try
            {
                answer = lookup.GetAwaiter().GetResult();
            }
            catch (CacheStoreUnavailableException exception)
            {
                cache.EndSharedLookup(ref _owned, SharedLookupOutcome.Unavailable, default);
                cache._runtime.Outages.Report(exception, "read");
                return cache.BypassAsync(_policy!, _state, _load!, _activity, _cancellationToken);
            }
            catch
            {
                cache.EndSharedLookup(ref _owned, SharedLookupOutcome.Failed, default);
                throw;
            }

            var owned = _owned;
            _owned = default;
            return cache.ReadOnAnswer(answer, owned, _key!, _policy!, _state, _load!, _eventsSeen, _activity, _cancellationToken);
        }

        private void OnSlowPath()
        {
            var slowPath = _slowPath;
            _slowPath = default;
            TEntity? value;
            try
            {
                value = slowPath.GetAwaiter().GetResult();
            }
            catch (Exception exception)
            {
                _core.SetException(exception);
                return;
            }

            _core.SetResult(value);
        }

        /// <summary>Drops the references the read held, so a pooled object keeps nothing alive.</summary>
        private void Clear()
        {
            _cache = null;
            _owned = default;
            _key = null;
            _policy = null;
            _state = default!;
            _load = null;
            _activity = null;
            _cancellationToken = default;
            _context = null;
        }
    }
}
