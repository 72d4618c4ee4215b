using CachingGen.Generators.Tests.Infrastructure;
using Xunit;

namespace CachingGen.Generators.Tests.Decorators;

/// <summary>
/// Compiles <see cref="DecoratorSamples.Versioned"/> with both generators, loads it, and checks that each decorator
/// asks the real runtime for the cache its entity calls for: versioned, reading the [CacheVersion] member as the
/// long the runtime compares, or not. How a versioned cache then writes is the runtime's business, tested there.
/// </summary>
public sealed class CacheVersionRuntimeTests
{
    private static readonly Lazy<LoadedAssembly> Loaded = new(() =>
    {
        var result = GeneratorHarness.Run(DecoratorRun.Generators,
            DecoratorSamples.GlobalUsings, DecoratorSamples.Versioned, RuntimeScenarioSources.Support, CacheVersionScenarios.Source);
        result.AssertCleanGeneratedCode();
        Assert.Empty(result.GeneratorDiagnostics);
        return result.EmitAndLoad(collectible: false);
    });

    private static Task Scenario(string name)
        => (Task)Loaded.Value.Invoke("Scenarios.VersionRun", name, null)!;

    [Fact] public Task Versioned_entities_get_a_versioned_cache_and_the_others_do_not() => Scenario(nameof(Versioned_entities_get_a_versioned_cache_and_the_others_do_not));

    [Fact] public Task Versions_read_as_the_member_widened_or_as_ticks() => Scenario(nameof(Versions_read_as_the_member_widened_or_as_ticks));
}

/// <summary>Inner repositories that are never called, and the scenarios.</summary>
internal static class CacheVersionScenarios
{
    public const string Source = """
        using System.Reflection;
        using CachingGen;
        using CachingGen.Runtime;
        using Versions;
        namespace Scenarios;

        public sealed class NoArticles : IArticleRepository
        {
            public Task<Article?> GetAsync(long id, CancellationToken ct = default) => throw new NotSupportedException();
            public Task SaveAsync(Article article, CancellationToken ct = default) => throw new NotSupportedException();
            public Task SaveManyAsync(IReadOnlyList<Article> articles, CancellationToken ct = default) => throw new NotSupportedException();
            public Task DeleteAsync(long id, CancellationToken ct = default) => throw new NotSupportedException();
        }

        public sealed class NoInvoices : IInvoiceRepository
        {
            public ValueTask<Invoice?> GetAsync(Guid id, CancellationToken ct = default) => throw new NotSupportedException();
            public Task SaveAsync(Invoice invoice, CancellationToken ct = default) => throw new NotSupportedException();
        }

        public sealed class NoSlots : ISlotRepository
        {
            public Task<Slot> GetAsync(int id, CancellationToken ct = default) => throw new NotSupportedException();
            public Task SaveAsync(Slot slot, CancellationToken ct = default) => throw new NotSupportedException();
            public Task DeleteAsync(int id, CancellationToken ct = default) => throw new NotSupportedException();
        }

        public sealed class NoNotes : INoteRepository
        {
            public Task<Note?> GetAsync(string code, CancellationToken ct = default) => throw new NotSupportedException();
            public Task UpdateAsync(Note note, CancellationToken ct = default) => throw new NotSupportedException();
        }

        public sealed class NoDrafts : IDraftRepository
        {
            public Task<Draft?> GetAsync(long id, CancellationToken ct = default) => throw new NotSupportedException();
            public Task SaveAsync(Draft draft, CancellationToken ct = default) => throw new NotSupportedException();
        }

        public static class VersionRun
        {
            // Found by type, not by name: the decorator's field names and the runtime's are theirs to choose.
            private static EntityCache<T> CacheOf<T>(object decorator)
                => (EntityCache<T>)decorator.GetType().GetFields(BindingFlags.Instance | BindingFlags.NonPublic)
                    .Single(f => f.FieldType == typeof(EntityCache<T>)).GetValue(decorator)!;

            private static long VersionOf<T>(EntityCache<T> cache, T entity)
                => ((Func<T, long>)typeof(EntityCache<T>).GetFields(BindingFlags.Instance | BindingFlags.NonPublic)
                    .Single(f => f.FieldType == typeof(Func<T, long>)).GetValue(cache)!)(entity);

            public static async Task Versioned_entities_get_a_versioned_cache_and_the_others_do_not()
            {
                var world = new World();
                await using var _ = world;
                Check.True(CacheOf<Article>(new CachedArticleRepository(new NoArticles(), world.Runtime)).IsVersioned, "a long record parameter versions Article");
                Check.True(CacheOf<Invoice>(new CachedInvoiceRepository(new NoInvoices(), world.Runtime)).IsVersioned, "a DateTimeOffset versions Invoice");
                Check.True(CacheOf<Slot>(new CachedSlotRepository(new NoSlots(), world.Runtime)).IsVersioned, "a DateTime versions the struct Slot");
                Check.True(CacheOf<Note>(new CachedNoteRepository(new NoNotes(), world.Runtime)).IsVersioned, "a uint in the base type versions Note");
                Check.True(!CacheOf<Draft>(new CachedDraftRepository(new NoDrafts(), world.Runtime)).IsVersioned, "Draft has no [CacheVersion] member, only a member named Version");

                // A second decorator of a repository meets the cache the first one made, versioned the same way.
                Check.True(CacheOf<Article>(new CachedArticleRepository(new NoArticles(), world.Runtime)).IsVersioned, "the second Article decorator");
                Check.True(!CacheOf<Draft>(new CachedDraftRepository(new NoDrafts(), world.Runtime)).IsVersioned, "the second Draft decorator");
            }

            public static async Task Versions_read_as_the_member_widened_or_as_ticks()
            {
                var world = new World();
                await using var _ = world;
                var articles = CacheOf<Article>(new CachedArticleRepository(new NoArticles(), world.Runtime));
                Check.Equal(long.MaxValue, VersionOf(articles, new Article(1, "t", long.MaxValue)), "a long is the version itself");

                var notes = CacheOf<Note>(new CachedNoteRepository(new NoNotes(), world.Runtime));
                Check.Equal(4294967295L, VersionOf(notes, new Note { Code = "n", Revision = uint.MaxValue }), "a uint widens without a sign");

                var stamp = new DateTime(2026, 3, 4, 5, 6, 7, DateTimeKind.Utc);
                var slots = CacheOf<Slot>(new CachedSlotRepository(new NoSlots(), world.Runtime));
                Check.Equal(stamp.Ticks, VersionOf(slots, new Slot(1, "s", stamp)), "a DateTime is its ticks");

                var instant = new DateTimeOffset(2026, 3, 4, 5, 6, 7, TimeSpan.FromHours(2));
                var invoices = CacheOf<Invoice>(new CachedInvoiceRepository(new NoInvoices(), world.Runtime));
                Check.Equal(instant.UtcTicks, VersionOf(invoices, new Invoice(Guid.Empty, 1m, instant)), "a DateTimeOffset is its UTC ticks");
                Check.Equal(instant.UtcTicks, VersionOf(invoices, new Invoice(Guid.Empty, 1m, instant.ToUniversalTime())), "two offsets of one instant are one version");
            }
        }
        """;
}
