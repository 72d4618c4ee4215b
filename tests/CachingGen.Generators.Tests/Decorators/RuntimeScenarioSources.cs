namespace CachingGen.Generators.Tests.Decorators;

/// <summary>
/// Sources compiled with the canonical sample for the compile-and-run tests: a journal, a recording cache store over
/// the runtime's in-memory store, a counting fake inner repository, and the scenarios themselves (each a static
/// <c>Task Run...()</c> that throws on a broken promise of docs/strategies.md).
/// </summary>
internal static class RuntimeScenarioSources
{
    public const string Support = """
        global using System.Linq;
        using CachingGen;
        using CachingGen.Runtime;
        using CachingGen.Storage;
        using CachingGen.WriteBack;
        namespace Scenarios;

        /// <summary>The smallest service provider: fixed instances, itself as the scope factory and the scope.</summary>
        public sealed class MiniProvider : IServiceProvider, Microsoft.Extensions.DependencyInjection.IServiceScopeFactory, Microsoft.Extensions.DependencyInjection.IServiceScope
        {
            public readonly Dictionary<Type, object> Services = new();
            public int Scopes;
            public object? GetService(Type serviceType)
                => serviceType == typeof(Microsoft.Extensions.DependencyInjection.IServiceScopeFactory) ? this : Services.TryGetValue(serviceType, out var service) ? service : null;
            public Microsoft.Extensions.DependencyInjection.IServiceScope CreateScope() { Interlocked.Increment(ref Scopes); return this; }
            public IServiceProvider ServiceProvider => this;
            public void Dispose() { }
        }

        public sealed class Journal
        {
            private readonly List<string> _events = new();
            public void Add(string entry) { lock (_events) { _events.Add(entry); } }
            public string[] Take() { lock (_events) { var copy = _events.ToArray(); _events.Clear(); return copy; } }
            public string[] Peek() { lock (_events) { return _events.ToArray(); } }
        }

        /// <summary>Records every cache operation (the write-back log's own bookkeeping included).</summary>
        public sealed class RecordingStore(ICacheStore inner, Journal journal) : ICacheStore
        {
            public async ValueTask<CacheLookup> GetAsync(string key, CancellationToken cancellationToken)
            {
                var lookup = await inner.GetAsync(key, cancellationToken);
                journal.Add("cache:get:" + key + (lookup.Found ? ":hit" : ":miss"));
                return lookup;
            }

            public async ValueTask<bool> TryFillAsync(string key, ReadOnlyMemory<byte> value, TimeSpan timeToLive, long fillToken, CancellationToken cancellationToken)
            {
                var filled = await inner.TryFillAsync(key, value, timeToLive, fillToken, cancellationToken);
                journal.Add("cache:fill:" + key + ":" + (int)timeToLive.TotalSeconds + (filled ? string.Empty : ":refused"));
                return filled;
            }

            public async ValueTask<bool> TryFillVersionedAsync(string key, ReadOnlyMemory<byte> value, long version, TimeSpan timeToLive, long fillToken, CancellationToken cancellationToken)
            {
                var filled = await inner.TryFillVersionedAsync(key, value, version, timeToLive, fillToken, cancellationToken);
                journal.Add("cache:fill:" + key + "@" + version + ":" + (int)timeToLive.TotalSeconds + (filled ? string.Empty : ":refused"));
                return filled;
            }

            public async ValueTask<VersionedWriteOutcome[]> SetIfNewerAsync(IReadOnlyList<VersionedEntry> entries, CancellationToken cancellationToken)
            {
                var outcomes = await inner.SetIfNewerAsync(entries, cancellationToken);
                journal.Add("cache:set-if-newer:" + string.Join(",", entries.Select((e, i) => e.Key + "@" + e.Version + ":" + (int)e.TimeToLive.TotalSeconds + ":" + outcomes[i])));
                return outcomes;
            }

            public ValueTask SetManyAsync(IReadOnlyList<CacheEntry> entries, CancellationToken cancellationToken)
            {
                journal.Add("cache:set:" + string.Join(",", entries.Select(e => e.Key + ":" + (e.TimeToLive is { } ttl ? ((int)ttl.TotalSeconds).ToString() : "pinned"))));
                return inner.SetManyAsync(entries, cancellationToken);
            }

            public ValueTask InvalidateAsync(IReadOnlyList<string> keys, TimeSpan? fillTimeToLive, CancellationToken cancellationToken)
            {
                journal.Add("cache:invalidate:" + string.Join(",", keys) + (fillTimeToLive is { } ttl ? ":" + (int)ttl.TotalSeconds : string.Empty));
                return inner.InvalidateAsync(keys, fillTimeToLive, cancellationToken);
            }

            public ValueTask<bool[]> InvalidateUnlessPinnedAsync(IReadOnlyList<string> keys, TimeSpan? fillTimeToLive, CancellationToken cancellationToken)
            {
                journal.Add("cache:invalidate:" + string.Join(",", keys) + (fillTimeToLive is { } ttl ? ":" + (int)ttl.TotalSeconds : string.Empty));
                return inner.InvalidateUnlessPinnedAsync(keys, fillTimeToLive, cancellationToken);
            }

            public ValueTask<long[]> BeginWritesAsync(IReadOnlyList<string> keys, TimeSpan lease, CancellationToken cancellationToken)
            {
                journal.Add("cache:begin:" + string.Join(",", keys) + ":");
                return inner.BeginWritesAsync(keys, lease, cancellationToken);
            }

            public async ValueTask<WriteCompletionOutcome[]> CompleteWritesAsync(IReadOnlyList<WriteCompletion> completions, CancellationToken cancellationToken)
            {
                var outcomes = await inner.CompleteWritesAsync(completions, cancellationToken);
                journal.Add("cache:complete:" + string.Join(",", completions.Select((c, i) => c.Key + ":" + (c.Committed ? ((int)c.TimeToLive.TotalSeconds).ToString() : "failed") + ":" + outcomes[i])));
                return outcomes;
            }

            public ValueTask<bool> ExpireAsync(string key, TimeSpan timeToLive, CancellationToken cancellationToken)
            {
                journal.Add("cache:expire:" + key + ":" + (int)timeToLive.TotalSeconds);
                return inner.ExpireAsync(key, timeToLive, cancellationToken);
            }
        }

        public static class Check
        {
            public static void True(bool condition, string what)
            {
                if (!condition) throw new InvalidOperationException("Broken promise: " + what);
            }

            public static void Equal<T>(T expected, T actual, string what)
            {
                if (!EqualityComparer<T>.Default.Equals(expected, actual))
                    throw new InvalidOperationException($"Broken promise: {what}: expected <{expected}>, got <{actual}>");
            }

            public static void Sequence(string[] expected, string[] actual, string what)
            {
                if (!expected.SequenceEqual(actual))
                    throw new InvalidOperationException($"Broken promise: {what}:\n expected [{string.Join(", ", expected)}]\n got      [{string.Join(", ", actual)}]");
            }

            public static async Task<TException> Throws<TException>(Func<Task> action, string what) where TException : Exception
            {
                try { await action(); }
                catch (TException e) { return e; }
                throw new InvalidOperationException("Broken promise: " + what + ": expected " + typeof(TException).Name);
            }
        }

        /// <summary>A runtime over a recording in-memory store, log and ledger; the flusher is not started (tests flush).</summary>
        public sealed class World : IAsyncDisposable
        {
            public World(IWriteBackDispatcher[]? dispatchers = null, Microsoft.Extensions.DependencyInjection.IServiceScopeFactory? scopes = null, IWriteBackTransactionFactory? transactions = null, int shardCount = 2)
            {
                Journal = new Journal();
                Store = new RecordingStore(new InMemoryCacheStore(TimeProvider.System, TimeSpan.FromSeconds(60)), Journal);
                var options = new CachingGenOptions { ShardCount = shardCount, RetryJitter = false, RunWriteBackFlusher = false, AllowNonDurableWriteBack = true };
                Runtime = new CachingGenRuntime(Store, new InMemoryWriteBackLog(Store, options.ShardCount), transactions ?? new InMemoryWriteBackTransactionFactory(),
                    dispatchers ?? Array.Empty<IWriteBackDispatcher>(), Microsoft.Extensions.Options.Options.Create(options), TimeProvider.System,
                    Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance, scopes);
            }

            public Journal Journal { get; }
            public RecordingStore Store { get; }
            public CachingGenRuntime Runtime { get; }

            /// <summary>Only the cache operations on entity keys (not the write-back log's own keys).</summary>
            public string[] CacheOps(params string[] prefixes) => Journal.Peek().Where(e => e.StartsWith("cache:", StringComparison.Ordinal) && prefixes.Any(p => e.Contains(":" + p + ":", StringComparison.Ordinal))).ToArray();
            public string[] DbOps() => Journal.Peek().Where(e => e.StartsWith("db:", StringComparison.Ordinal)).ToArray();
            public string[] Ops(params string[] prefixes) => Journal.Peek().Where(e => e.StartsWith("db:", StringComparison.Ordinal) || (e.StartsWith("cache:", StringComparison.Ordinal) && prefixes.Any(p => e.Contains(":" + p + ":", StringComparison.Ordinal)))).ToArray();
            public void Clear() => Journal.Take();

            public ValueTask DisposeAsync() => Runtime.DisposeAsync();
        }
        """;

