using System.Collections.Concurrent;
using CachingGen.Storage;
using CachingGen.WriteBack;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CachingGen.Runtime;

/// <summary>
/// The process-wide runtime the generated decorators bind to: the cache store, the write-back log and its
/// coordinator, time, logging and telemetry. One per application (a DI singleton).
/// </summary>
public sealed class CachingGenRuntime : IAsyncDisposable, IDisposable
{
    private readonly ConcurrentDictionary<(string Repository, Type Entity), object> _caches = new();
    private readonly Dictionary<string, IWriteBackDispatcher> _injectedDispatchers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, IWriteBackDispatcher> _registeredDispatchers = new(StringComparer.Ordinal);
    private int _disposed;
    private bool _nonDurableWriteBackAccepted;

    /// <summary>Creates the runtime (dependency injection calls this through <c>AddCachingGen</c>).</summary>
    /// <param name="store">The cache store.</param>
    /// <param name="writeBackLog">The write-back log.</param>
    /// <param name="transactions">Begins flush transactions (the idempotency ledger).</param>
    /// <param name="dispatchers">Dispatchers registered with dependency injection; they take precedence over
    /// <see cref="RegisterDispatcher"/> for the same repository.</param>
    /// <param name="options">The options.</param>
    /// <param name="timeProvider">The clock of every time-based decision.</param>
    /// <param name="loggerFactory">Creates the runtime's loggers.</param>
    /// <param name="scopeFactory">Creates one scope per flush transaction, from which dispatchers resolve the inner
    /// repository; null when there is no container.</param>
    public CachingGenRuntime(
        ICacheStore store,
        IWriteBackLog writeBackLog,
        IWriteBackTransactionFactory transactions,
        IEnumerable<IWriteBackDispatcher> dispatchers,
        IOptions<CachingGenOptions> options,
        TimeProvider timeProvider,
        ILoggerFactory loggerFactory,
        IServiceScopeFactory? scopeFactory = null)
    {
        Store = store ?? throw new ArgumentNullException(nameof(store));
        WriteBackLog = writeBackLog ?? throw new ArgumentNullException(nameof(writeBackLog));
        WriteBackTransactions = transactions ?? throw new ArgumentNullException(nameof(transactions));
        ArgumentNullException.ThrowIfNull(dispatchers);
        ArgumentNullException.ThrowIfNull(options);
        Options = options.Value ?? throw new ArgumentException("The options have no value.", nameof(options));
        Options.Validate();
        TimeProvider = timeProvider ?? throw new ArgumentNullException(nameof(timeProvider));
        LoggerFactory = loggerFactory ?? throw new ArgumentNullException(nameof(loggerFactory));
        foreach (var dispatcher in dispatchers)
        {
            _injectedDispatchers.TryAdd(dispatcher.Repository, dispatcher);
        }

        // Dependency injection registers one dispatcher per repository with write-back methods: refuse to start now
        // rather than at the first write.
        _nonDurableWriteBackAccepted = Options.AllowNonDurableWriteBack;
        if (_injectedDispatchers.Count > 0)
        {
            var repositories = _injectedDispatchers.Keys.ToList();
            repositories.Sort(StringComparer.Ordinal);
            EnsureWriteBackLogAccepted(repositories[0]);
        }

        Logger = loggerFactory.CreateLogger("CachingGen");
        WriteBackFlusher? flusher = null;
        PendingInvalidations? pending = null;
        Telemetry = new CachingGenTelemetry(() => flusher!.ObserveBacklog(), () => flusher!.ObserveOldestPendingAge(), () => pending?.Count ?? 0);
        Outages = new StoreOutageReporter(Telemetry, timeProvider, Logger);
        pending = new PendingInvalidations(store, writeBackLog, Outages, timeProvider, Options.InvalidationRetryBaseDelay, Options.InvalidationRetryMaxDelay, Logger);
        PendingInvalidations = pending;
        Coordinator = new WriteBackCoordinator(Options.KeyGateCount, writeBackLog, Options.DirectWriteDrainTimeout, (key, exception) =>
        {
            Outages.Report(exception, "settle");
            pending.Add(new[] { key }, fillTimeToLive: null);
        });
        flusher = new WriteBackFlusher(this, writeBackLog, transactions, Coordinator, Telemetry, Options, timeProvider,
            loggerFactory.CreateLogger("CachingGen.WriteBack"), scopeFactory);
        WriteBack = flusher;
        Coordinator.Attach(flusher);
    }

    /// <summary>The cache store.</summary>
    public ICacheStore Store { get; }

