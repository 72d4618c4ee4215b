using Xunit;

namespace CachingGen.Generators.Tests.Analyzers;

/// <summary>CGEN031: a [CacheVersion] member of an unsupported type, unreadable, or one of several.</summary>
public sealed class CGEN031Tests
{
    [Fact]
    public Task String_version_is_reported_on_the_member_with_the_formatted_message()
        => Verify.AnalyzerAsync("""
            using CachingGen;
            namespace Sample;
            public sealed record Article([property: CacheKey] long Id, [property: CacheVersion] string {|#0:ETag|});
            [CachedRepository]
            public interface IRepo
            {
                [Cached] Task<Article?> GetAsync(long id);
            }
            """,
            Verify.Diagnostic("CGEN031").WithLocation(0)
                .WithMessage("'ETag' on 'Sample.Article' cannot be the cache version: its type 'string' is not a number or a timestamp that orders the row's changes. Mark exactly one readable member of type long, int, uint, DateTime or DateTimeOffset with [CacheVersion]."));

    [Theory]
    [InlineData("long?", "its type 'long?' is nullable, and every row has a version")]
    [InlineData("DateTimeOffset?", "its type 'System.DateTimeOffset?' is nullable, and every row has a version")]
    [InlineData("short?", "its type 'short?' is nullable, and every row has a version")]
    [InlineData("ulong", "its type 'ulong' holds values above long.MaxValue, which would compare as older")]
    [InlineData("Stage", "its type 'Sample.Stage' is an enum, which names states rather than counting changes")]
    [InlineData("double", "its type 'double' is not a number or a timestamp that orders the row's changes")]
    [InlineData("DateOnly", "its type 'System.DateOnly' is not a number or a timestamp that orders the row's changes")]
    public Task Unsupported_types_are_reported_with_what_is_wrong(string type, string problem)
        => Verify.AnalyzerAsync($$"""
            using CachingGen;
            namespace Sample;
            public enum Stage { Draft, Published }
            public sealed record Article([property: CacheKey] long Id, [property: CacheVersion] {{type}} {|#0:Version|});
            [CachedRepository]
            public interface IRepo
            {
                [Cached] Task<Article?> GetAsync(long id);
            }
            """,
            Verify.Diagnostic("CGEN031").WithLocation(0).WithArguments("Version", "Sample.Article", problem));

    [Fact]
    public Task Narrow_integer_version_is_reported_with_the_formatted_message()
        => Verify.AnalyzerAsync("""
            using CachingGen;
            namespace Sample;
            public sealed record Article([property: CacheKey] long Id, [property: CacheVersion] ushort {|#0:Revision|});
            [CachedRepository]
            public interface IRepo
            {
                [Cached] Task<Article?> GetAsync(long id);
            }
            """,
            Verify.Diagnostic("CGEN031").WithLocation(0)
                .WithMessage("'Revision' on 'Sample.Article' cannot be the cache version: its type 'ushort' wraps around after 65,536 changes, and a version that wraps makes every later write look older than the cached one; use long (or int). Mark exactly one readable member of type long, int, uint, DateTime or DateTimeOffset with [CacheVersion]."));

    [Theory]
    [InlineData("byte", "256")]
    [InlineData("sbyte", "128")]
    [InlineData("short", "32,768")]
    [InlineData("ushort", "65,536")]
    public Task Integers_narrower_than_32_bits_are_reported_because_they_wrap_around(string type, string changes)
        => Verify.AnalyzerAsync($$"""
            using CachingGen;
            namespace Sample;
            public sealed record Article([property: CacheKey] long Id, [property: CacheVersion] {{type}} {|#0:Version|});
            public sealed class Comment
            {
                [CacheKey] public long Id { get; set; }
                [CacheVersion] public {{type}} {|#1:Version|};
            }
            public abstract class Row
            {
                [CacheVersion] public {{type}} {|#2:Revision|} { get; init; }
            }
            public sealed class Note : Row
            {
                [CacheKey] public string Code { get; init; } = "";
            }
            [CachedRepository(KeyPrefix = "article")]
            public interface IArticles
            {
                [Cached] Task<Article?> GetAsync(long id);
                [WriteThrough] Task SaveAsync(Article article);
            }
            [CachedRepository(KeyPrefix = "comment")]
            public interface IComments
            {
                [Cached] Task<Comment?> GetAsync(long id);
            }
            [CachedRepository(KeyPrefix = "note")]
            public interface INotes
            {
                [Cached] Task<Note?> GetAsync(string code);
            }
            """,
            Verify.Diagnostic("CGEN031").WithLocation(0).WithArguments("Version", "Sample.Article", Wraps(type, changes)),
            Verify.Diagnostic("CGEN031").WithLocation(1).WithArguments("Version", "Sample.Comment", Wraps(type, changes)),
            Verify.Diagnostic("CGEN031").WithLocation(2).WithArguments("Revision", "Sample.Note", Wraps(type, changes)));

