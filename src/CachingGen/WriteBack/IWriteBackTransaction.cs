namespace CachingGen.WriteBack;

/// <summary>
/// The unit of work one flush batch runs in: the idempotency ledger and the inner repository's data changes
/// commit together, so a batch replayed after a crash skips what already committed.
/// </summary>
public interface IWriteBackTransaction : IAsyncDisposable
{
    /// <summary>Records <paramref name="idempotencyKey"/> in the ledger, in this transaction. Returns false when it
    /// is already there (the write was applied before): the caller must then skip the write.</summary>
    ValueTask<bool> TryClaimAsync(string idempotencyKey, CancellationToken cancellationToken);

    /// <summary>Claims several idempotency keys at once (one round trip where the ledger allows it): element i is
    /// false when key i was applied before. The default claims them one by one.</summary>
    async ValueTask<IReadOnlyList<bool>> TryClaimManyAsync(IReadOnlyList<string> idempotencyKeys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(idempotencyKeys);
        var claimed = new bool[idempotencyKeys.Count];
        for (var i = 0; i < claimed.Length; i++)
        {
            claimed[i] = await TryClaimAsync(idempotencyKeys[i], cancellationToken).ConfigureAwait(false);
        }

        return claimed;
    }

    /// <summary>Commits the ledger rows and the data changes made in this transaction.</summary>
    ValueTask CommitAsync(CancellationToken cancellationToken);
}

/// <summary>Begins the transaction of one flush batch.</summary>
public interface IWriteBackTransactionFactory
{
    /// <summary>Begins a transaction. The flusher makes it <see cref="WriteBackTransaction.Current"/> while it replays
    /// the batch, so implementations that share a database connection with the inner repository can hand it out.</summary>
    ValueTask<IWriteBackTransaction> BeginAsync(CancellationToken cancellationToken);

    /// <summary>Whether the inner repository's changes made during a transaction commit and roll back with it (the
    /// ledger and the data share one database transaction, as with <c>CachingGen.MySql</c>). When false, a failed batch
    /// cannot be rolled back, so the flusher applies each record in its own transaction: a failure then never replays
    /// records of the same batch that were already applied. Default true.</summary>
    bool IsAtomic => true;
}