    /// <summary>The write-back log.</summary>
    public IWriteBackLog WriteBackLog { get; }

    /// <summary>The flush transactions (the idempotency ledger).</summary>
    public IWriteBackTransactionFactory WriteBackTransactions { get; }

    /// <summary>The write-back flusher: a hosted service under dependency injection, started with
    /// <see cref="StartWriteBackAsync"/> otherwise; <see cref="WriteBackFlusher.FlushAsync"/> flushes on demand.</summary>
    public WriteBackFlusher WriteBack { get; }

    /// <summary>The options in force.</summary>
    public CachingGenOptions Options { get; }

    /// <summary>The clock.</summary>
    public TimeProvider TimeProvider { get; }

    internal ILoggerFactory LoggerFactory { get; }

    internal ILogger Logger { get; }

    internal WriteBackCoordinator Coordinator { get; }

    internal CachingGenTelemetry Telemetry { get; }

    internal StoreOutageReporter Outages { get; }

    internal PendingInvalidations PendingInvalidations { get; }

    internal PendingFills PendingFills { get; } = new();

    /// <summary>Completes once no fill sent by a read-through miss is still on its way to the cache store. A read returns
    /// the value it loaded without waiting for its fill (a fill is refused anyway if a write came first), so a test
    /// that inspects the cache right after a read waits for this first. <see cref="DisposeAsync"/> waits for it too.</summary>
    public Task WaitForPendingFillsAsync(CancellationToken cancellationToken = default) => PendingFills.WhenIdleAsync().WaitAsync(cancellationToken);

    /// <summary>Creates a runtime over an in-memory cache store, an in-memory (not durable) write-back log and an
    /// in-memory ledger, without dependency injection. Choosing it accepts the non-durable log (as
    /// <see cref="CachingGenOptions.AllowNonDurableWriteBack"/> does). Start its flusher with <see cref="StartWriteBackAsync"/>
    /// (or flush with <see cref="WriteBackFlusher.FlushAsync"/>); <see cref="DisposeAsync"/> drains it.</summary>
    public static CachingGenRuntime CreateInMemory(CachingGenOptions? options = null, TimeProvider? timeProvider = null, ILoggerFactory? loggerFactory = null)
    {
        options ??= new CachingGenOptions();
        options.Validate();
        timeProvider ??= TimeProvider.System;
        loggerFactory ??= NullLoggerFactory.Instance;
        var store = new InMemoryCacheStore(timeProvider, options.TombstoneLifetime);
        var log = new InMemoryWriteBackLog(store, options.ShardCount, loggerFactory.CreateLogger<InMemoryWriteBackLog>(), timeProvider);
        return new CachingGenRuntime(store, log, new InMemoryWriteBackTransactionFactory(), Array.Empty<IWriteBackDispatcher>(),
            Microsoft.Extensions.Options.Options.Create(options), timeProvider, loggerFactory)
        {
            _nonDurableWriteBackAccepted = true,
        };
    }

    /// <summary>The entity cache of one entity type of one repository (cached: the same instance every time).</summary>
    /// <exception cref="InvalidOperationException">The repository has write-back methods and the write-back log is not
    /// durable, which was not accepted explicitly.</exception>
    public EntityCache<TEntity> GetEntityCache<TEntity>(RepositoryDescriptor repository)
        => GetEntityCache<TEntity>(repository, versionOf: null);

    /// <summary>The entity cache of one entity type of one repository whose entity has a <see cref="CacheVersionAttribute"/>
    /// member (cached: the same instance every time). Its entries carry the version <paramref name="versionOf"/> reads,
    /// and its write-throughs update the cache in one compare-and-set step after the database write.</summary>
    /// <exception cref="InvalidOperationException">The repository has write-back methods and the write-back log is not
    /// durable, which was not accepted explicitly; or the repository was described before with or without a version.</exception>
    public EntityCache<TEntity> GetEntityCache<TEntity>(RepositoryDescriptor repository, Func<TEntity, long>? versionOf)
    {
        ArgumentNullException.ThrowIfNull(repository);
        if (repository.HasWriteBack)
        {
            EnsureWriteBackLogAccepted(repository.Name);
        }

        var cache = _caches.GetOrAdd((repository.Name, typeof(TEntity)), static (_, args) => new EntityCache<TEntity>(args.Runtime, args.Repository, args.VersionOf), (Runtime: this, Repository: repository, VersionOf: versionOf));
        var typed = (EntityCache<TEntity>)cache;
        if (!ReferenceEquals(typed.Repository, repository) && typed.Repository != repository)
        {
            throw new InvalidOperationException(
                $"Repository '{repository.Name}' was described twice with different settings ({typed.Repository} and {repository}).");
        }

        if (typed.IsVersioned != versionOf is not null)
        {
            throw new InvalidOperationException(
                $"Repository '{repository.Name}' was described twice for {typeof(TEntity)}, once with a [CacheVersion] member and once without. Rebuild every project that decorates it with the same CachingGen version.");
        }

        return typed;
    }

