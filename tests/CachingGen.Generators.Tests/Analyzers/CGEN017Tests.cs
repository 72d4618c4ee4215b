using Xunit;

namespace CachingGen.Generators.Tests.Analyzers;

/// <summary>CGEN017: a member's type cannot be serialized without dynamic code (and the cached type that uses it, CGEN020).</summary>
public sealed class CGEN017Tests
{
    [Fact]
    public Task Object_member_is_reported_with_the_formatted_message()
        => Verify.AnalyzerAsync("""
            using CachingGen;
            namespace Sample;
            public sealed record Preference([property: CacheKey] long UserId, object {|#0:Payload|});
            [CachedRepository]
            public interface IRepo
            {
                [Cached] Task<Preference?> {|#1:GetAsync|}(long userId);
            }
            """,
            Verify.Diagnostic("CGEN017").WithLocation(0)
                .WithMessage("Member 'Payload' of 'global::Sample.Preference' has type 'object', which the generated formatters cannot serialize: 'object' needs a dynamic resolver. Use a supported type (primitives, string, Guid, date and time types, enums, arrays, List/IReadOnlyList/IList/IEnumerable, Dictionary/IReadOnlyDictionary, Nullable<T>, or a class, record or struct of those), or mark the member [IgnoreMember]."),
            Verify.Diagnostic("CGEN020").WithLocation(1)
                .WithArguments("global::Sample.Preference?", "IRepo.GetAsync", "it uses 'global::Sample.Preference', which cannot be serialized"));

    [Fact]
    public Task Interface_abstract_and_multidimensional_members_are_reported()
        => Verify.AnalyzerAsync("""
            using CachingGen;
            namespace Sample;
            public abstract class Shape { }
            public sealed class Preference
            {
                [CacheKey] public long UserId { get; set; }
                public IComparable? {|#0:Rank|} { get; set; }
                public Shape? {|#1:Shape|} { get; set; }
                public int[,]? {|#2:Grid|} { get; set; }
            }
            [CachedRepository]
            public interface IRepo
            {
                [WriteThrough] Task SaveAsync(Preference {|#3:preference|});
            }
            """,
            Verify.Diagnostic("CGEN017").WithLocation(0).WithArguments("global::Sample.Preference", "Rank", "global::System.IComparable?",
                "interfaces (other than the supported collection interfaces) need a concrete type to deserialize"),
            Verify.Diagnostic("CGEN017").WithLocation(1).WithArguments("global::Sample.Preference", "Shape", "global::Sample.Shape?",
                "abstract types need a concrete type to deserialize"),
            Verify.Diagnostic("CGEN017").WithLocation(2).WithArguments("global::Sample.Preference", "Grid", "int[,]?",
                "multi-dimensional arrays are not supported"),
            Verify.Diagnostic("CGEN020").WithLocation(3)
                .WithArguments("global::Sample.Preference", "IRepo.SaveAsync", "it uses 'global::Sample.Preference', which cannot be serialized"));

    [Fact]
    public Task Dictionaries_keyed_by_types_untrusted_data_security_cannot_hash_safely_are_reported()
        => Verify.AnalyzerAsync("""
            using CachingGen;
            namespace Sample;
            public enum Big : long { A, B }
            public enum Small : byte { A, B }
            public sealed class Preference
            {
                [CacheKey] public long UserId { get; set; }
                public Dictionary<decimal, string>? {|#0:Prices|} { get; set; }
                public IReadOnlyDictionary<Big, int>? {|#1:Totals|} { get; set; }
                public IDictionary<TimeSpan, int>? {|#2:Windows|} { get; set; }
                public Dictionary<Small, int>? Counts { get; set; }
                public Dictionary<Guid, DateTimeOffset>? Seen { get; set; }
                public Dictionary<ulong, string>? Names { get; set; }
            }
            [CachedRepository]
            public interface IRepo
            {
                [Cached] Task<Preference?> {|#3:GetAsync|}(long userId);
            }
            """,
            Verify.Diagnostic("CGEN017").WithLocation(0).WithArguments("global::Sample.Preference", "Prices", "global::System.Collections.Generic.Dictionary<decimal, string>?",
                "its dictionary key type 'decimal' has no hash-collision-resistant comparer in MessagePack's untrusted-data security, which reads every cached entry and write-back record, so reading it would always fail. Key the dictionary by string, an integer type, bool, char, float, double, Guid, DateTime, DateTimeOffset or an enum of at most 32 bits"),
            Verify.Diagnostic("CGEN017").WithLocation(1).WithArguments("global::Sample.Preference", "Totals", "global::System.Collections.Generic.IReadOnlyDictionary<global::Sample.Big, int>?",
                "its dictionary key type 'global::Sample.Big' has no hash-collision-resistant comparer in MessagePack's untrusted-data security, which reads every cached entry and write-back record, so reading it would always fail. Key the dictionary by string, an integer type, bool, char, float, double, Guid, DateTime, DateTimeOffset or an enum of at most 32 bits"),
            Verify.Diagnostic("CGEN017").WithLocation(2).WithArguments("global::Sample.Preference", "Windows", "global::System.Collections.Generic.IDictionary<global::System.TimeSpan, int>?",
                "its dictionary key type 'global::System.TimeSpan' has no hash-collision-resistant comparer in MessagePack's untrusted-data security, which reads every cached entry and write-back record, so reading it would always fail. Key the dictionary by string, an integer type, bool, char, float, double, Guid, DateTime, DateTimeOffset or an enum of at most 32 bits"),
            Verify.Diagnostic("CGEN020").WithLocation(3)
                .WithArguments("global::Sample.Preference?", "IRepo.GetAsync", "it uses 'global::Sample.Preference', which cannot be serialized"));

    [Fact]
    public Task Near_miss_ignored_member_and_supported_shapes_are_fine()
        => Verify.NoDiagnosticsAsync("""
            using CachingGen;
            using MessagePack;
            namespace Sample;
            public enum Tier { Free, Pro }
            public sealed class Preference
            {
                [CacheKey] public long UserId { get; set; }
                [IgnoreMember] public object? Scratch { get; set; }
                public List<string> Tags { get; set; } = new();
                public Dictionary<string, int> Counters { get; set; } = new();
                public int[] Scores { get; set; } = Array.Empty<int>();
                public Tier? Tier { get; set; }
                public DateTimeOffset At { get; set; }
                public Guid Id { get; set; }
            }
            [CachedRepository]
            public interface IRepo
            {
                [Cached] Task<Preference?> GetAsync(long userId);
            }
            """);
}
