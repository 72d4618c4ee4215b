using Xunit;

namespace CachingGen.Generators.Tests.Analyzers;

/// <summary>CGEN005: a strategy attribute on a member of a type that is not a [CachedRepository] interface.</summary>
public sealed class CGEN005Tests
{
    [Fact]
    public Task Attribute_on_a_class_method_is_reported_with_the_formatted_message()
        => Verify.AnalyzerAsync(AnalyzerSamples.Header + """
            public sealed class PreferenceStore
            {
                [{|#0:Cached|}] public Task<Preference?> GetAsync(long userId) => Task.FromResult<Preference?>(null);
            }
            """,
            Verify.Diagnostic("CGEN005").WithLocation(0)
                .WithMessage("[Cached] on 'GetAsync' has no effect: caching attributes only work on methods of an interface marked [CachedRepository] (or of its base interfaces), never on 'PreferenceStore', which is a class or struct. Move the attribute to the repository interface the class implements."));

    [Fact]
    public Task Attributes_on_an_unmarked_interface_are_not_reported_because_it_may_be_a_base_of_a_repository()
        => Verify.NoDiagnosticsAsync(AnalyzerSamples.Header + """
            public interface IReadPreferences
            {
                [Cached] Task<Preference?> GetAsync(long userId);
            }

            [CachedRepository(KeyPrefix = "pref")]
            public interface IPreferenceRepository : IReadPreferences
            {
                [WriteThrough] Task SaveAsync(Preference preference);
            }
            """);

    [Fact]
    public Task Attribute_on_a_class_method_is_reported()
        => Verify.AnalyzerAsync(AnalyzerSamples.Header + """
            public class Repo
            {
                [{|#0:WriteBack(IdempotencyKey = "Version")|}] public Task UpdateAsync(Preference preference) => Task.CompletedTask;
                [{|#1:Evict|}] public static Task DeleteAsync(long userId) => Task.CompletedTask;
            }
            """,
            Verify.Diagnostic("CGEN005").WithLocation(0).WithArguments("WriteBack", "UpdateAsync", "Repo"),
            Verify.Diagnostic("CGEN005").WithLocation(1).WithArguments("Evict", "DeleteAsync", "Repo"));

    [Fact]
    public Task Near_miss_repository_implementation_without_attributes_and_other_attributes_are_fine()
        => Verify.NoDiagnosticsExceptAsync(AnalyzerSamples.Canonical + """

            public sealed class PreferenceRepository : IPreferenceRepository
            {
                [Obsolete("test")] public ValueTask<Preference?> GetAsync(long userId, CancellationToken ct = default) => default;
                public Task SaveAsync(Preference preference, CancellationToken ct = default) => Task.CompletedTask;
                public Task SaveManyAsync(IReadOnlyList<Preference> preferences, CancellationToken ct = default) => Task.CompletedTask;
                public Task UpdateAsync(Preference preference, CancellationToken ct = default) => Task.CompletedTask;
                public Task DeleteAsync(long userId, CancellationToken ct = default) => Task.CompletedTask;
                public Task<int> CountAsync(CancellationToken ct = default) => Task.FromResult(0);
            }
            """, "CGEN022");
}
