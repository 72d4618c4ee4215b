using Xunit;

namespace CachingGen.Generators.Tests.Analyzers;

/// <summary>CGEN020: a type that a repository method caches or logs cannot be serialized.</summary>
public sealed class CGEN020Tests
{
    [Fact]
    public Task Unserializable_write_argument_is_reported_on_the_parameter_with_the_formatted_message()
        => Verify.AnalyzerAsync(AnalyzerSamples.Header + """
            [CachedRepository]
            public interface IRepo
            {
                [WriteBack(IdempotencyKey = nameof(Preference.Version))] Task UpdateAsync(Preference preference, object {|#0:reason|});
            }
            """,
            Verify.Diagnostic("CGEN020").WithLocation(0)
                .WithMessage("'object' used by 'IRepo.UpdateAsync' cannot be serialized: 'object' needs a dynamic resolver. The cache and the write-back log store it with generated formatters only; change the type or the method signature."));

    [Fact]
    public Task Abstract_and_framework_collection_arguments_are_reported()
        => Verify.AnalyzerAsync(AnalyzerSamples.Header + """
            [CachedRepository]
            public interface IRepo
            {
                [WriteThrough] Task SaveAsync(Preference preference, System.Text.Encoding {|#0:encoding|});
                [WriteAround] Task TouchAsync(Preference preference, HashSet<long> {|#1:seen|});
            }
            """,
            Verify.Diagnostic("CGEN020").WithLocation(0).WithArguments("global::System.Text.Encoding", "IRepo.SaveAsync",
                "abstract types need a concrete type to deserialize"),
            Verify.Diagnostic("CGEN020").WithLocation(1).WithArguments("global::System.Collections.Generic.HashSet<long>", "IRepo.TouchAsync",
                "framework types other than MessagePack's built-in ones are not supported"));

    [Fact]
    public Task Near_miss_supported_write_arguments_and_evict_arguments_are_fine()
        => Verify.NoDiagnosticsExceptAsync(AnalyzerSamples.Header + """
            [CachedRepository]
            public interface IRepo
            {
                [WriteBack(IdempotencyKey = nameof(Preference.Version))] Task UpdateAsync(Preference preference, string reason, DateTimeOffset at, Guid operation);
                [Evict] Task DeleteAsync(long userId);
                Task AuditAsync(object anything);
            }
            """, "CGEN022");
}
