using Xunit;

namespace CachingGen.Generators.Tests.Analyzers;

/// <summary>CGEN019: a type depends on another type that cannot be serialized.</summary>
public sealed class CGEN019Tests
{
    [Fact]
    public Task Type_using_an_unserializable_type_is_reported_with_the_formatted_message()
        => Verify.AnalyzerAsync("""
            using CachingGen;
            namespace Sample;
            public sealed record Settings(object {|#0:Blob|});
            public sealed record {|#1:Preference|}([property: CacheKey] long UserId, Settings Settings);
            [CachedRepository]
            public interface IRepo
            {
                [Cached] Task<Preference?> {|#2:GetAsync|}(long userId);
            }
            """,
            Verify.Diagnostic("CGEN017").WithLocation(0)
                .WithArguments("global::Sample.Settings", "Blob", "object", "'object' needs a dynamic resolver"),
            Verify.Diagnostic("CGEN019").WithLocation(1)
                .WithMessage("'global::Sample.Preference' cannot be serialized because it uses 'global::Sample.Settings', which cannot be serialized; fix 'global::Sample.Settings' first"),
            Verify.Diagnostic("CGEN020").WithLocation(2)
                .WithArguments("global::Sample.Preference?", "IRepo.GetAsync", "it uses 'global::Sample.Preference', which cannot be serialized"));

    [Fact]
    public Task Near_miss_nested_serializable_type_and_self_reference_are_fine()
        => Verify.NoDiagnosticsAsync("""
            using CachingGen;
            namespace Sample;
            public sealed record Settings(string Theme, Settings? Parent);
            public sealed record Preference([property: CacheKey] long UserId, Settings Settings, List<Settings> History);
            [CachedRepository]
            public interface IRepo
            {
                [Cached] Task<Preference?> GetAsync(long userId);
            }
            """);
}
