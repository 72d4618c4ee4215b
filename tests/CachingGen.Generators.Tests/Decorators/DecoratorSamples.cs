using CachingGen.Generators.Tests.Infrastructure;

namespace CachingGen.Generators.Tests.Decorators;

/// <summary>Test sources for the decorator generator.</summary>
internal static class DecoratorSamples
{
    /// <summary>The usings the user's snippets assume (an SDK project's implicit usings).</summary>
    public const string GlobalUsings = """
        global using System;
        global using System.Collections.Generic;
        global using System.Threading;
        global using System.Threading.Tasks;
        """;

    /// <summary>The canonical sample, verbatim.</summary>
    public const string Canonical = CanonicalSample.Source;

    /// <summary>A closed generic entity type.</summary>
    public const string GenericEntity = """
        using CachingGen;
        namespace Shop;
        public sealed record Order(int Number, decimal Total);
        public sealed record Envelope<T>([property: CacheKey] string Id, T Payload, long Revision);
        [CachedRepository(KeyPrefix = "env")]
        public interface IOrderEnvelopeRepository
        {
            [Cached] Task<Envelope<Order>?> GetAsync(string id, CancellationToken ct = default);
            [WriteThrough(Ttl = 60)] Task SaveAsync(Envelope<Order> envelope, CancellationToken ct = default);
            [WriteBack(IdempotencyKey = nameof(Envelope<Order>.Revision))] ValueTask ReviseAsync(Envelope<Order> envelope, CancellationToken ct = default);
            [Evict] ValueTask DeleteAsync(string id);
        }
        """;

    /// <summary>A deeply nested namespace.</summary>
    public const string NestedNamespace = """
        using CachingGen;
        namespace A.B.C
        {
            public sealed record Widget([property: CacheKey] int Id, string Name);
            [CachedRepository]
            public interface IWidgetRepository
            {
                [Cached(Ttl = 10, NullTtl = 5)] Task<Widget?> GetAsync(int id, CancellationToken ct = default);
                [WriteThrough] Task SaveAsync(Widget widget, CancellationToken ct = default);
            }
        }
        """;

    /// <summary>The global namespace.</summary>
    public const string GlobalNamespace = """
        using CachingGen;
        public sealed record Gadget([property: CacheKey] string Code, int Stock);
        [CachedRepository(KeyPrefix = "gadget")]
        public interface IGadgetRepository
        {
            [Cached] ValueTask<Gadget?> GetAsync(string code, CancellationToken ct = default);
            [WriteAround(Invalidate = false)] Task SaveAsync(Gadget gadget, CancellationToken ct = default);
            [Evict] Task DeleteAsync(string code, CancellationToken ct = default);
        }
        """;

    /// <summary>A repository that inherits members (annotated and not), properties, an indexer, an event and a generic method.</summary>
    public const string Inheritance = """
        using CachingGen;
        namespace Inherit;
        public sealed record Account([property: CacheKey] long Id, string Owner, long Version);
        public interface IHasName { string Name { get; set; } }
        public interface IStore<TKey> where TKey : notnull
        {
            TKey LastKey { get; }
            Task<int> CountAsync(CancellationToken ct = default);
            T Echo<T>(T value) where T : notnull;
        }
        public interface IAccountStore : IStore<long>, IHasName
        {
            [Evict] Task RemoveAsync(long id, CancellationToken ct = default);
            [WriteBack(IdempotencyKey = "Version")] Task UpdateAsync(Account account, CancellationToken ct = default);
            event EventHandler? Changed;
            int Generation { get; }
            string this[int index] { get; }
            Task PingAsync();
        }
        [CachedRepository(KeyPrefix = "acct")]
        public interface IAccountRepository : IAccountStore
        {
            [Cached(Ttl = 120)] Task<Account?> GetAsync(long id, CancellationToken ct = default);
            [WriteThrough] Task SaveAsync(Account account, CancellationToken ct = default);
            new Task<int> CountAsync(CancellationToken ct = default);
            Task<TResult> QueryAsync<TResult>(Func<Account, TResult> projection, CancellationToken ct = default);
        }
        """;

