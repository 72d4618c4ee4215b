using CachingGen.WriteBack;

namespace CachingGen.Tests.Support;

/// <summary>
/// The in-memory ledger plus an ambient unit of work that the fake database joins (like a real database connection
/// shared by the ledger and the inner repository): writes made during a flush transaction are applied on commit and
/// dropped on rollback.
/// </summary>
public sealed class TransactionalTestLedger : IWriteBackTransactionFactory
{
    private static readonly AsyncLocal<List<Action>?> AmbientWrites = new();

    public InMemoryWriteBackTransactionFactory Ledger { get; } = new();

    /// <summary>Runs <paramref name="write"/> now, or on commit of the ambient flush transaction.</summary>
    public static void Write(Action write)
    {
        if (AmbientWrites.Value is { } pending)
        {
            pending.Add(write);
        }
        else
        {
            write();
        }
    }

    /// <summary>True: the fake database's writes join the ambient transaction.</summary>
    public bool IsAtomic => true;

    /// <summary>Not async on purpose: the ambient value it sets flows back into the flusher's calling method.</summary>
    public ValueTask<IWriteBackTransaction> BeginAsync(CancellationToken cancellationToken)
    {
        var inner = Ledger.BeginAsync(cancellationToken);
        Assert.True(inner.IsCompletedSuccessfully);
        var pending = new List<Action>();
        AmbientWrites.Value = pending;
        return new ValueTask<IWriteBackTransaction>(new Transaction(inner.Result, pending));
    }

    private sealed class Transaction(IWriteBackTransaction inner, List<Action> pending) : IWriteBackTransaction
    {
        public ValueTask<bool> TryClaimAsync(string idempotencyKey, CancellationToken cancellationToken) => inner.TryClaimAsync(idempotencyKey, cancellationToken);

        public async ValueTask CommitAsync(CancellationToken cancellationToken)
        {
            await inner.CommitAsync(cancellationToken);
            foreach (var write in pending)
            {
                write();
            }

            pending.Clear();
        }

        public ValueTask DisposeAsync()
        {
            pending.Clear();
            return inner.DisposeAsync();
        }
    }
}
