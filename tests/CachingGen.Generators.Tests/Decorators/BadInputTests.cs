using CachingGen.Generators.Decorators;
using Xunit;

namespace CachingGen.Generators.Tests.Decorators;

/// <summary>Every unsupported shape: the generator throws nothing and emits no decorator for that interface (only
/// the analyzer's diagnostic tells the user), while valid interfaces of the same compilation still get theirs.</summary>
public sealed class BadInputTests
{
    private const string Entities = """
        namespace Bad
        {
            public sealed record Preference([property: CachingGen.CacheKey] long UserId, string Channel, long Version);
            public sealed record Other([property: CachingGen.CacheKey] string Code);
            public sealed record Plain(long Id, string Name);
        }
        """;

    private const string Valid = """
        using CachingGen;
        namespace Good;
        public sealed record Item([property: CacheKey] long Id, string Name);
        [CachedRepository]
        public interface IItemRepository
        {
            [Cached] Task<Item?> GetAsync(long id);
            [WriteThrough] Task SaveAsync(Item item);
        }
        """;

    private static string Bad(string members, string header = "public interface IBadRepository") => $$"""
        using CachingGen;
        namespace Bad;
        [CachedRepository]
        {{header}}
        {
            {{members}}
        }
        """;

    public static TheoryData<string, string, string> Cases => new()
    {
        { "sync annotated method", Bad("[Cached] Preference? Get(long userId);"), "CGEN001" },
        { "sync write", Bad("[WriteThrough] void Save(Preference preference);"), "CGEN001" },
        { "entity without [CacheKey]", Bad("[Cached] Task<Plain?> GetAsync(long id);"), "CGEN002" },
        { "write of entity without [CacheKey]", Bad("[WriteThrough] Task SaveAsync(Plain plain);"), "CGEN002" },
        { "unknown IdempotencyKey member", Bad("[WriteBack(IdempotencyKey = \"Revision\")] Task UpdateAsync(Preference preference);"), "CGEN003" },
        { "IdempotencyKey of unsupported type", Bad("[WriteBack(IdempotencyKey = \"Stamp\")] Task UpdateAsync(Stamped stamped);") + "\npublic sealed record Stamped([property: CacheKey] long Id, double Stamp);", "CGEN003" },
        { "Ttl zero", Bad("[Cached(Ttl = 0)] Task<Preference?> GetAsync(long userId);"), "CGEN004" },
        { "Ttl negative", Bad("[WriteThrough(Ttl = -5)] Task SaveAsync(Preference preference);"), "CGEN004" },
        { "DefaultTtl zero", Bad("[WriteThrough] Task SaveAsync(Preference preference);").Replace("[CachedRepository]", "[CachedRepository(DefaultTtl = 0)]", StringComparison.Ordinal), "CGEN004" },
        { "Ttl over a year", Bad("[WriteAround(Ttl = 40000000)] Task SaveAsync(Preference preference);"), "CGEN004" },
        { "[Cached] key parameter of another type", Bad("[Cached] Task<Preference?> GetAsync(int userId);"), "CGEN006" },
        { "[Cached] with an extra key parameter", Bad("[Cached] Task<Preference?> GetAsync(long userId, string channel);"), "CGEN006" },
        { "[Cached] without key parameters", Bad("[Cached] Task<Preference?> GetAsync();"), "CGEN006" },
        { "[Evict] key of another type", Bad("[Cached] Task<Preference?> GetAsync(long userId);\n[Evict] Task DeleteAsync(string userId);"), "CGEN006" },
        { "two strategies on one method", Bad("[Cached][Evict] Task<Preference?> GetAsync(long userId);"), "CGEN007" },
        { "two entity types", Bad("[Cached] Task<Preference?> GetAsync(long userId);\n[WriteThrough] Task SaveAsync(Other other);"), "CGEN008" },
        { "generic repository interface", Bad("[Cached] Task<T?> GetAsync(long userId);", "public interface IBadRepository<T> where T : class"), "CGEN011" },
        { "generic repository interface over the entity", Bad("[Cached] Task<Preference?> GetAsync(long userId);", "public interface IBadRepository<T>"), "CGEN011" },
        { "by-ref parameter", Bad("[Evict] Task DeleteAsync(ref long userId);\n[WriteThrough] Task SaveAsync(Preference preference);"), "CGEN014" },
        { "in parameter", Bad("[Cached] Task<Preference?> GetAsync(in long userId);"), "CGEN014" },
        { "write-back returning Task<int>", Bad("[WriteBack(IdempotencyKey = \"Version\")] Task<int> UpdateAsync(Preference preference);"), "CGEN012" },
        { "write-back returning ValueTask<bool>", Bad("[WriteBack(IdempotencyKey = \"Version\")] ValueTask<bool> UpdateAsync(Preference preference);"), "CGEN012" },
        { "write-back of a collection", Bad("[WriteBack] Task UpdateAsync(IReadOnlyList<Preference> preferences);"), "CGEN009" },
        { "write-through without entity", Bad("[Cached] Task<Preference?> GetAsync(long userId);\n[WriteThrough] Task SaveAsync(long userId);"), "CGEN009" },
        { "[Cached] returning a non-entity", Bad("[Cached] Task<int> CountAsync();"), "CGEN015" },
        { "[Cached] returning Task", Bad("[Cached] Task RefreshAsync(long userId);\n[WriteThrough] Task SaveAsync(Preference preference);"), "CGEN015" },
        { "generic caching method", Bad("[Cached] Task<Preference?> GetAsync<T>(long userId);"), "CGEN016" },
        { "nullable key member", Bad("[Cached] Task<Maybe?> GetAsync(long? id);") + "\npublic sealed record Maybe([property: CacheKey] long? Id);", "CGEN010" },
        { "floating point key member", Bad("[Cached] Task<Point?> GetAsync(double x);") + "\npublic sealed record Point([property: CacheKey] double X);", "CGEN010" },
        { "string version member", Bad("[Cached] Task<Labelled?> GetAsync(long id);") + "\npublic sealed record Labelled([property: CacheKey] long Id, [property: CacheVersion] string Label);", "CGEN031" },
        { "[Cached] returning a nullable struct entity", Bad("[Cached] Task<Slot?> GetAsync(int id);") + "\npublic readonly record struct Slot([property: CacheKey] int Id, string Label);", "CGEN032" },
        { "write of a nullable struct entity", Bad("[Cached] Task<Slot> GetAsync(int id);\n[WriteThrough] Task SaveAsync(Slot? slot);") + "\npublic readonly record struct Slot([property: CacheKey] int Id, string Label);", "CGEN032" },
        { "bulk write of nullable struct entities", Bad("[Cached] Task<Slot> GetAsync(int id);\n[WriteAround] Task SaveManyAsync(IReadOnlyList<Slot?> slots);") + "\npublic readonly record struct Slot([property: CacheKey] int Id, string Label);", "CGEN032" },
        { "key member that is also the version", Bad("[Cached] Task<Moving?> GetAsync(long revision);") + "\npublic sealed record Moving([property: CacheKey, CacheVersion] long Revision, string Title);", "CGEN031" },
        { "two version members", Bad("[WriteThrough] Task SaveAsync(Twice twice);") + "\npublic sealed record Twice([property: CacheKey] long Id, [property: CacheVersion] long A, [property: CacheVersion] int B);", "CGEN031" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Unsupported_shape_gets_no_decorator_but_others_do(string shape, string source, string expectedId)
    {
        _ = shape;
        var result = DecoratorRun.Run(Entities, source, Valid);
        Assert.Empty(result.Exceptions);
        var decorators = DecoratorRun.Decorators(result);
        Assert.Equal(new[] { "Good.CachedItemRepository.g.cs" }, decorators.Keys);

        // The valid interface's decorator compiles cleanly beside the broken one.
        Assert.Empty(result.GeneratedCodeDiagnostics);

        var repository = result.InputCompilation.GetTypeByMetadataName("Bad.IBadRepository")
            ?? result.InputCompilation.GetTypeByMetadataName("Bad.IBadRepository`1");
        Assert.NotNull(repository);
        var parsed = RepositoryParser.Parse(repository!, CancellationToken.None);
        Assert.Null(parsed.Model);
        Assert.Contains(expectedId, parsed.Diagnostics.Select(d => d.Descriptor.Id));
    }

    [Fact]
    public void All_bad_shapes_in_one_compilation_throw_nothing_and_emit_only_the_valid_decorator()
    {
        var sources = new List<string> { Entities, Valid };
        var i = 0;
        foreach (var source in Cases.Select(c => (string)c[1]))
        {
            // One namespace per case, so they coexist.
            sources.Add(source.Replace("namespace Bad;", "namespace Bad" + i++ + ";\nusing Bad;", StringComparison.Ordinal));
        }

        var result = DecoratorRun.Run(sources.ToArray());
        Assert.Empty(result.Exceptions);
        Assert.Equal(new[] { "Good.CachedItemRepository.g.cs" }, DecoratorRun.Decorators(result).Keys);
        Assert.Empty(result.GeneratedCodeDiagnostics);
    }

    [Fact]
    public void Valid_interface_parses_with_only_the_mixed_strategy_advice()
    {
        var compilation = DecoratorRun.Compile(DecoratorSamples.Canonical);
        var parsed = RepositoryParser.Parse(compilation.GetTypeByMetadataName("Sample.IPreferenceRepository")!, CancellationToken.None);
        Assert.NotNull(parsed.Model);
        Assert.Equal(new[] { "CGEN022" }, parsed.Diagnostics.Select(d => d.Descriptor.Id));
    }

    [Fact]
    public void Write_back_without_idempotency_key_is_a_warning_and_still_generates()
    {
        var source = Bad("[WriteBack] Task UpdateAsync(Preference preference);");
        var result = DecoratorRun.Run(Entities, source);
        Assert.Empty(result.Exceptions);
        Assert.Contains("Bad.CachedBadRepository.g.cs", DecoratorRun.Decorators(result).Keys);
        Assert.Empty(result.GeneratedCodeDiagnostics);
        var parsed = RepositoryParser.Parse(result.InputCompilation.GetTypeByMetadataName("Bad.IBadRepository")!, CancellationToken.None);
        Assert.NotNull(parsed.Model);
        Assert.Equal(new[] { "CGEN013" }, parsed.Diagnostics.Select(d => d.Descriptor.Id));
    }
}
