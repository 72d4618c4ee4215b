using Xunit;

namespace CachingGen.Generators.Tests.Analyzers;

/// <summary>CGEN009: a write method has nothing to take the key from.</summary>
public sealed class CGEN009Tests
{
    [Fact]
    public Task Write_through_without_the_entity_is_reported_with_the_formatted_message()
        => Verify.AnalyzerAsync(AnalyzerSamples.Header + """
            [CachedRepository]
            public interface IRepo
            {
                [Cached] Task<Preference?> GetAsync(long userId);
                [WriteThrough] Task {|#0:SaveAsync|}(long userId);
            }
            """,
            Verify.Diagnostic("CGEN009").WithLocation(0)
                .WithMessage("'SaveAsync' is marked [WriteThrough] but it has no parameter of the entity type 'Sample.Preference'. Pass the entity (write-through stores it in the cache), or use [WriteAround] or [Evict], which only need its key."));

    [Fact]
    public Task Write_back_of_a_collection_and_two_entities_are_reported()
        => Verify.AnalyzerAsync(AnalyzerSamples.Header + """
            [CachedRepository]
            public interface IRepo
            {
                [WriteBack(IdempotencyKey = nameof(Preference.Version))] Task {|#0:UpdateManyAsync|}(IReadOnlyList<Preference> preferences);
                [WriteThrough] Task {|#1:SwapAsync|}(Preference first, Preference second);
            }
            """,
            Verify.Diagnostic("CGEN009").WithLocation(0).WithArguments("UpdateManyAsync", "WriteBack", "it takes a collection of entities",
                "Write-back of a collection is not supported: call the method once per entity, or use [WriteThrough] or [WriteAround] for bulk writes."),
            Verify.Diagnostic("CGEN009").WithLocation(1).WithArguments("SwapAsync", "WriteThrough", "it takes several parameters of the entity type",
                "Take exactly one entity or one collection of entities."));

    [Fact]
    public Task Write_back_with_more_than_four_arguments_is_reported()
        => Verify.AnalyzerAsync(AnalyzerSamples.Header + """
            [CachedRepository]
            public interface IRepo
            {
                [WriteBack(IdempotencyKey = nameof(Preference.Version))] Task {|#0:UpdateAsync|}(Preference preference, int a, int b, int c, int d);
            }
            """,
            Verify.Diagnostic("CGEN009").WithLocation(0).WithArguments("UpdateAsync", "WriteBack", "it takes more than 4 arguments besides the cancellation token",
                "A write-back record holds at most 4 arguments: group the extra ones into the entity or a parameter object."));

    [Fact]
    public Task Repository_that_never_names_the_entity_is_reported_on_the_interface()
        => Verify.AnalyzerAsync("""
            using CachingGen;
            namespace Sample;
            [CachedRepository]
            public interface {|#0:IRepo|}
            {
                [Evict] Task DeleteAsync(long id);
            }
            """,
            Verify.Diagnostic("CGEN009").WithLocation(0).WithArguments("IRepo", "CachedRepository", "none of its methods names the cached entity",
                "Add a [Cached] read that returns the entity, or an entity parameter to a write method."));

    [Fact]
    public Task Near_miss_entity_collections_for_bulk_writes_and_extra_write_back_arguments_are_fine()
        => Verify.NoDiagnosticsExceptAsync(AnalyzerSamples.Header + """
            [CachedRepository]
            public interface IRepo
            {
                [WriteThrough] Task SaveManyAsync(Preference[] preferences);
                [Evict] Task DeleteManyAsync(List<Preference> preferences);
                [WriteBack(IdempotencyKey = nameof(Preference.Version))] Task UpdateAsync(Preference preference, int a, int b, int c, CancellationToken ct);
            }
            """, "CGEN022");
}
