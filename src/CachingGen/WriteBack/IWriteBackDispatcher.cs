namespace CachingGen.WriteBack;

/// <summary>
/// Replays write-back records of one repository interface against its inner repository. Generated for every
/// interface with a <see cref="WriteBackAttribute"/> method: a switch over method signatures that deserializes
/// the arguments with the generated formatters and calls the inner method, with no reflection.
/// </summary>
public interface IWriteBackDispatcher
{
    /// <summary>The repository interface's stable name, matching <see cref="WriteBackRecord.Repository"/>.</summary>
    string Repository { get; }

    /// <summary>Calls the inner repository method that <paramref name="record"/> names, with its arguments.</summary>
    /// <param name="record">The record to apply.</param>
    /// <param name="services">The scope of this flush batch (the inner repository is resolved from it), or null
    /// when the dispatcher was bound to an inner repository instance.</param>
    /// <param name="cancellationToken">Cancels the apply.</param>
    ValueTask ApplyAsync(WriteBackRecord record, IServiceProvider? services, CancellationToken cancellationToken);
}