    private static string Wraps(string type, string changes)
        => $"its type '{type}' wraps around after {changes} changes, and a version that wraps makes every later write look older than the cached one; use long (or int)";

    [Fact]
    public Task Key_member_that_is_also_the_version_is_reported()
        => Verify.AnalyzerAsync("""
            using CachingGen;
            namespace Sample;
            public sealed record Article([property: CacheKey, CacheVersion] long {|#0:Revision|}, string Title);
            [CachedRepository]
            public interface IRepo
            {
                [Cached] Task<Article?> GetAsync(long revision);
            }
            """,
            Verify.Diagnostic("CGEN031").WithLocation(0).WithArguments("Revision", "Sample.Article",
                "it is also a [CacheKey] member, and the key names the row, so it must stay the same while the version grows with every write (a write would move the entity to a new key and leave the old entry cached)"));

    [Fact]
    public Task Two_version_members_are_reported_on_both_also_across_base_types()
        => Verify.AnalyzerAsync("""
            using CachingGen;
            namespace Sample;
            public abstract class Row
            {
                [CacheVersion] public long {|#0:Version|} { get; init; }
            }
            public sealed class Article : Row
            {
                [CacheKey] public long Id { get; init; }
                [CacheVersion] public DateTime {|#1:UpdatedAt|} { get; init; }
            }
            [CachedRepository]
            public interface IRepo
            {
                [Cached] Task<Article?> GetAsync(long id);
            }
            """,
            Verify.Diagnostic("CGEN031").WithLocation(0).WithArguments("Version", "Sample.Article", "'Sample.Article' has 2 [CacheVersion] members (Version, UpdatedAt), and a row has one version"),
            Verify.Diagnostic("CGEN031").WithLocation(1).WithArguments("UpdatedAt", "Sample.Article", "'Sample.Article' has 2 [CacheVersion] members (Version, UpdatedAt), and a row has one version"));

    [Fact]
    public Task Members_generated_code_cannot_read_are_reported()
        => Verify.AnalyzerAsync("""
            using CachingGen;
            namespace Sample;
            public sealed class Article
            {
                [CacheKey] public long Id { get; set; }
                [CacheVersion] private long {|#0:version|} = 1;
                public long Version => version;
            }
            public sealed class Comment
            {
                [CacheKey] public long Id { get; set; }
                [CacheVersion] public long {|#1:Version|} { private get; set; }
            }
            [CachedRepository(KeyPrefix = "article")]
            public interface IArticles
            {
                [Cached] Task<Article?> GetAsync(long id);
            }
            [CachedRepository(KeyPrefix = "comment")]
            public interface IComments
            {
                [Cached] Task<Comment?> GetAsync(long id);
            }
            """,
            Verify.Diagnostic("CGEN031").WithLocation(0).WithArguments("version", "Sample.Article", "it is not readable from generated code (make it public or internal, with a public or internal getter)"),
            Verify.Diagnostic("CGEN031").WithLocation(1).WithArguments("Version", "Sample.Comment", "it is not readable from generated code (make it public or internal, with a public or internal getter)"));

    [Theory]
    [InlineData("long")]
    [InlineData("int")]
    [InlineData("uint")]
    [InlineData("DateTime")]
    [InlineData("DateTimeOffset")]
    public Task Near_miss_every_supported_version_type_is_fine(string type)
        => Verify.NoDiagnosticsAsync($$"""
            using CachingGen;
            namespace Sample;
            public sealed record Article([property: CacheKey] long Id, string Title, [property: CacheVersion] {{type}} Version);
            public sealed class Comment
            {
                [CacheKey] public long Id { get; set; }
                [CacheVersion] public {{type}} Version;
            }
            public readonly record struct Slot([property: CacheKey] int Id, [CacheVersion] {{type}} Version);
            [CachedRepository(KeyPrefix = "article")]
            public interface IArticles
            {
                [Cached] Task<Article?> GetAsync(long id);
                [WriteThrough] Task SaveAsync(Article article);
            }
            [CachedRepository(KeyPrefix = "comment")]
            public interface IComments
            {
                [Cached] Task<Comment?> GetAsync(long id);
                [Evict] Task DeleteAsync(long id);
            }
            [CachedRepository(KeyPrefix = "slot")]
            public interface ISlots
            {
                [Cached] Task<Slot> GetAsync(int id);
                [WriteThrough] Task SaveAsync(Slot slot);
            }
            """);
}