    public const string FakePreferences = """
        using CachingGen;
        using Sample;
        namespace Scenarios;

        /// <summary>The database: counts and journals every call; writes can be gated or made to fail.</summary>
        public sealed class FakePreferenceRepository(Journal journal) : IPreferenceRepository
        {
            public readonly System.Collections.Concurrent.ConcurrentDictionary<long, Preference> Rows = new();
            public int Gets, Saves, SaveManys, Updates, Deletes, Counts;
            public readonly List<Preference> Updated = new();
            public Func<Task>? BeforeGet;
            public Func<Task>? BeforeUpdate;
            public Exception? FailWrites;

            public async ValueTask<Preference?> GetAsync(long userId, CancellationToken ct = default)
            {
                Interlocked.Increment(ref Gets);
                journal.Add("db:get:" + userId);
                if (BeforeGet is { } gate) await gate();
                return Rows.TryGetValue(userId, out var row) ? row : null;
            }

            public Task SaveAsync(Preference preference, CancellationToken ct = default)
            {
                Interlocked.Increment(ref Saves);
                journal.Add("db:save:" + preference.UserId);
                if (FailWrites is { } error) return Task.FromException(error);
                Rows[preference.UserId] = preference;
                return Task.CompletedTask;
            }

            public Task SaveManyAsync(IReadOnlyList<Preference> preferences, CancellationToken ct = default)
            {
                Interlocked.Increment(ref SaveManys);
                journal.Add("db:saveMany:" + string.Join(",", preferences.Select(p => p.UserId)));
                foreach (var p in preferences) Rows[p.UserId] = p;
                return Task.CompletedTask;
            }

            public async Task UpdateAsync(Preference preference, CancellationToken ct = default)
            {
                if (BeforeUpdate is { } gate) await gate();
                Interlocked.Increment(ref Updates);
                journal.Add("db:update:" + preference.UserId);
                lock (Updated) Updated.Add(preference);
                Rows[preference.UserId] = preference;
            }

            public Task DeleteAsync(long userId, CancellationToken ct = default)
            {
                Interlocked.Increment(ref Deletes);
                journal.Add("db:delete:" + userId);
                Rows.TryRemove(userId, out _);
                return Task.CompletedTask;
            }

            public Task<int> CountAsync(CancellationToken ct = default)
            {
                Interlocked.Increment(ref Counts);
                journal.Add("db:count");
                return Task.FromResult(Rows.Count);
            }
        }
        """;