    /// <summary>Interface members and parameters named like the decorator's own members and locals, and keywords.</summary>
    public const string NameClashes = """
        using CachingGen;
        namespace Clash;
        public sealed record Thing([property: CacheKey] string @event, long @class, int Version);
        [CachedRepository(KeyPrefix = "thing")]
        public interface IThingRepository
        {
            string KeyOf(Thing entity);
            int _inner { get; }
            int _cache { get; }
            int s_repository { get; }
            int s_getAsyncPolicy { get; }
            void WriteBackDispatcher();
            void CreateForDependencyInjection(string inner, string runtime);
            [Cached] Task<Thing?> GetAsync(string @event, CancellationToken ct = default);
            [WriteThrough] Task<int> SaveAsync(Thing result, string state, CancellationToken cancellationToken = default);
            [WriteAround] Task SaveAllAsync(IEnumerable<Thing> items, int state, CancellationToken ct);
            [WriteBack(IdempotencyKey = nameof(Thing.Version))] Task UpdateAsync(Thing entity, string @params, CancellationToken ct = default);
            [Evict] Task RemoveAsync(string @event, CancellationToken token = default);
            [Evict] ValueTask<bool> RemoveManyAsync(IEnumerable<string> items);
        [WriteAround] Task<int> RenameAsync(string @event, CancellationToken state);
        [WriteThrough] Task StoreAsync(Thing inner, string ct, CancellationToken runtime = default);
        }
        """;

    /// <summary>Nullable annotations (a non-nullable result, nullable parameters) and an interface under <c>#nullable disable</c>.</summary>
    public const string Nullable = """
        using CachingGen;
        namespace Nulls;
        public sealed record Ticket([property: CacheKey] long Id, string? Note, long Version);
        [CachedRepository(KeyPrefix = "ticket")]
        public interface ITicketRepository
        {
            [Cached] Task<Ticket> GetAsync(long id, CancellationToken ct = default);
            [WriteThrough] Task SaveAsync(Ticket ticket, string? auditNote = null, CancellationToken ct = default);
            [WriteBack(IdempotencyKey = nameof(Ticket.Version))] Task UpdateAsync(Ticket? ticket, string? reason, int? priority, CancellationToken ct = default);
            [WriteAround] Task TouchAsync(IReadOnlyList<Ticket?> tickets, CancellationToken ct = default);
        [WriteThrough] Task SaveAllAsync(IEnumerable<Ticket> tickets, CancellationToken ct = default);
        [WriteThrough] Task SaveSomeAsync(Ticket?[] tickets, CancellationToken ct = default);
            Task<string?> DescribeAsync(string? filter, CancellationToken ct = default);
        }
        """;

    /// <summary>An interface (and entity) declared under <c>#nullable disable</c>.</summary>
    public const string NullableDisabled = """
        #nullable disable
        using CachingGen;
        namespace Legacy;
        public sealed class Customer
        {
            [CacheKey] public string Code { get; set; }
            public string Name { get; set; }
            public long Version { get; set; }
        }
        [CachedRepository]
        public interface ICustomerRepository
        {
            [Cached] Task<Customer> GetAsync(string code, CancellationToken ct = default);
            [WriteThrough] Task SaveAsync(Customer customer, string comment, CancellationToken ct = default);
            [WriteBack(IdempotencyKey = nameof(Customer.Version))] Task UpdateAsync(Customer customer, CancellationToken ct = default);
            [Evict] Task DeleteAsync(string code, CancellationToken ct = default);
            Task<List<string>> ListAsync(string filter);
        }
        """;