    /// <summary>Makes a dispatcher known to the flusher (for decorators built without dependency injection).
    /// The first dispatcher registered for a repository wins.</summary>
    public void RegisterDispatcher(IWriteBackDispatcher dispatcher)
    {
        ArgumentNullException.ThrowIfNull(dispatcher);
        if (!_injectedDispatchers.ContainsKey(dispatcher.Repository))
        {
            _registeredDispatchers.TryAdd(dispatcher.Repository, dispatcher);
        }
    }

    /// <summary>Starts the write-back flusher's background workers (without dependency injection; a host starts
    /// them itself). It can be started once; <see cref="DisposeAsync"/> stops and drains it.</summary>
    public Task StartWriteBackAsync(CancellationToken cancellationToken = default) => WriteBack.StartAsync(cancellationToken);

    /// <summary>Stops the flusher if it runs and drains pending write-back records (for at most
    /// <c>DrainTimeout</c>), then releases the meter. A flusher that never started drains only a non-durable log
    /// (whose records would otherwise be lost); a durable log's records stay for the flusher processes.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // Each fill ends within the store's own timeout; the bound only keeps a store that never answers from holding
        // the shutdown.
        await PendingFills.WhenIdleAsync().WaitAsync(PendingFillsShutdownWait).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (WriteBack.IsRunning)
        {
            await WriteBack.StopAsync(CancellationToken.None).ConfigureAwait(false);
        }
        else if (WriteBack.TryRetire() && !WriteBackLog.IsDurable)
        {
            // A durable log keeps its records for the flusher processes; a process that never ran the flusher must
            // not take shards over on its way out.
            await WriteBack.DrainAsync(CancellationToken.None).ConfigureAwait(false);
        }

        WriteBack.Dispose();
        PendingInvalidations.Dispose();
        Telemetry.Dispose();
    }

    /// <summary>How long <see cref="DisposeAsync"/> waits for the fills still on their way.</summary>
    internal static readonly TimeSpan PendingFillsShutdownWait = TimeSpan.FromSeconds(5);

    /// <summary>Releases the meter and the flusher WITHOUT draining (draining is asynchronous: prefer
    /// <see cref="DisposeAsync"/>, or stop the host first, which drains).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        WriteBack.TryRetire();
        WriteBack.Dispose();
        PendingInvalidations.Dispose();
        Telemetry.Dispose();
    }

    /// <summary>Refuses a repository with write-back methods on a non-durable log that nobody accepted explicitly.</summary>
    private void EnsureWriteBackLogAccepted(string repository)
    {
        if (!WriteBackLog.IsDurable && !_nonDurableWriteBackAccepted)
        {
            throw new InvalidOperationException(
                $"Repository '{repository}' has [WriteBack] methods, but the write-back log ({WriteBackLog.GetType().Name}) is not durable: " +
                "acknowledged writes that are not yet flushed to the database would be lost when the process stops. Register a durable " +
                "write-back log (for example builder.UseRedisWriteBackLog(...) from CachingGen.Redis), or accept the loss explicitly " +
                "with builder.UseInMemoryWriteBackLog() or CachingGenOptions.AllowNonDurableWriteBack = true (tests, demos).");
        }
    }

    internal IWriteBackDispatcher? GetDispatcher(string repository)
        => _injectedDispatchers.TryGetValue(repository, out var injected)
            ? injected
            : _registeredDispatchers.GetValueOrDefault(repository);

    /// <summary>Whether consecutive records of <paramref name="record"/>'s method on one key may be coalesced (only the
    /// last applied): the method declared it (<see cref="WriteBackRecord.Coalesce"/>) or the options list it
    /// (<see cref="CachingGenOptions.CoalescedWriteBackMethods"/>).</summary>
    internal bool CanCoalesce(WriteBackRecord record)
        => record.Coalesce
            || (Options.CoalescedWriteBackMethods.Count > 0 && Options.CoalescedWriteBackMethods.Contains(string.Concat(record.Repository, ".", record.Method)));

    internal TimeSpan TimeToLiveOf(WriteBackRecord record) => record.TimeToLive ?? Options.DefaultWriteBackTimeToLive;
}
