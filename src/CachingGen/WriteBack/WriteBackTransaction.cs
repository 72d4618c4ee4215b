namespace CachingGen.WriteBack;

/// <summary>The flush transaction the current asynchronous flow runs in, if any.</summary>
/// <remarks>The flusher sets it around the replay of a batch, so a database package can hand the batch's connection
/// and transaction to the inner repository (for example <c>CachingGen.MySql.IMySqlConnectionSource</c>), and the
/// inner repository's changes commit together with the idempotency ledger.</remarks>
public static class WriteBackTransaction
{
    private static readonly AsyncLocal<IWriteBackTransaction?> Ambient = new();

    /// <summary>The transaction of the flush batch being replayed on this flow; null outside a flush.</summary>
    public static IWriteBackTransaction? Current => Ambient.Value;

    /// <summary>Makes <paramref name="transaction"/> current for the calling flow (call from the method that then
    /// awaits the replay; an async callee's change would not flow back).</summary>
    internal static void SetCurrent(IWriteBackTransaction? transaction) => Ambient.Value = transaction;
}
