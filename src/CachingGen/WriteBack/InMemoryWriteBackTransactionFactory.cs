using System.Collections.Concurrent;

namespace CachingGen.WriteBack;

/// <summary>
/// An in-process idempotency ledger: claims become visible to other transactions only when their transaction
/// commits; a transaction disposed without a commit forgets its claims. It does not make the inner repository's
/// own changes transactional, so use it for tests and for repositories that are themselves in memory.
/// </summary>
public sealed class InMemoryWriteBackTransactionFactory : IWriteBackTransactionFactory
{
    private readonly ConcurrentDictionary<string, byte> _ledger = new(StringComparer.Ordinal);

    /// <summary>The number of committed idempotency keys.</summary>
    public int Count => _ledger.Count;

    /// <summary>Whether <paramref name="idempotencyKey"/> was claimed by a committed transaction.</summary>
    public bool IsApplied(string idempotencyKey) => _ledger.ContainsKey(idempotencyKey);

    /// <summary>False: the ledger is in memory and the inner repository's writes are not part of its transactions, so
    /// the flusher applies one record per transaction.</summary>
    public bool IsAtomic => false;

    /// <inheritdoc />
    public ValueTask<IWriteBackTransaction> BeginAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return new ValueTask<IWriteBackTransaction>(new Transaction(_ledger));
    }

    private sealed class Transaction(ConcurrentDictionary<string, byte> ledger) : IWriteBackTransaction
    {
        private readonly HashSet<string> _claims = new(StringComparer.Ordinal);
        private bool _completed;

        public ValueTask<bool> TryClaimAsync(string idempotencyKey, CancellationToken cancellationToken)
        {
            ArgumentNullException.ThrowIfNull(idempotencyKey);
            ObjectDisposedException.ThrowIf(_completed, this);
            cancellationToken.ThrowIfCancellationRequested();
            return new ValueTask<bool>(!ledger.ContainsKey(idempotencyKey) && _claims.Add(idempotencyKey));
        }

        public ValueTask CommitAsync(CancellationToken cancellationToken)
        {
            ObjectDisposedException.ThrowIf(_completed, this);
            cancellationToken.ThrowIfCancellationRequested();
            foreach (var claim in _claims)
            {
                ledger.TryAdd(claim, 0);
            }

            _claims.Clear();
            _completed = true;
            return ValueTask.CompletedTask;
        }

        public ValueTask DisposeAsync()
        {
            _claims.Clear();
            _completed = true;
            return ValueTask.CompletedTask;
        }
    }
}