    /// <summary>Composite (string + Guid), enum, int and ulong keys.</summary>
    public const string KeyTypes = """
        using CachingGen;
        namespace Keys;
        public enum Region : byte { North = 1, South = 2 }
        public enum Level { Low = -1, High = 1 }
        public sealed record Document([property: CacheKey] string Tenant, [property: CacheKey] Guid Id, string Title);
        public sealed record Zone([property: CacheKey] Region Region, string Name);
        public sealed record Rank([property: CacheKey] Level Level, string Name);
        public sealed record Counter([property: CacheKey] int Id, long Value);
        public sealed record Blob([property: CacheKey] ulong Hash, byte[] Data);
        [CachedRepository(KeyPrefix = "doc")]
        public interface IDocumentRepository
        {
            [Cached] Task<Document?> GetAsync(string tenant, Guid id, CancellationToken ct = default);
            [WriteThrough] Task SaveAsync(Document document, CancellationToken ct = default);
            [WriteAround] Task TouchAsync(string tenant, Guid id, CancellationToken ct = default);
            [Evict] Task DeleteAsync(string tenant, Guid id, CancellationToken ct = default);
        }
        [CachedRepository(KeyPrefix = "zone")]
        public interface IZoneRepository
        {
            [Cached] Task<Zone?> GetAsync(Region region);
            [WriteThrough] Task SaveAsync(Zone zone);
            [Evict] Task DeleteAsync(Region region);
        }
        [CachedRepository(KeyPrefix = "rank")]
        public interface IRankRepository
        {
            [Cached] Task<Rank?> GetAsync(Level level);
            [Evict] Task DeleteManyAsync(Level[] levels);
        }
        [CachedRepository(KeyPrefix = "counter")]
        public interface ICounterRepository
        {
            [Cached] ValueTask<Counter?> GetAsync(int id);
            [WriteBack(IdempotencyKey = nameof(Counter.Value))] Task UpdateAsync(Counter counter);
            [Evict] Task DeleteAsync(int id);
        }
        [CachedRepository(KeyPrefix = "blob")]
        public interface IBlobRepository
        {
            [Cached] Task<Blob?> GetAsync(ulong hash);
            [WriteThrough] Task SaveAsync(Blob blob);
            [Evict] Task DeleteAsync(ulong hash);
        }
        """;

    /// <summary>Bulk writes over every collection shape, key collections, and write results.</summary>
    public const string Bulk = """
        using CachingGen;
        namespace Bulk;
        public sealed record Item([property: CacheKey] long Id, string Name);
        [CachedRepository(KeyPrefix = "item")]
        public interface IItemRepository
        {
            [Cached] Task<Item?> GetAsync(long id, CancellationToken ct = default);
            [WriteThrough] Task SaveAllAsync(IEnumerable<Item> items, CancellationToken ct = default);
            [WriteThrough] Task<int> UpsertAsync(IList<Item> items, CancellationToken ct = default);
            [WriteThrough] ValueTask<bool> SaveArrayAsync(Item[] items, CancellationToken ct = default);
            [WriteAround] Task<int> ImportAsync(IReadOnlyCollection<Item> items, CancellationToken ct = default);
            [WriteAround] Task ImportListAsync(List<Item> items, CancellationToken ct = default);
            [WriteAround] ValueTask<bool> TouchAsync(IEnumerable<long> ids, CancellationToken ct = default);
            [Evict] Task<int> DeleteManyAsync(IReadOnlyCollection<long> ids, CancellationToken ct = default);
            [Evict] ValueTask DeleteArrayAsync(long[] ids, CancellationToken ct = default);
            [Evict] Task<int> DeleteItemsAsync(ICollection<Item> items, CancellationToken ct = default);
            [Evict] ValueTask<bool> DeleteAsync(long id, CancellationToken ct = default);
            [WriteThrough] Task<int> SaveAsync(Item item, CancellationToken ct = default);
        }
        """;

    /// <summary>An internal interface over an internal entity.</summary>
    public const string Internal = """
        using CachingGen;
        namespace Hidden;
        internal sealed record Secret([property: CacheKey] Guid Id, string Value, long Version);
        [CachedRepository(KeyPrefix = "secret")]
        internal interface ISecretRepository
        {
            [Cached] Task<Secret?> GetAsync(Guid id, CancellationToken ct = default);
            [WriteBack(IdempotencyKey = nameof(Secret.Version))] Task UpdateAsync(Secret secret, CancellationToken ct = default);
            [Evict] Task DeleteAsync(Guid id, CancellationToken ct = default);
        }
        """;

    /// <summary>Write-back methods with and without the coalescing opt-in.</summary>
    public const string Coalesce = """
        using CachingGen;
        namespace Coalescing;
        public sealed record Profile([property: CacheKey] long Id, string Name, long Version);
        [CachedRepository(KeyPrefix = "profile")]
        public interface IProfileRepository
        {
            [Cached] Task<Profile?> GetAsync(long id, CancellationToken ct = default);
            [WriteBack(IdempotencyKey = nameof(Profile.Version), Coalesce = true)] Task ReplaceAsync(Profile profile, CancellationToken ct = default);
            [WriteBack(IdempotencyKey = nameof(Profile.Version), Coalesce = false)] Task AppendNoteAsync(Profile profile, CancellationToken ct = default);
        }
        """;