    /// <summary>Around-only and key-type repositories with a generic in-memory fake.</summary>
    public const string KeyRepositories = """
        using CachingGen;
        namespace Keys;
        public enum Region : byte { North = 1, South = 2 }
        public sealed record LongThing([property: CacheKey] long Id, string Value);
        public sealed record IntThing([property: CacheKey] int Id, string Value);
        public sealed record StringThing([property: CacheKey] string Id, string Value);
        public sealed record GuidThing([property: CacheKey] Guid Id, string Value);
        public sealed record EnumThing([property: CacheKey] Region Id, string Value);
        public sealed record CompositeThing([property: CacheKey] string Tenant, [property: CacheKey] Guid Id, string Value);

        [CachedRepository(KeyPrefix = "l")] public interface ILongRepository
        {
            [Cached] Task<LongThing?> GetAsync(long id);
            [WriteThrough] Task SaveAsync(LongThing thing);
            [WriteAround] Task PutAsync(LongThing thing);
            [WriteAround(Invalidate = false)] Task PutQuietlyAsync(LongThing thing);
            [Evict] Task DeleteAsync(long id);
            [Evict] Task DeleteManyAsync(IEnumerable<long> ids);
        }
        [CachedRepository(KeyPrefix = "i")] public interface IIntRepository
        {
            [Cached] Task<IntThing?> GetAsync(int id);
            [WriteThrough] Task SaveAsync(IntThing thing);
            [Evict] Task DeleteAsync(int id);
        }
        [CachedRepository(KeyPrefix = "s")] public interface IStringRepository
        {
            [Cached] Task<StringThing?> GetAsync(string id);
            [WriteThrough] Task SaveAsync(StringThing thing);
            [Evict] Task DeleteAsync(string id);
        }
        [CachedRepository(KeyPrefix = "g")] public interface IGuidRepository
        {
            [Cached] Task<GuidThing?> GetAsync(Guid id);
            [WriteThrough] Task SaveAsync(GuidThing thing);
            [Evict] Task DeleteAsync(Guid id);
        }
        [CachedRepository(KeyPrefix = "e")] public interface IEnumRepository
        {
            [Cached] Task<EnumThing?> GetAsync(Region id);
            [WriteThrough] Task SaveAsync(EnumThing thing);
            [Evict] Task DeleteAsync(Region id);
        }
        [CachedRepository(KeyPrefix = "c")] public interface ICompositeRepository
        {
            [Cached] Task<CompositeThing?> GetAsync(string tenant, Guid id);
            [WriteThrough] Task SaveAsync(CompositeThing thing);
            [Evict] Task DeleteAsync(string tenant, Guid id);
        }

        /// <summary>One fake for all key types: rows by key text, journaled.</summary>
        public class FakeStore<T>(Scenarios.Journal journal, Func<T, string> keyOf)
        {
            public readonly Dictionary<string, T> Rows = new();
            public int Gets, Writes, Deletes;
            protected Task<T?> Get(string key) { Gets++; journal.Add("db:get:" + key); return Task.FromResult(Rows.TryGetValue(key, out var v) ? v : default); }
            protected Task Write(T thing) { Writes++; journal.Add("db:write:" + keyOf(thing)); Rows[keyOf(thing)] = thing; return Task.CompletedTask; }
            protected Task Delete(string key) { Deletes++; journal.Add("db:delete:" + key); Rows.Remove(key); return Task.CompletedTask; }
        }

        public sealed class FakeLong(Scenarios.Journal j) : FakeStore<LongThing>(j, t => t.Id.ToString()), ILongRepository
        {
            public Task<LongThing?> GetAsync(long id) => Get(id.ToString());
            public Task SaveAsync(LongThing thing) => Write(thing);
            public Task PutAsync(LongThing thing) => Write(thing);
            public Task PutQuietlyAsync(LongThing thing) => Write(thing);
            public Task DeleteAsync(long id) => Delete(id.ToString());
            public async Task DeleteManyAsync(IEnumerable<long> ids) { foreach (var id in ids) await Delete(id.ToString()); }
        }
        public sealed class FakeInt(Scenarios.Journal j) : FakeStore<IntThing>(j, t => t.Id.ToString()), IIntRepository
        {
            public Task<IntThing?> GetAsync(int id) => Get(id.ToString());
            public Task SaveAsync(IntThing thing) => Write(thing);
            public Task DeleteAsync(int id) => Delete(id.ToString());
        }
        public sealed class FakeString(Scenarios.Journal j) : FakeStore<StringThing>(j, t => t.Id), IStringRepository
        {
            public Task<StringThing?> GetAsync(string id) => Get(id);
            public Task SaveAsync(StringThing thing) => Write(thing);
            public Task DeleteAsync(string id) => Delete(id);
        }
        public sealed class FakeGuid(Scenarios.Journal j) : FakeStore<GuidThing>(j, t => t.Id.ToString()), IGuidRepository
        {
            public Task<GuidThing?> GetAsync(Guid id) => Get(id.ToString());
            public Task SaveAsync(GuidThing thing) => Write(thing);
            public Task DeleteAsync(Guid id) => Delete(id.ToString());
        }
        public sealed class FakeEnum(Scenarios.Journal j) : FakeStore<EnumThing>(j, t => t.Id.ToString()), IEnumRepository
        {
            public Task<EnumThing?> GetAsync(Region id) => Get(id.ToString());
            public Task SaveAsync(EnumThing thing) => Write(thing);
            public Task DeleteAsync(Region id) => Delete(id.ToString());
        }
        public sealed class FakeComposite(Scenarios.Journal j) : FakeStore<CompositeThing>(j, t => t.Tenant + "/" + t.Id), ICompositeRepository
        {
            public Task<CompositeThing?> GetAsync(string tenant, Guid id) => Get(tenant + "/" + id);
            public Task SaveAsync(CompositeThing thing) => Write(thing);
            public Task DeleteAsync(string tenant, Guid id) => Delete(tenant + "/" + id);
        }
        """;
}

