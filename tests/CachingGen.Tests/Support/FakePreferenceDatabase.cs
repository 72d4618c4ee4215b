using System.Collections.Concurrent;
using Sample;

namespace CachingGen.Tests.Support;

/// <summary>A counting in-memory "database" behind IPreferenceRepository, with a shared ordered event journal,
/// per-key write histories and hooks to block or fail calls.</summary>
public sealed class FakePreferenceDatabase : IPreferenceRepository
{
    private readonly ConcurrentDictionary<long, Preference> _rows = new();
    private readonly ConcurrentDictionary<long, List<long>> _history = new();
    private int _gets;
    private int _saves;
    private int _saveManys;
    private int _updates;
    private int _updateAttempts;
    private int _deletes;

    public FakePreferenceDatabase(EventJournal? journal = null) => Journal = journal ?? new EventJournal();

    public EventJournal Journal { get; }

    public int Gets => Volatile.Read(ref _gets);

    public int Saves => Volatile.Read(ref _saves);

    public int SaveManys => Volatile.Read(ref _saveManys);

    public int Updates => Volatile.Read(ref _updates);

    public int UpdateAttempts => Volatile.Read(ref _updateAttempts);

    public int Deletes => Volatile.Read(ref _deletes);

    /// <summary>Awaited by GetAsync before it reads (blocks loads).</summary>
    public Func<long, CancellationToken, Task>? BeforeGet { get; set; }

    /// <summary>Awaited by GetAsync after it has read the row (the value returned is the one read before).</summary>
    public Func<long, CancellationToken, Task>? AfterRead { get; set; }

    /// <summary>Runs before a write is applied; throw to fail it.</summary>
    public Func<string, Preference?, long, Task>? BeforeWrite { get; set; }

    /// <summary>Runs after a write was applied; throw to fail the call after its commit (a lost commit reply).</summary>
    public Func<string, Preference?, long, Task>? AfterWrite { get; set; }

    /// <summary>Yield inside every write, so concurrent calls interleave.</summary>
    public bool YieldOnWrite { get; set; }

    public CancellationToken LastGetToken { get; private set; }

    public IReadOnlyDictionary<long, Preference> Rows => _rows;

    public void Seed(Preference preference) => _rows[preference.UserId] = preference;

    /// <summary>The op ids (Preference.Version, or the delete's op id) written to a key, in database order.</summary>
    public IReadOnlyList<long> HistoryOf(long userId)
    {
        var list = _history.GetOrAdd(userId, _ => new List<long>());
        lock (list)
        {
            return list.ToArray();
        }
    }

    /// <summary>The op id the next DeleteAsync in this async flow records in the key's history.</summary>
    public static AsyncLocal<long> DeleteOpId { get; } = new();

    public async ValueTask<Preference?> GetAsync(long userId, CancellationToken ct = default)
    {
        Interlocked.Increment(ref _gets);
        LastGetToken = ct;
        if (BeforeGet is { } before)
        {
            await before(userId, ct);
        }

        Journal.Add($"db:get:{userId}");
        var row = _rows.TryGetValue(userId, out var found) ? found : null;
        if (AfterRead is { } after)
        {
            await after(userId, ct);
        }

        return row;
    }

    public async Task SaveAsync(Preference preference, CancellationToken ct = default)
    {
        await WriteAsync("save", preference, preference.UserId);
        Interlocked.Increment(ref _saves);
    }

    public async Task SaveManyAsync(IReadOnlyList<Preference> preferences, CancellationToken ct = default)
    {
        if (BeforeWrite is { } before)
        {
            await before("savemany", null, -1);
        }

        foreach (var preference in preferences)
        {
            await WriteAsync("savemany", preference, preference.UserId);
        }

        Interlocked.Increment(ref _saveManys);
    }

    public async Task UpdateAsync(Preference preference, CancellationToken ct = default)
    {
        Interlocked.Increment(ref _updateAttempts);
        await WriteAsync("update", preference, preference.UserId);
        Interlocked.Increment(ref _updates);
    }

    public async Task DeleteAsync(long userId, CancellationToken ct = default)
    {
        await WriteAsync("delete", null, userId);
        Interlocked.Increment(ref _deletes);
    }

    public Task<int> CountAsync(CancellationToken ct = default) => Task.FromResult(_rows.Count);

    private async Task WriteAsync(string operation, Preference? preference, long userId)
    {
        if (BeforeWrite is { } before)
        {
            await before(operation, preference, userId);
        }

        if (YieldOnWrite)
        {
            await Task.Yield();
        }

        var deleteOp = DeleteOpId.Value;
        TransactionalTestLedger.Write(() =>
        {
            var list = _history.GetOrAdd(userId, _ => new List<long>());
            lock (list)
            {
                if (preference is null)
                {
                    _rows.TryRemove(userId, out _);
                    list.Add(deleteOp);
                }
                else
                {
                    _rows[userId] = preference;
                    list.Add(preference.Version);
                }
            }
        });

        Journal.Add($"db:{operation}:{userId}");
        if (AfterWrite is { } after)
        {
            await after(operation, preference, userId);
        }
    }
}

/// <summary>An ordered list of events shared by the fake database and the counting store.</summary>
public sealed class EventJournal
{
    private readonly List<string> _events = new();

    public void Add(string item)
    {
        lock (_events)
        {
            _events.Add(item);
        }
    }

    public IReadOnlyList<string> Snapshot()
    {
        lock (_events)
        {
            return _events.ToArray();
        }
    }

    public void Clear()
    {
        lock (_events)
        {
            _events.Clear();
        }
    }
}
