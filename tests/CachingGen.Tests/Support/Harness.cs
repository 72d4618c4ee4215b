using CachingGen.Generated;
using CachingGen.Runtime;
using CachingGen.Storage;
using CachingGen.WriteBack;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Sample;

namespace CachingGen.Tests.Support;

/// <summary>A runtime over an in-memory store (wrapped to count), log and ledger, a fake clock, a counting fake
/// database and the hand-written decorator.</summary>
public sealed class Harness : IAsyncDisposable
{
    public static readonly RepositoryDescriptor Descriptor = new("Sample.IPreferenceRepository", "pref", CachingGenFormatterResolver.Options, HasWriteBack: true);

    public Harness(Action<CachingGenOptions>? configure = null, IWriteBackLog? log = null, TransactionalTestLedger? ledger = null, FakePreferenceDatabase? database = null, InMemoryCacheStore? store = null, FakeTimeProvider? time = null, Func<ICacheStore, ICacheStore>? wrapStore = null, IWriteBackTransactionFactory? transactions = null, Func<FakePreferenceDatabase, IWriteBackDispatcher>? dispatcher = null)
    {
        Options = new CachingGenOptions { ShardCount = 2, RetryJitter = false, AllowNonDurableWriteBack = true };
        configure?.Invoke(Options);
        Time = time ?? new FakeTimeProvider(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
        Journal = database?.Journal ?? new EventJournal();
        Database = database ?? new FakePreferenceDatabase(Journal);
        MemoryStore = store ?? new InMemoryCacheStore(Time, Options.TombstoneLifetime);
        Store = new CountingCacheStore(MemoryStore, Journal);
        Loggers = new CapturingLoggerFactory();
        Log = log ?? new InMemoryWriteBackLog(Store, Options.ShardCount, Loggers.CreateLogger<InMemoryWriteBackLog>(), Time);
        Transactions = ledger ?? new TransactionalTestLedger();
        RuntimeStore = wrapStore?.Invoke(Store) ?? Store;
        Runtime = new CachingGenRuntime(RuntimeStore, Log, transactions ?? Transactions, dispatcher is null ? Array.Empty<IWriteBackDispatcher>() : new[] { dispatcher(Database) }, Microsoft.Extensions.Options.Options.Create(Options), Time, Loggers);
        Repository = new CachedPreferenceRepository(Database, Runtime);
        Cache = Runtime.GetEntityCache<Preference>(Descriptor);
    }

    public CachingGenOptions Options { get; }

    public FakeTimeProvider Time { get; }

    public EventJournal Journal { get; }

    public FakePreferenceDatabase Database { get; }

    public InMemoryCacheStore MemoryStore { get; }

    public CountingCacheStore Store { get; }

    /// <summary>The store the runtime uses: <see cref="Store"/>, or the wrapper the test put around it.</summary>
    public ICacheStore RuntimeStore { get; }

    public CapturingLoggerFactory Loggers { get; }

    public IWriteBackLog Log { get; }

    public TransactionalTestLedger Transactions { get; }

    public InMemoryWriteBackTransactionFactory Ledger => Transactions.Ledger;

    public CachingGenRuntime Runtime { get; }

    public CachedPreferenceRepository Repository { get; }

    public EntityCache<Preference> Cache { get; }

    public InMemoryWriteBackLog? MemoryLog => Log as InMemoryWriteBackLog;

    public static string Key(long userId) => CacheKey.Create("pref", userId);

    public (Preference? Value, DateTimeOffset? ExpiresAt, bool Found) Inspect(long userId)
    {
        if (!MemoryStore.TryInspect(Key(userId), out var bytes, out var expiresAt))
        {
            return (null, null, false);
        }

        Assert.True(CacheEnvelope.TryDecode<Preference>(bytes, CachingGenFormatterResolver.PreferenceFingerprint, CachingGenFormatterResolver.Options, out var value, out var reason), reason);
        return (value, expiresAt, true);
    }

    public ValueTask DisposeAsync() => Runtime.DisposeAsync();
}
