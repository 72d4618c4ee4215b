using Xunit;

namespace CachingGen.Generators.Tests.Analyzers;

/// <summary>CGEN010: a key member has a type that cannot form a canonical key.</summary>
public sealed class CGEN010Tests
{
    [Fact]
    public Task Double_key_is_reported_on_the_member_with_the_formatted_message()
        => Verify.AnalyzerAsync("""
            using CachingGen;
            namespace Sample;
            public sealed record Reading([property: CacheKey] double {|#0:Value|}, string Unit);
            [CachedRepository]
            public interface IRepo
            {
                [Cached] Task<Reading?> GetAsync(double value);
            }
            """,
            Verify.Diagnostic("CGEN010").WithLocation(0)
                .WithMessage("Cache key member 'Value' of 'Sample.Reading' has type 'double', which has no canonical key encoding. Use an integer, string, Guid, bool, char or enum (not nullable)."));

    [Fact]
    public Task Nullable_and_unreadable_keys_are_reported()
        => Verify.AnalyzerAsync("""
            using CachingGen;
            namespace Sample;
            public sealed class Reading
            {
                [CacheKey] public long? {|#0:Id|} { get; set; }
                [CacheKey] private string {|#1:secret|} = "";
                public string Secret => secret;
            }
            [CachedRepository]
            public interface IRepo
            {
                [Cached] Task<Reading?> GetAsync(long id);
            }
            """,
            Verify.Diagnostic("CGEN010").WithLocation(0).WithArguments("Id", "Sample.Reading", "long?"),
            Verify.Diagnostic("CGEN010").WithLocation(1).WithArguments("secret", "Sample.Reading", "string (not readable from generated code)"));

    [Fact]
    public Task Near_miss_every_supported_key_type_is_fine()
        => Verify.NoDiagnosticsAsync("""
            using CachingGen;
            namespace Sample;
            public enum Kind : byte { A, B }
            public sealed record Key(
                [property: CacheKey] sbyte A, [property: CacheKey] short B, [property: CacheKey] int C, [property: CacheKey] long D,
                [property: CacheKey] byte E, [property: CacheKey] ushort F, [property: CacheKey] uint G, [property: CacheKey] ulong H,
                [property: CacheKey] string I, [property: CacheKey] char J, [property: CacheKey] bool K, [property: CacheKey] Guid L,
                [property: CacheKey] Kind M);
            [CachedRepository]
            public interface IRepo
            {
                [Cached] Task<Key?> GetAsync(sbyte a, short b, int c, long d, byte e, ushort f, uint g, ulong h, string i, char j, bool k, Guid l, Kind m);
            }
            """);
}