/// <summary>The scenarios, one static method each.</summary>
internal static class RuntimeScenarios
{
    public const string Source = """
        using CachingGen;
        using CachingGen.Runtime;
        using Microsoft.Extensions.DependencyInjection;
        using Sample;
        using Keys;
        namespace Scenarios;

        public static class Run
        {
            private static (World World, FakePreferenceRepository Db, IPreferenceRepository Repo) Preferences()
            {
                var world = new World();
                var db = new FakePreferenceRepository(world.Journal);
                IPreferenceRepository repo = new CachedPreferenceRepository(db, world.Runtime);
                return (world, db, repo);
            }

            public static async Task Cached_miss_calls_inner_once_then_hits()
            {
                var (world, db, repo) = Preferences();
                await using var _ = world;
                var row = new Preference(42, "email", true, 1);
                db.Rows[42] = row;

                Check.Equal(row, await repo.GetAsync(42), "miss returns the database row");
                Check.Sequence(new[] { "cache:get:pref:42:miss", "db:get:42", "cache:fill:pref:42:300" }, world.Ops("pref"), "a miss reads the cache, the database once, then fills with Ttl");
                world.Clear();

                Check.Equal(row, await repo.GetAsync(42), "hit returns the cached row");
                Check.Equal(row, await repo.GetAsync(42), "hit returns the cached row");
                Check.Sequence(new[] { "cache:get:pref:42:hit", "cache:get:pref:42:hit" }, world.Ops("pref"), "a hit never calls the database");
                Check.Equal(1, db.Gets, "inner GetAsync calls");
            }

            public static async Task Cached_concurrent_misses_call_inner_once()
            {
                var (world, db, repo) = Preferences();
                await using var _ = world;
                var row = new Preference(7, "sms", false, 3);
                db.Rows[7] = row;
                var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                db.BeforeGet = () => gate.Task;

                var readers = Enumerable.Range(0, 50).Select(_ => Task.Run(async () => await repo.GetAsync(7))).ToArray();
                for (var i = 0; i < 200 && db.Gets == 0; i++) await Task.Delay(10);
                await Task.Delay(100);
                gate.SetResult();
                var results = await Task.WhenAll(readers);

                Check.Equal(1, db.Gets, "50 concurrent misses of one key make one inner call");
                Check.True(results.All(r => r == row), "every waiter gets the loaded row");
            }

            public static async Task Cached_null_is_not_cached_without_NullTtl()
            {
                var (world, db, repo) = Preferences();
                await using var _ = world;
                Check.Equal(null, await repo.GetAsync(404), "missing row");
                Check.Equal(null, await repo.GetAsync(404), "missing row");
                Check.Equal(2, db.Gets, "not-found is not cached when NullTtl is 0");
            }

            public static async Task WriteThrough_writes_inner_then_the_cache_and_next_read_hits()
            {
                var (world, db, repo) = Preferences();
                await using var _ = world;
                var row = new Preference(1, "email", true, 1);

                await repo.SaveAsync(row);
                Check.Sequence(new[] { "cache:begin:pref:1:", "db:save:1", "cache:complete:pref:1:300:Stored" }, world.Ops("pref"), "write-through: write marker, database, then the entry with the policy TTL");
                world.Clear();

                Check.Equal(row, await repo.GetAsync(1), "read after write-through");
                Check.Sequence(new[] { "cache:get:pref:1:hit" }, world.Ops("pref"), "the read after a write-through is a hit");
                Check.Equal(0, db.Gets, "inner GetAsync calls");
            }

            public static async Task WriteThrough_failure_propagates_and_keeps_the_old_value()
            {
                var (world, db, repo) = Preferences();
                await using var _ = world;
                var old = new Preference(1, "email", true, 1);
                await repo.SaveAsync(old);
                db.FailWrites = new TimeoutException("database down");
                world.Clear();

                var error = await Check.Throws<TimeoutException>(() => repo.SaveAsync(old with { Channel = "sms", Version = 2 }), "write-through failure");
                Check.Equal("database down", error.Message, "the inner exception reaches the caller unchanged");
                Check.Sequence(new[] { "cache:begin:pref:1:", "db:save:1", "cache:complete:pref:1:failed:Invalidated" }, world.Ops("pref"), "a failed write-through stores nothing: its marker becomes a tombstone");

                Check.Equal(old, await repo.GetAsync(1), "the old value is served (read back from the database)");
                Check.Equal(1, db.Gets, "inner GetAsync calls");
            }

            public static async Task WriteAround_invalidates_so_the_next_read_calls_inner()
            {
                var (world, db, repo) = Preferences();
                await using var _ = world;
                db.Rows[1] = new Preference(1, "email", true, 1);
                await repo.GetAsync(1);
                world.Clear();

                var fresh = new[] { new Preference(1, "push", true, 2), new Preference(2, "sms", false, 1) };
                await repo.SaveManyAsync(fresh);
                Check.Sequence(new[] { "db:saveMany:1,2", "cache:invalidate:pref:1,pref:2:30" }, world.Ops("pref"), "write-around: database, then one invalidation batch with the fill TTL");
                world.Clear();

                Check.Equal(fresh[0], await repo.GetAsync(1), "the next read sees the new row");
                Check.Sequence(new[] { "cache:get:pref:1:miss", "db:get:1", "cache:fill:pref:1:30" }, world.Ops("pref"), "the next read misses and fills with the write-around Ttl");
                Check.Equal(2, db.Gets, "inner GetAsync calls");
            }

            public static async Task WriteAround_without_invalidation_keeps_serving_the_stale_value()
            {
                var world = new World();
                await using var _ = world;
                var db = new FakeLong(world.Journal);
                ILongRepository repo = new CachedLongRepository(db, world.Runtime);
                var old = new LongThing(5, "old");
                await repo.SaveAsync(old);
                world.Clear();

                await repo.PutQuietlyAsync(new LongThing(5, "new"));
                Check.Sequence(new[] { "db:write:5" }, world.Ops("l"), "Invalidate = false does no cache work at all");
                Check.Equal(old, await repo.GetAsync(5), "the stale entry is served until its TTL ends");
                Check.Equal(0, db.Gets, "inner GetAsync calls");
                Check.Equal("new", db.Rows["5"].Value, "the database has the new row");

                await repo.PutAsync(new LongThing(5, "newer"));
                Check.Equal("newer", (await repo.GetAsync(5))!.Value, "Invalidate = true (the default) makes the next read see the database");
                Check.Equal(1, db.Gets, "inner GetAsync calls");
            }

            public static async Task WriteBack_returns_before_inner_and_flush_calls_it_once()
            {
                var (world, db, repo) = Preferences();
                await using var _ = world;
                var row = new Preference(3, "email", true, 7);

                await repo.UpdateAsync(row);
                Check.Equal(0, db.Updates, "write-back acknowledges before the database is written");
                Check.True(world.DbOps().Length == 0, "no database call before the flush");
                Check.Equal(1L, await world.Runtime.WriteBack.GetBacklogAsync(), "one pending record");

                Check.Equal(row, await repo.GetAsync(3), "the pending value is served from the cache");
                Check.Equal(0, db.Gets, "inner GetAsync calls");

                await world.Runtime.WriteBack.FlushAsync();
                Check.Equal(1, db.Updates, "the flush calls the inner method exactly once");
                Check.Equal(row, db.Updated.Single(), "with arguments equal to the call's");
                Check.Equal(0L, await world.Runtime.WriteBack.GetBacklogAsync(), "nothing pending after the flush");

                await world.Runtime.WriteBack.FlushAsync();
                Check.Equal(1, db.Updates, "a second flush does not replay the record");
                Check.True(world.Journal.Peek().Contains("cache:expire:pref:3:300"), "the entry gets its TTL once the flush committed: " + string.Join(", ", world.Journal.Peek()));
            }

            public static async Task WriteBack_same_version_twice_is_applied_once()
            {
                var (world, db, repo) = Preferences();
                await using var _ = world;
                var row = new Preference(3, "email", true, 7);
                await repo.UpdateAsync(row);
                await repo.UpdateAsync(row);
                await world.Runtime.WriteBack.FlushAsync();
                Check.Equal(1, db.Updates, "the idempotency key (pref:3@7) makes a retried call one database write");
            }

            public static async Task Evict_calls_inner_then_the_next_read_misses()
            {
                var (world, db, repo) = Preferences();
                await using var _ = world;
                db.Rows[9] = new Preference(9, "email", true, 1);
                await repo.GetAsync(9);
                world.Clear();

                await repo.DeleteAsync(9);
                Check.Sequence(new[] { "db:delete:9", "cache:invalidate:pref:9" }, world.Ops("pref"), "evict: database first, then the key goes");
                world.Clear();

                Check.Equal(null, await repo.GetAsync(9), "deleted");
                Check.Sequence(new[] { "cache:get:pref:9:miss", "db:get:9" }, world.Ops("pref"), "the read after an evict misses");
            }

            public static async Task Pass_through_calls_inner_directly()
            {
                var (world, db, repo) = Preferences();
                await using var _ = world;
                db.Rows[1] = new Preference(1, "a", true, 1);
                db.Rows[2] = new Preference(2, "b", true, 1);
                Check.Equal(2, await repo.CountAsync(), "pass-through result");
                Check.Equal(2, await repo.CountAsync(), "pass-through result");
                Check.Equal(2, db.Counts, "every pass-through call reaches the inner repository");
                Check.Sequence(new[] { "db:count", "db:count" }, world.Journal.Peek(), "pass-through does no cache work");
            }

            private static async Task SameKey<TRepo, TThing>(string prefix, Func<World, (TRepo Repo, Func<int> Gets)> create,
                Func<TRepo, Task> save, Func<TRepo, Task<TThing?>> get, Func<TRepo, Task> delete, TThing expected, string expectedKey)
                where TThing : class
            {
                var world = new World();
                await using var _ = world;
                var (repo, gets) = create(world);

                await save(repo);
                var set = world.CacheOps(prefix).Last();
                Check.Equal("cache:complete:" + expectedKey + ":300:Stored", set, "write-through key");
                world.Clear();

                Check.Equal(expected, await get(repo), "read after write");
                Check.Sequence(new[] { "cache:get:" + expectedKey + ":hit" }, world.CacheOps(prefix), "the read meets the write at the same key");
                Check.Equal(0, gets(), "inner reads");

                await delete(repo);
                Check.Equal(null, await get(repo), "read after evict");
                Check.Equal(1, gets(), "the read after evicting the same key misses");
                Check.True(world.Journal.Peek().Contains("cache:invalidate:" + expectedKey), "evict invalidates the same key");
            }

            public static async Task Reads_and_writes_meet_at_the_same_key_for_every_key_type()
            {
                var guid = Guid.Parse("6F9619FF-8B86-D011-B42D-00C04FC964FF");

                await SameKey<ILongRepository, LongThing>("l", w => { var f = new FakeLong(w.Journal); return (new CachedLongRepository(f, w.Runtime), () => f.Gets); },
                    r => r.SaveAsync(new LongThing(-42, "x")), r => r.GetAsync(-42), r => r.DeleteAsync(-42), new LongThing(-42, "x"), "l:-42");
                await SameKey<IIntRepository, IntThing>("i", w => { var f = new FakeInt(w.Journal); return (new CachedIntRepository(f, w.Runtime), () => f.Gets); },
                    r => r.SaveAsync(new IntThing(int.MaxValue, "x")), r => r.GetAsync(int.MaxValue), r => r.DeleteAsync(int.MaxValue), new IntThing(int.MaxValue, "x"), "i:2147483647");
                await SameKey<IStringRepository, StringThing>("s", w => { var f = new FakeString(w.Journal); return (new CachedStringRepository(f, w.Runtime), () => f.Gets); },
                    r => r.SaveAsync(new StringThing("a:b%c", "x")), r => r.GetAsync("a:b%c"), r => r.DeleteAsync("a:b%c"), new StringThing("a:b%c", "x"), "s:a%3Ab%25c");
                await SameKey<IGuidRepository, GuidThing>("g", w => { var f = new FakeGuid(w.Journal); return (new CachedGuidRepository(f, w.Runtime), () => f.Gets); },
                    r => r.SaveAsync(new GuidThing(guid, "x")), r => r.GetAsync(guid), r => r.DeleteAsync(guid), new GuidThing(guid, "x"), "g:6f9619ff-8b86-d011-b42d-00c04fc964ff");
                await SameKey<IEnumRepository, EnumThing>("e", w => { var f = new FakeEnum(w.Journal); return (new CachedEnumRepository(f, w.Runtime), () => f.Gets); },
                    r => r.SaveAsync(new EnumThing(Region.South, "x")), r => r.GetAsync(Region.South), r => r.DeleteAsync(Region.South), new EnumThing(Region.South, "x"), "e:2");
                await SameKey<ICompositeRepository, CompositeThing>("c", w => { var f = new FakeComposite(w.Journal); return (new CachedCompositeRepository(f, w.Runtime), () => f.Gets); },
                    r => r.SaveAsync(new CompositeThing("acme:1", guid, "x")), r => r.GetAsync("acme:1", guid), r => r.DeleteAsync("acme:1", guid), new CompositeThing("acme:1", guid, "x"), "c:acme%3A1:6f9619ff-8b86-d011-b42d-00c04fc964ff");
            }

            public static async Task Preference_read_and_write_keys_match()
            {
                var (world, db, repo) = Preferences();
                await using var _ = world;
                await repo.SaveAsync(new Preference(long.MinValue, "x", true, 1));
                Check.Equal(new Preference(long.MinValue, "x", true, 1), await repo.GetAsync(long.MinValue), "long.MinValue key");
                Check.Equal(0, db.Gets, "inner reads");
                await repo.UpdateAsync(new Preference(long.MinValue, "y", true, 2));
                Check.Equal("y", (await repo.GetAsync(long.MinValue))!.Channel, "write-back entry at the read key");
                await repo.DeleteAsync(long.MinValue);
                await repo.GetAsync(long.MinValue);
                Check.Equal(1, db.Gets, "evict at the read key");
            }

            public static async Task Dependency_injection_registration_works_end_to_end()
            {
                // The generated AddCached... registers the inner type, the decorator and a dispatcher that resolves the
                // inner repository per flush scope. (No container package is referenced: a minimal provider runs the factories.)
                var services = new ServiceCollection();
                var builder = services.AddCachingGen(o => o.RunWriteBackFlusher = false).UseInMemoryWriteBackLog();
                Check.True(ReferenceEquals(builder, builder.AddCachedPreferenceRepository<FakePreferenceRepository>(ServiceLifetime.Singleton)), "returns the builder");
                var inner = services.Single(d => d.ServiceType == typeof(FakePreferenceRepository));
                var decorator = services.Single(d => d.ServiceType == typeof(IPreferenceRepository));
                var dispatcherDescriptor = services.Single(d => d.ServiceType == typeof(CachingGen.WriteBack.IWriteBackDispatcher));
                Check.Equal(ServiceLifetime.Singleton, inner.Lifetime, "inner lifetime");
                Check.Equal(ServiceLifetime.Singleton, decorator.Lifetime, "decorator lifetime");
                Check.Equal(ServiceLifetime.Singleton, dispatcherDescriptor.Lifetime, "dispatcher lifetime");

                var provider = new MiniProvider();
                var journal = new Journal();
                var db = new FakePreferenceRepository(journal);
                provider.Services[typeof(FakePreferenceRepository)] = db;
                var dispatcher = (CachingGen.WriteBack.IWriteBackDispatcher)dispatcherDescriptor.ImplementationFactory!(provider);
                Check.Equal("Sample.IPreferenceRepository", dispatcher.Repository, "dispatcher repository");
                var world = new World(new[] { dispatcher }, provider);
                await using var _ = world;
                provider.Services[typeof(CachingGenRuntime)] = world.Runtime;
                var repo = (IPreferenceRepository)decorator.ImplementationFactory!(provider);
                Check.True(repo is CachedPreferenceRepository, "the interface resolves to the decorator");

                db.Rows[1] = new Preference(1, "email", true, 1);
                await repo.GetAsync(1);
                await repo.GetAsync(1);
                Check.Equal(1, db.Gets, "cached through the registration");

                var row = new Preference(1, "push", true, 2);
                await repo.UpdateAsync(row);
                Check.Equal(0, db.Updates, "write-back pending");
                await world.Runtime.WriteBack.FlushAsync();
                Check.Equal(1, db.Updates, "the registered dispatcher replays against the inner repository");
                Check.Equal(row, db.Updated.Single(), "with equal arguments");
                Check.True(provider.Scopes >= 1, "resolved from a flush scope");
                Check.Equal(1, await repo.CountAsync(), "pass-through");
            }
        }
        """;
}