    /// <summary>
    /// Entities with a [CacheVersion] member of each conversion: a record parameter (long), a DateTimeOffset, a struct
    /// with a DateTime, and a class whose version (a uint) sits in its base type; and one entity without a version.
    /// </summary>
    public const string Versioned = """
        using CachingGen;
        namespace Versions;
        public sealed record Article([property: CacheKey] long Id, string Title, [property: CacheVersion] long Version);
        public sealed record Invoice([property: CacheKey] Guid Id, decimal Total, [property: CacheVersion] DateTimeOffset UpdatedAt);
        public readonly record struct Slot([property: CacheKey] int Id, string Label, [property: CacheVersion] DateTime Stamp);
        public abstract class Row
        {
            [CacheVersion] public uint Revision { get; init; }
        }
        public sealed class Note : Row
        {
            [CacheKey] public string Code { get; init; } = "";
            public string Text { get; init; } = "";
        }
        public sealed record Draft([property: CacheKey] long Id, string Title, long Version);
        [CachedRepository(KeyPrefix = "article")]
        public interface IArticleRepository
        {
            [Cached] Task<Article?> GetAsync(long id, CancellationToken ct = default);
            [WriteThrough] Task SaveAsync(Article article, CancellationToken ct = default);
            [WriteAround] Task SaveManyAsync(IReadOnlyList<Article> articles, CancellationToken ct = default);
            [Evict] Task DeleteAsync(long id, CancellationToken ct = default);
        }
        [CachedRepository(KeyPrefix = "invoice")]
        public interface IInvoiceRepository
        {
            [Cached] ValueTask<Invoice?> GetAsync(Guid id, CancellationToken ct = default);
            [WriteThrough] Task SaveAsync(Invoice invoice, CancellationToken ct = default);
        }
        [CachedRepository(KeyPrefix = "slot")]
        public interface ISlotRepository
        {
            [Cached] Task<Slot> GetAsync(int id, CancellationToken ct = default);
            [WriteThrough] Task SaveAsync(Slot slot, CancellationToken ct = default);
            [Evict] Task DeleteAsync(int id, CancellationToken ct = default);
        }
        [CachedRepository(KeyPrefix = "note")]
        public interface INoteRepository
        {
            [Cached] Task<Note?> GetAsync(string code, CancellationToken ct = default);
            [WriteBack(IdempotencyKey = nameof(Note.Revision))] Task UpdateAsync(Note note, CancellationToken ct = default);
        }
        [CachedRepository(KeyPrefix = "draft")]
        public interface IDraftRepository
        {
            [Cached] Task<Draft?> GetAsync(long id, CancellationToken ct = default);
            [WriteThrough] Task SaveAsync(Draft draft, CancellationToken ct = default);
        }
        """;

    /// <summary>Write-back methods with a multi-row apply: on the interface (un-annotated, so it passes through), on a
    /// base interface with the token first and its own strategy, and a write-back method without one.</summary>
    public const string ApplyMany = """
        using CachingGen;
        namespace Batching;
        public sealed record Tally([property: CacheKey] long Id, long Sequence);
        public interface ITallyBulk
        {
            [WriteAround] ValueTask ResetAllAsync(CancellationToken ct, IEnumerable<Tally> tallies);
        }
        [CachedRepository(KeyPrefix = "tally")]
        public interface ITallyRepository : ITallyBulk
        {
            [Cached] Task<Tally?> GetAsync(long id, CancellationToken ct = default);
            [WriteBack(IdempotencyKey = nameof(Tally.Sequence), ApplyManyWith = nameof(RecordManyAsync))] Task RecordAsync(Tally tally, CancellationToken ct = default);
            [WriteBack(IdempotencyKey = nameof(Tally.Sequence), ApplyManyWith = nameof(ITallyBulk.ResetAllAsync))] Task ResetAsync(Tally tally);
            [WriteBack(IdempotencyKey = nameof(Tally.Sequence))] Task NoteAsync(Tally tally, CancellationToken ct = default);
            Task RecordManyAsync(IReadOnlyList<Tally> tallies, CancellationToken ct = default);
        }
        """;
}
