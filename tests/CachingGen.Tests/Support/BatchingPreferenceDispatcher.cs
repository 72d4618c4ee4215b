using CachingGen.Generated;
using CachingGen.Runtime;
using CachingGen.WriteBack;
using Sample;

namespace CachingGen.Tests.Support;

/// <summary>The hand-written dispatcher plus a multi-row apply of <c>UpdateAsync</c> (what
/// <c>[WriteBack(ApplyManyWith = ...)]</c> generates): one call per run, recorded, applied to the fake database inside
/// the flush transaction, so a row that fails the call rolls back the whole call.</summary>
public sealed class BatchingPreferenceDispatcher(FakePreferenceDatabase database) : IWriteBackBatchDispatcher
{
    public const string UpdateMethod = "UpdateAsync(Sample.Preference)";

    private readonly CachedPreferenceRepository.WriteBackDispatcher _single = new(database);
    private readonly List<long[]> _calls = new();

    public string Repository => _single.Repository;

    /// <summary>The user ids of every multi-row call, failed ones included, in call order.</summary>
    public IReadOnlyList<long[]> Calls
    {
        get
        {
            lock (_calls)
            {
                return _calls.ToArray();
            }
        }
    }

    public bool CanApplyMany(string method) => method == UpdateMethod;

    public ValueTask ApplyAsync(WriteBackRecord record, IServiceProvider? services, CancellationToken cancellationToken)
        => _single.ApplyAsync(record, services, cancellationToken);

    public async ValueTask ApplyManyAsync(IReadOnlyList<WriteBackRecord> records, IServiceProvider? services, CancellationToken cancellationToken)
    {
        var preferences = WriteBackDispatch.DeserializeMany<Preference>(records, UpdateMethod, CachingGenFormatterResolver.Options);
        lock (_calls)
        {
            _calls.Add(preferences.Select(p => p.UserId).ToArray());
        }

        foreach (var preference in preferences)
        {
            await database.UpdateAsync(preference, cancellationToken);
        }
    }
}
