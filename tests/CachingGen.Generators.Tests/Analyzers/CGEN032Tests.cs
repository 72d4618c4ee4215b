using Xunit;

namespace CachingGen.Generators.Tests.Analyzers;

/// <summary>CGEN032: a struct entity used as <c>Nullable&lt;T&gt;</c>, which generated code could not pass to the cache.</summary>
public sealed class CGEN032Tests
{
    private const string Slot = """
        using CachingGen;
        namespace Sample;
        public readonly record struct Slot([property: CacheKey] int Id, string Label);
        """;

    [Fact]
    public Task Nullable_struct_result_of_a_cached_read_is_reported_with_the_formatted_message()
        => Verify.AnalyzerAsync(Slot + """
            [CachedRepository]
            public interface IRepo
            {
                [Cached] Task<Slot?> {|#0:GetAsync|}(int id);
            }
            """,
            Verify.Diagnostic("CGEN032").WithLocation(0)
                .WithMessage("'GetAsync' uses 'System.Threading.Tasks.Task<Sample.Slot?>', but the entity 'Sample.Slot' is a struct, which the cache stores and passes as a value: a nullable one has no cache representation. Use 'Sample.Slot' without '?', or make 'Sample.Slot' a class or record class (a [Cached] read of a class entity caches 'not found' as null)."));

    [Theory]
    [InlineData("[Cached] ValueTask<Slot?> {|#0:FindAsync|}(long id);", "FindAsync", "System.Threading.Tasks.ValueTask<Sample.Slot?>")]
    [InlineData("[WriteThrough] Task SaveAsync(Slot? {|#0:slot|});", "SaveAsync", "Sample.Slot?")]
    [InlineData("[WriteAround] Task SaveAsync(Slot? {|#0:slot|});", "SaveAsync", "Sample.Slot?")]
    [InlineData("[WriteBack(IdempotencyKey = nameof(Slot.Label))] Task SaveAsync(Slot? {|#0:slot|});", "SaveAsync", "Sample.Slot?")]
    [InlineData("[WriteThrough] Task SaveManyAsync(IReadOnlyList<Slot?> {|#0:slots|});", "SaveManyAsync", "System.Collections.Generic.IReadOnlyList<Sample.Slot?>")]
    [InlineData("[WriteAround] Task SaveManyAsync(Slot?[] {|#0:slots|});", "SaveManyAsync", "Sample.Slot?[]")]
    public Task Nullable_struct_entity_in_any_strategy_is_reported_once(string method, string name, string type)
        => Verify.AnalyzerAsync(Slot + $$"""
            [CachedRepository]
            public interface IRepo
            {
                [Cached] Task<Slot> GetAsync(int id);
                {{method}}
            }
            """,
            Verify.Diagnostic("CGEN032").WithLocation(0).WithArguments(name, type, "Sample.Slot"));

    [Fact]
    public Task Struct_entity_without_question_mark_and_nullable_class_entity_are_fine()
        => Verify.NoDiagnosticsAsync(Slot + """
            public sealed record Card([property: CacheKey] int Id, string Label);
            [CachedRepository]
            public interface ISlots
            {
                [Cached] Task<Slot> GetAsync(int id);
                [WriteThrough] Task SaveAsync(Slot slot);
                [WriteAround] Task SaveManyAsync(IReadOnlyList<Slot> slots);
            }
            [CachedRepository]
            public interface ICards
            {
                [Cached] Task<Card?> GetAsync(int id);
                [WriteThrough] Task SaveAsync(Card? card);
            }
            """);
}