/// <summary>Bulk shapes and write results, driven through the runtime (the Bulk snapshot sample).</summary>
internal static class BulkScenarios
{
    public const string Source = """
        using CachingGen;
        using Bulk;
        namespace Scenarios;

        public sealed class FakeItems(Journal journal) : IItemRepository
        {
            public readonly Dictionary<long, Item> Rows = new();
            public int Gets;
            public readonly List<Item[]> Received = new();

            public Task<Item?> GetAsync(long id, CancellationToken ct = default) { Gets++; journal.Add("db:get:" + id); return Task.FromResult(Rows.TryGetValue(id, out var v) ? v : null); }
            private int Put(IEnumerable<Item> items) { var all = items.ToArray(); Received.Add(all); journal.Add("db:put:" + string.Join(",", all.Select(i => i.Id))); foreach (var i in all) Rows[i.Id] = i; return all.Length; }
            private int Remove(IEnumerable<long> ids) { var all = ids.ToArray(); journal.Add("db:delete:" + string.Join(",", all)); return all.Count(id => Rows.Remove(id)); }
            public Task SaveAllAsync(IEnumerable<Item> items, CancellationToken ct = default) { Put(items); return Task.CompletedTask; }
            public Task<int> UpsertAsync(IList<Item> items, CancellationToken ct = default) => Task.FromResult(Put(items));
            public ValueTask<bool> SaveArrayAsync(Item[] items, CancellationToken ct = default) => new(Put(items) > 0);
            public Task<int> ImportAsync(IReadOnlyCollection<Item> items, CancellationToken ct = default) => Task.FromResult(Put(items) * 10);
            public Task ImportListAsync(List<Item> items, CancellationToken ct = default) { Put(items); return Task.CompletedTask; }
            public ValueTask<bool> TouchAsync(IEnumerable<long> ids, CancellationToken ct = default) { var all = ids.ToArray(); journal.Add("db:touch:" + string.Join(",", all)); return new(all.Length > 0); }
            public Task<int> DeleteManyAsync(IReadOnlyCollection<long> ids, CancellationToken ct = default) => Task.FromResult(Remove(ids));
            public ValueTask DeleteArrayAsync(long[] ids, CancellationToken ct = default) { Remove(ids); return default; }
            public Task<int> DeleteItemsAsync(ICollection<Item> items, CancellationToken ct = default) => Task.FromResult(Remove(items.Select(i => i.Id)));
            public ValueTask<bool> DeleteAsync(long id, CancellationToken ct = default) => new(Remove(new[] { id }) == 1);
            public Task<int> SaveAsync(Item item, CancellationToken ct = default) => Task.FromResult(Put(new[] { item }) + 100);
        }

        public static class BulkRun
        {
            private static int s_enumerations;

            private static IEnumerable<T> Lazy<T>(params T[] values)
            {
                s_enumerations++;
                foreach (var value in values) yield return value;
            }

            private static async Task HitsOnly(World world, IItemRepository repo, FakeItems db, params long[] ids)
            {
                var before = db.Gets;
                foreach (var id in ids) Check.Equal(db.Rows[id], await repo.GetAsync(id), "cached value of " + id);
                Check.Equal(before, db.Gets, "reads after a write-through hit");
            }

            private static async Task MissesOnce(IItemRepository repo, FakeItems db, params long[] ids)
            {
                var before = db.Gets;
                foreach (var id in ids) await repo.GetAsync(id);
                Check.Equal(before + ids.Length, db.Gets, "reads after an invalidation miss");
            }

            public static async Task Bulk_shapes_and_write_results()
            {
                var world = new World();
                await using var _ = world;
                var db = new FakeItems(world.Journal);
                IItemRepository repo = new CachedItemRepository(db, world.Runtime);

                // A lazy sequence is materialized once: the keys and the inner call see the same items.
                s_enumerations = 0;
                await repo.SaveAllAsync(Lazy(new Item(1, "a"), new Item(2, "b"), new Item(3, "c")));
                Check.Equal(1, s_enumerations, "the sequence is enumerated once");
                Check.Equal(3, db.Received.Single().Length, "the inner call saw every item");
                Check.True(world.CacheOps("item").SequenceEqual(new[] { "cache:begin:item:1,item:2,item:3:", "cache:complete:item:1:300:Stored,item:2:300:Stored,item:3:300:Stored" }), "one batch each: " + string.Join(" | ", world.CacheOps("item")));
                await HitsOnly(world, repo, db, 1, 2, 3);

                Check.Equal(2, await repo.UpsertAsync(new List<Item> { new(4, "d"), new(5, "e") }), "Task<int> write-through result");
                await HitsOnly(world, repo, db, 4, 5);
                Check.Equal(true, await repo.SaveArrayAsync(new[] { new Item(6, "f") }), "ValueTask<bool> write-through result");
                await HitsOnly(world, repo, db, 6);
                Check.Equal(101, await repo.SaveAsync(new Item(7, "g")), "Task<int> single write-through result");
                await HitsOnly(world, repo, db, 7);

                Check.Equal(20, await repo.ImportAsync(new[] { new Item(1, "A"), new Item(2, "B") }), "Task<int> write-around result");
                await MissesOnce(repo, db, 1, 2);
                Check.Equal("A", (await repo.GetAsync(1))!.Name, "the read after write-around sees the database");
                await repo.ImportListAsync(new List<Item> { new(3, "C") });
                await MissesOnce(repo, db, 3);

                s_enumerations = 0;
                Check.Equal(true, await repo.TouchAsync(Lazy(4L, 5L)), "ValueTask<bool> key-collection write-around result");
                Check.Equal(1, s_enumerations, "the key sequence is enumerated once");
                await MissesOnce(repo, db, 4, 5);

                Check.Equal(2, await repo.DeleteManyAsync(new HashSet<long> { 1, 2 }), "Task<int> key-collection evict result");
                await MissesOnce(repo, db, 1, 2);
                await repo.DeleteArrayAsync(new[] { 3L });
                await MissesOnce(repo, db, 3);
                Check.Equal(1, await repo.DeleteItemsAsync(new List<Item> { db.Rows[6] }), "Task<int> entity-collection evict result");
                await MissesOnce(repo, db, 6);
                Check.Equal(true, await repo.DeleteAsync(7), "ValueTask<bool> evict result");
                Check.Equal(false, await repo.DeleteAsync(7), "ValueTask<bool> evict result (already gone)");
                await MissesOnce(repo, db, 7);
            }
        }
        """;

