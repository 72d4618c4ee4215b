namespace CachingGen.WriteBack;

/// <summary>
/// A <see cref="IWriteBackDispatcher"/> that can also apply a run of records of one method in one call of the inner
/// repository's multi-row method (<see cref="WriteBackAttribute.ApplyManyWith"/>). Generated for every interface with
/// such a method; the flusher groups runs of records for it and falls back to <see cref="IWriteBackDispatcher.ApplyAsync"/>
/// for everything else.
/// </summary>
public interface IWriteBackBatchDispatcher : IWriteBackDispatcher
{
    /// <summary>Whether records of <paramref name="method"/> (a <see cref="WriteBackRecord.Method"/>) can be applied
    /// together through <see cref="ApplyManyAsync"/>.</summary>
    /// <param name="method">The method's stable signature.</param>
    bool CanApplyMany(string method);

    /// <summary>Calls the multi-row method of the records' method once, with the records' entities in the given order.</summary>
    /// <param name="records">Records of one method for which <see cref="CanApplyMany"/> is true, each of another
    /// entity key (the flusher never puts two writes of one key in one call: the order of rows within one statement is
    /// the database's to choose).</param>
    /// <param name="services">The scope of this flush batch, or null when the dispatcher was bound to an inner instance.</param>
    /// <param name="cancellationToken">Cancels the apply.</param>
    ValueTask ApplyManyAsync(IReadOnlyList<WriteBackRecord> records, IServiceProvider? services, CancellationToken cancellationToken);
}
