using Xunit;

namespace CachingGen.Generators.Tests.Analyzers;

/// <summary>CGEN005: a strategy attribute on a member of a type that is not a [CachedRepository] interface.</summary>
public sealed class CGEN005Tests
{
    [Fact]
    public Task Attribute_on_an_unmarked_interface_is_reported_with_the_formatted_message()
        => Verify.AnalyzerAsync(AnalyzerSamples.Header + """
            public interface IRepo
            {
                [{|#0:Cached|}] Task<Preference?> GetAsync(long userId);
            }
            """,
            Verify.Diagnostic("CGEN005").WithLocation(0)
                .WithMessage("[Cached] on 'GetAsync' has no effect: caching attributes only work on methods of an interface marked [CachedRepository]. Move the method to such an interface, or mark 'IRepo' [CachedRepository] if it is an interface."));

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
        => Verify.NoDiagnosticsAsync(AnalyzerSamples.Canonical + """

            public sealed class PreferenceRepository : IPreferenceRepository
            {
                [Obsolete("test")] public ValueTask<Preference?> GetAsync(long userId, CancellationToken ct = default) => default;
                public Task SaveAsync(Preference preference, CancellationToken ct = default) => Task.CompletedTask;
                public Task SaveManyAsync(IReadOnlyList<Preference> preferences, CancellationToken ct = default) => Task.CompletedTask;
                public Task UpdateAsync(Preference preference, CancellationToken ct = default) => Task.CompletedTask;
                public Task DeleteAsync(long userId, CancellationToken ct = default) => Task.CompletedTask;
                public Task<int> CountAsync(CancellationToken ct = default) => Task.FromResult(0);
            }
            """);
}
