using Xunit;

namespace CachingGen.Generators.Tests.Analyzers;

/// <summary>CGEN006: a method's key parameters do not match the entity's key.</summary>
public sealed class CGEN006Tests
{
    [Fact]
    public Task Wrong_key_type_is_reported_with_the_formatted_message()
        => Verify.AnalyzerAsync(AnalyzerSamples.Header + """
            [CachedRepository]
            public interface IRepo
            {
                [Cached] Task<Preference?> {|#0:GetAsync|}(string userId, CancellationToken ct);
            }
            """,
            Verify.Diagnostic("CGEN006").WithLocation(0)
                .WithMessage("'GetAsync' must take the entity's key (long UserId) as its parameters, in order, besides an optional CancellationToken; it takes (string userId). Change the parameters to match the [CacheKey] members of 'Sample.Preference'."));

    [Fact]
    public Task Composite_key_in_the_wrong_order_is_reported()
        => Verify.AnalyzerAsync("""
            using CachingGen;
            namespace Sample;
            public sealed record Member([property: CacheKey] Guid TeamId, [property: CacheKey] int Seat, string Name);
            [CachedRepository]
            public interface IRepo
            {
                [Cached] Task<Member?> GetAsync(Guid teamId, int seat);
                [Evict] Task {|#0:DeleteAsync|}(int seat, Guid teamId);
            }
            """,
            Verify.Diagnostic("CGEN006").WithLocation(0)
                .WithArguments("DeleteAsync", "System.Guid TeamId, int Seat", "int seat, System.Guid teamId", "Sample.Member"));

    [Fact]
    public Task Near_miss_any_parameter_names_and_key_collections_are_fine()
        => Verify.NoDiagnosticsAsync(AnalyzerSamples.Header + """
            [CachedRepository]
            public interface IRepo
            {
                [Cached] Task<Preference?> GetAsync(long id, CancellationToken cancellationToken = default);
                [Evict] Task DeleteManyAsync(IReadOnlyList<long> ids);
                [WriteAround] Task TouchAsync(long key);
            }
            """);
}