    /// <summary>Direct writes on a key with pending write-back records keep the per-key order.</summary>
    public const string OrderingSource = """
        using CachingGen;
        using Sample;
        namespace Scenarios;

        public static class OrderingRun
        {
            public static async Task Direct_write_after_pending_write_back_keeps_database_order()
            {
                var world = new World();
                await using var _ = world;
                var db = new FakePreferenceRepository(world.Journal);
                IPreferenceRepository repo = new CachedPreferenceRepository(db, world.Runtime);

                await repo.UpdateAsync(new Preference(1, "email", true, 1));
                await repo.SaveAsync(new Preference(1, "sms", true, 2));
                Check.Sequence(new[] { "db:update:1", "db:save:1" }, world.DbOps(), "the pending write-back reaches the database before the direct write");
                Check.Equal("sms", db.Rows[1].Channel, "the database ends with the later write");
                Check.Equal("sms", (await repo.GetAsync(1))!.Channel, "the cache ends with the later write");
                await world.Runtime.WriteBack.FlushAsync();
                Check.Equal(1, db.Updates, "the drained record is not replayed");
                Check.Equal("sms", db.Rows[1].Channel, "the database still ends with the later write");
            }
        }
        """;
}

internal static class CoalesceScenarios
{
    public const string Source = """
        using CachingGen;
        using Coalescing;
        namespace Scenarios;

        public sealed class FakeProfiles(Journal journal) : IProfileRepository
        {
            public Task<Profile?> GetAsync(long id, CancellationToken ct = default) { journal.Add("db:get:" + id); return Task.FromResult<Profile?>(null); }
            public Task ReplaceAsync(Profile profile, CancellationToken ct = default) { journal.Add("db:replace:" + profile.Id + ":" + profile.Version); return Task.CompletedTask; }
            public Task AppendNoteAsync(Profile profile, CancellationToken ct = default) { journal.Add("db:append:" + profile.Id + ":" + profile.Version); return Task.CompletedTask; }
        }

        /// <summary>Batches in one transaction, as with a database ledger (coalescing happens within a batch).</summary>
        public sealed class AtomicTransactions : CachingGen.WriteBack.IWriteBackTransactionFactory
        {
            private readonly CachingGen.WriteBack.InMemoryWriteBackTransactionFactory _inner = new();
            public bool IsAtomic => true;
            public ValueTask<CachingGen.WriteBack.IWriteBackTransaction> BeginAsync(CancellationToken cancellationToken) => _inner.BeginAsync(cancellationToken);
        }

        public static class CoalesceRun
        {
            public static async Task Coalesce_opt_in_replays_only_the_last_of_consecutive_writes_of_a_key()
            {
                var world = new World(transactions: new AtomicTransactions());
                await using var _ = world;
                IProfileRepository repo = new CachedProfileRepository(new FakeProfiles(world.Journal), world.Runtime);

                // Key 1: three replacements, only the last is replayed. Key 2: the method without the opt-in replays all.
                // Key 3: a replacement followed by another method is not superseded by it.
                for (var v = 1; v <= 3; v++) await repo.ReplaceAsync(new Profile(1, "n" + v, v));
                for (var v = 1; v <= 2; v++) await repo.AppendNoteAsync(new Profile(2, "n" + v, v));
                await repo.ReplaceAsync(new Profile(3, "a", 1));
                await repo.AppendNoteAsync(new Profile(3, "b", 2));
                await repo.ReplaceAsync(new Profile(3, "c", 3));
                world.Clear();
                await world.Runtime.WriteBack.FlushAsync();

                string[] Of(long id) => world.DbOps().Where(o => o.Split(':')[2] == id.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
                Check.Sequence(new[] { "db:replace:1:3" }, Of(1), "coalesced: the superseded replacements of key 1 are not replayed");
                Check.Sequence(new[] { "db:append:2:1", "db:append:2:2" }, Of(2), "no opt-in: every write of key 2 is replayed in order");
                Check.Sequence(new[] { "db:replace:3:1", "db:append:3:2", "db:replace:3:3" }, Of(3), "a write of another method breaks the run");

                // The skipped records were settled as applied: replaying them (a crash before the acknowledgement) changes nothing.
                Check.Equal(0L, await world.Runtime.WriteBackLog.GetPendingCountAsync("profile:1", default), "nothing of key 1 pending");
                Check.Equal("n3", (await repo.GetAsync(1))?.Name, "the cache holds the last write");
            }
        }
        """;
}

