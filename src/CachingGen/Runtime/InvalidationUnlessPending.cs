using CachingGen.Storage;
using CachingGen.WriteBack;

namespace CachingGen.Runtime;

/// <summary>
/// The invalidation a key of a repository with write-back methods needs after a database write: its entry goes,
/// unless a write-back record of it is still pending, whose pinned value is newer than the database and must stay
/// readable until its flush.
/// </summary>
internal static class InvalidationUnlessPending
{
    /// <summary>Invalidates <paramref name="keys"/> but leaves pinned entries; a pinned entry whose records were all
    /// flushed (its settle was put off or failed) holds a value older than the database, and the log's settle, in one
    /// step with its pending check, invalidates exactly those (one call for all of them).</summary>
    public static async ValueTask InvalidateAsync(ICacheStore store, IWriteBackLog log, IReadOnlyList<string> keys, TimeSpan? fillTimeToLive, CancellationToken cancellationToken)
    {
        var kept = await store.InvalidateUnlessPinnedAsync(keys, fillTimeToLive, cancellationToken).ConfigureAwait(false);
        await SettleKeptAsync(log, keys, kept, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Settles the keys whose pinned entry a direct write left alone (<paramref name="kept"/>, per key in order),
    /// in one call: the log keeps those with a pending record and invalidates the others.</summary>
    public static async ValueTask SettleKeptAsync(IWriteBackLog log, IReadOnlyList<string> keys, bool[] kept, CancellationToken cancellationToken)
    {
        List<(string EntityKey, TimeSpan? TimeToLive)>? settles = null;
        for (var i = 0; i < kept.Length; i++)
        {
            if (kept[i])
            {
                (settles ??= new List<(string EntityKey, TimeSpan? TimeToLive)>()).Add((keys[i], null));
            }
        }

        if (settles is not null)
        {
            await log.SettleManyAsync(settles, cancellationToken).ConfigureAwait(false);
        }
    }
}
