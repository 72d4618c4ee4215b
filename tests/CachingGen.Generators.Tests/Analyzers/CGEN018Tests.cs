using Xunit;

namespace CachingGen.Generators.Tests.Analyzers;

/// <summary>CGEN018: no constructor can be called with the serialized members.</summary>
public sealed class CGEN018Tests
{
    [Fact]
    public Task Constructor_that_matches_no_member_is_reported_with_the_formatted_message()
        => Verify.AnalyzerAsync("""
            using CachingGen;
            namespace Sample;
            public sealed class {|#0:Preference|}
            {
                public Preference(int seed) { UserId = seed; }
                [CacheKey] public long UserId { get; }
            }
            [CachedRepository]
            public interface IRepo
            {
                [Cached] Task<Preference?> {|#1:GetAsync|}(long userId);
            }
            """,
            Verify.Diagnostic("CGEN018").WithLocation(0)
                .WithMessage("'global::Sample.Preference' cannot be deserialized: no accessible constructor has parameters that all match serialized members by name and type. Give it a constructor whose parameters match its members by name, or settable/init properties."),
            Verify.Diagnostic("CGEN020").WithLocation(1)
                .WithArguments("global::Sample.Preference?", "IRepo.GetAsync", "it uses 'global::Sample.Preference', which cannot be serialized"));

    [Fact]
    public Task Required_member_that_is_not_serialized_is_reported()
        => Verify.AnalyzerAsync("""
            using CachingGen;
            using MessagePack;
            namespace Sample;
            public sealed class {|#0:Preference|}
            {
                [CacheKey] public long UserId { get; set; }
                [IgnoreMember] public required string Secret { get; init; }
            }
            [CachedRepository]
            public interface IRepo
            {
                [Cached] Task<Preference?> {|#1:GetAsync|}(long userId);
            }
            """,
            Verify.Diagnostic("CGEN018").WithLocation(0).WithArguments("global::Sample.Preference", "required member 'Secret' is not serialized"),
            Verify.Diagnostic("CGEN020").WithLocation(1)
                .WithArguments("global::Sample.Preference?", "IRepo.GetAsync", "it uses 'global::Sample.Preference', which cannot be serialized"));

    [Fact]
    public Task Negative_message_pack_key_is_reported_on_the_member()
        => Verify.AnalyzerAsync("""
            using CachingGen;
            using MessagePack;
            namespace Sample;
            [MessagePackObject]
            public sealed class Preference
            {
                [Key(0), CacheKey] public long UserId { get; set; }
                [Key(-1)] public string {|#0:Channel|} { get; set; } = "";
            }
            [CachedRepository]
            public interface IRepo
            {
                [Cached] Task<Preference?> {|#1:GetAsync|}(long userId);
            }
            """,
            Verify.Diagnostic("CGEN018").WithLocation(0).WithArguments("global::Sample.Preference", "member 'Channel' has an invalid [Key]"),
            Verify.Diagnostic("CGEN020").WithLocation(1)
                .WithArguments("global::Sample.Preference?", "IRepo.GetAsync", "it uses 'global::Sample.Preference', which cannot be serialized"));

    [Fact]
    public Task Near_miss_constructor_parameters_match_members_ignoring_case_and_structs_need_none()
        => Verify.NoDiagnosticsAsync("""
            using CachingGen;
            namespace Sample;
            public readonly struct Point { public Point(int x, int y) { X = x; Y = y; } public int X { get; } public int Y { get; } }
            public sealed class Preference
            {
                public Preference(long userId, Point origin) { UserId = userId; Origin = origin; }
                [CacheKey] public long UserId { get; }
                public Point Origin { get; }
                public required string Channel { get; init; }
            }
            [CachedRepository]
            public interface IRepo
            {
                [Cached] Task<Preference?> GetAsync(long userId);
            }
            """);
}