internal static class ApplyManyScenarios
{
    public const string Source = """
        using CachingGen;
        using Batching;
        namespace Scenarios;

        public sealed class FakeTallies(Journal journal) : ITallyRepository
        {
            private static string Rows(IEnumerable<Tally> tallies) => string.Join(",", tallies.Select(t => t.Id + "/" + t.Sequence));
            public Task<Tally?> GetAsync(long id, CancellationToken ct = default) { journal.Add("db:get:" + id); return Task.FromResult<Tally?>(null); }
            public Task RecordAsync(Tally tally, CancellationToken ct = default) { journal.Add("db:record:" + tally.Id + "/" + tally.Sequence); return Task.CompletedTask; }
            public Task ResetAsync(Tally tally) { journal.Add("db:reset:" + tally.Id + "/" + tally.Sequence); return Task.CompletedTask; }
            public Task NoteAsync(Tally tally, CancellationToken ct = default) { journal.Add("db:note:" + tally.Id + "/" + tally.Sequence); return Task.CompletedTask; }
            public Task RecordManyAsync(IReadOnlyList<Tally> tallies, CancellationToken ct = default) { journal.Add("db:recordmany:" + Rows(tallies)); return Task.CompletedTask; }
            public ValueTask ResetAllAsync(CancellationToken ct, IEnumerable<Tally> tallies) { journal.Add("db:resetall:" + Rows(tallies)); return default; }
        }

        /// <summary>Batches in one transaction, as with a database ledger (multi-row calls need it).</summary>
        public sealed class AtomicTransactions : CachingGen.WriteBack.IWriteBackTransactionFactory
        {
            private readonly CachingGen.WriteBack.InMemoryWriteBackTransactionFactory _inner = new();
            public bool IsAtomic => true;
            public ValueTask<CachingGen.WriteBack.IWriteBackTransaction> BeginAsync(CancellationToken cancellationToken) => _inner.BeginAsync(cancellationToken);
        }

        public static class ApplyManyRun
        {
            public static async Task ApplyManyWith_sends_runs_of_distinct_keys_to_the_multi_row_method()
            {
                var world = new World(transactions: new AtomicTransactions(), shardCount: 1);
                await using var _ = world;
                var inner = new FakeTallies(world.Journal);
                ITallyRepository repo = new CachedTallyRepository(inner, world.Runtime);

                await repo.RecordAsync(new Tally(1, 1));
                await repo.RecordAsync(new Tally(2, 1));
                await repo.RecordAsync(new Tally(3, 1));
                await repo.RecordAsync(new Tally(1, 2));
                await repo.RecordAsync(new Tally(4, 1));
                await repo.NoteAsync(new Tally(5, 1));
                await repo.NoteAsync(new Tally(6, 1));
                await repo.ResetAsync(new Tally(7, 1));
                await repo.ResetAsync(new Tally(8, 1));
                await repo.RecordAsync(new Tally(9, 1));
                world.Clear();
                await world.Runtime.WriteBack.FlushAsync();

                Check.Sequence(new[]
                {
                    "db:recordmany:1/1,2/1,3/1",   // key 1 again ends the run
                    "db:recordmany:1/2,4/1",
                    "db:note:5/1", "db:note:6/1",  // no ApplyManyWith: one call per record
                    "db:resetall:7/1,8/1",         // the base interface's method, token first
                    "db:record:9/1",               // a run of one is replayed by the method itself
                }, world.DbOps(), "runs of one method, never two writes of a key in one call, in log order");
                Check.Equal(0L, await world.Runtime.WriteBack.GetBacklogAsync(), "everything flushed");

                // The multi-row method keeps its own strategy in the decorator: un-annotated passes through, [WriteAround] stays one.
                world.Clear();
                await repo.RecordManyAsync(new[] { new Tally(10, 1) });
                await repo.ResetAllAsync(default, new[] { new Tally(11, 1) });
                Check.Sequence(new[] { "db:recordmany:10/1", "db:resetall:11/1" }, world.DbOps(), "direct calls reach the database");
            }
        }
        """;
}
