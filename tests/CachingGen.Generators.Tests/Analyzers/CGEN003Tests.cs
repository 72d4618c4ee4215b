using Xunit;

namespace CachingGen.Generators.Tests.Analyzers;

/// <summary>CGEN003: IdempotencyKey names a member that is missing, unreadable or of an unsupported type.</summary>
public sealed class CGEN003Tests
{
    [Fact]
    public Task Missing_member_is_reported_on_the_attribute_with_the_formatted_message()
        => Verify.AnalyzerAsync(AnalyzerSamples.Header + """
            [CachedRepository]
            public interface IRepo
            {
                [Cached] Task<Preference?> GetAsync(long userId);
                [{|#0:WriteBack(IdempotencyKey = "Revision")|}] Task UpdateAsync(Preference preference);
            }
            """,
            Verify.Diagnostic("CGEN003").WithLocation(0)
                .WithMessage("[WriteBack(IdempotencyKey = \"Revision\")] on 'UpdateAsync': 'Sample.Preference' has no member named 'Revision'. Name a public readable property or field of 'Sample.Preference' of an integer, string, Guid, char, bool or enum type, with nameof(...)."));

    [Fact]
    public Task Member_of_an_unsupported_type_is_reported()
        => Verify.AnalyzerAsync("""
            using CachingGen;
            namespace Sample;
            public sealed record Item([property: CacheKey] long Id, DateTime Stamp);
            [CachedRepository]
            public interface IRepo
            {
                [{|#0:WriteBack(IdempotencyKey = nameof(Item.Stamp))|}] Task UpdateAsync(Item item);
            }
            """,
            Verify.Diagnostic("CGEN003").WithLocation(0)
                .WithArguments("Stamp", "UpdateAsync", "'Stamp' has type 'System.DateTime', which cannot form a stable key", "Sample.Item"));

    [Fact]
    public Task Private_member_is_reported()
        => Verify.AnalyzerAsync("""
            using CachingGen;
            namespace Sample;
            public sealed class Item
            {
                [CacheKey] public long Id { get; set; }
                private long revision = 0;
                public long Touch() => revision;
            }
            [CachedRepository]
            public interface IRepo
            {
                [{|#0:WriteBack(IdempotencyKey = "revision")|}] Task UpdateAsync(Item item);
            }
            """,
            Verify.Diagnostic("CGEN003").WithLocation(0)
                .WithArguments("revision", "UpdateAsync", "'revision' is not a public or internal readable property or field", "Sample.Item"));

    [Fact]
    public Task Near_miss_string_guid_and_enum_members_are_fine()
        => Verify.NoDiagnosticsAsync("""
            using CachingGen;
            namespace Sample;
            public enum Stage { Draft, Final }
            public sealed record Item([property: CacheKey] long Id, string Etag, Guid OperationId, Stage Stage);
            [CachedRepository]
            public interface IRepo
            {
                [WriteBack(IdempotencyKey = nameof(Item.Etag))] Task UpdateAsync(Item item);
                [WriteBack(IdempotencyKey = nameof(Item.OperationId))] Task ReplaceAsync(Item item);
                [WriteBack(IdempotencyKey = nameof(Item.Stage))] Task StageAsync(Item item);
            }
            """);
}
