using Xunit;

namespace CachingGen.Generators.Tests.Analyzers;

/// <summary>CGEN021: two members of a [MessagePackObject] type declare the same key.</summary>
public sealed class CGEN021Tests
{
    [Fact]
    public Task Duplicate_key_is_reported_on_the_second_member_with_the_formatted_message()
        => Verify.AnalyzerAsync("""
            using CachingGen;
            using MessagePack;
            namespace Sample;
            [MessagePackObject]
            public sealed class Preference
            {
                [Key(0), CacheKey] public long UserId { get; set; }
                [Key(1)] public string Channel { get; set; } = "";
                [Key(1)] public bool {|#0:Enabled|} { get; set; }
            }
            [CachedRepository]
            public interface IRepo
            {
                [Cached] Task<Preference?> {|#1:GetAsync|}(long userId);
            }
            """,
            Verify.Diagnostic("CGEN021").WithLocation(0)
                .WithMessage("'global::Sample.Preference' declares [Key(1)] on more than one member; give each member its own key"),
            Verify.Diagnostic("CGEN020").WithLocation(1)
                .WithArguments("global::Sample.Preference?", "IRepo.GetAsync", "it uses 'global::Sample.Preference', which cannot be serialized"));

    [Fact]
    public Task Near_miss_distinct_keys_with_a_gap_and_string_keys_are_fine()
        => Verify.NoDiagnosticsAsync("""
            using CachingGen;
            using MessagePack;
            namespace Sample;
            [MessagePackObject]
            public sealed class Preference
            {
                [Key(0), CacheKey] public long UserId { get; set; }
                [Key(3)] public string Channel { get; set; } = "";
                [IgnoreMember] public bool Enabled { get; set; }
            }
            [MessagePackObject(keyAsPropertyName: true)]
            public sealed class Named
            {
                [CacheKey] public long Id { get; set; }
                public string Name { get; set; } = "";
            }
            [CachedRepository] public interface IRepo { [Cached] Task<Preference?> GetAsync(long userId); }
            [CachedRepository] public interface INamedRepo { [Cached] Task<Named?> GetAsync(long id); }
            """);
}
