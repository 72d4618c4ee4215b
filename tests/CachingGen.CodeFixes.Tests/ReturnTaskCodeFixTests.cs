using Xunit;

namespace CachingGen.CodeFixes.Tests;

/// <summary>CGEN001: a synchronous caching method gets a Task- or ValueTask-returning signature.</summary>
public sealed class ReturnTaskCodeFixTests
{
    private const string Header = CachingGen.Generators.Tests.Infrastructure.CanonicalSample.Header;

    [Fact]
    public async Task Offers_task_and_value_task()
    {
        var actions = await Verify.OfferedActionsAsync<ReturnTaskCodeFix>(Header + """
            [CachedRepository]
            public interface IRepo
            {
                [Cached] Preference? Get(long userId);
            }
            """);
        Assert.Equal(["Return Task<Preference?>", "Return ValueTask<Preference?>"], actions);
    }

    [Fact]
    public Task A_synchronous_read_returns_a_value_task_of_the_entity()
        => Verify.FixAsync<ReturnTaskCodeFix>(Header + """
            [CachedRepository]
            public interface IRepo
            {
                [Cached(Ttl = 60)] Preference? {|#0:Get|}(long userId);
            }
            """, Header + """
            [CachedRepository]
            public interface IRepo
            {
                [Cached(Ttl = 60)] ValueTask<Preference?> Get(long userId);
            }
            """, ReturnTaskCodeFix.ValueTaskKey,
            Verify.Diagnostic("CGEN001").WithLocation(0));

    [Fact]
    public Task Fix_all_turns_void_into_task_and_wraps_other_types()
        => Verify.FixAsync<ReturnTaskCodeFix>(Header + """
            [CachedRepository]
            public interface IRepo
            {
                [Cached] Preference? {|#0:Get|}(long userId);
                [Evict] void {|#1:Delete|}(long userId);
                [WriteThrough]
                void {|#2:Save|}(Preference preference);
            }
            """, Header + """
            [CachedRepository]
            public interface IRepo
            {
                [Cached] Task<Preference?> Get(long userId);
                [Evict] Task Delete(long userId);
                [WriteThrough]
                Task Save(Preference preference);
            }
            """, ReturnTaskCodeFix.TaskKey,
            Verify.Diagnostic("CGEN001").WithLocation(0), Verify.Diagnostic("CGEN001").WithLocation(1), Verify.Diagnostic("CGEN001").WithLocation(2));

    [Fact]
    public Task Where_Task_means_something_else_the_type_is_qualified()
        => Verify.FixAsync<ReturnTaskCodeFix>(BlockHeader + """
                using Task = System.String;
                [CachedRepository]
                public interface IRepo
                {
                    [Cached] System.Threading.Tasks.Task<Preference?> GetAsync(long userId);
                    [Evict] void {|#0:Delete|}(long userId);
                }
            }
            """, BlockHeader + """
                using Task = System.String;
                [CachedRepository]
                public interface IRepo
                {
                    [Cached] System.Threading.Tasks.Task<Preference?> GetAsync(long userId);
                    [Evict] System.Threading.Tasks.Task Delete(long userId);
                }
            }
            """, ReturnTaskCodeFix.TaskKey,
            Verify.Diagnostic("CGEN001").WithLocation(0));

    private const string BlockHeader = """
        using CachingGen;
        namespace Sample
        {
            public sealed record Preference([property: CacheKey] long UserId, string Channel, bool Enabled, long Version);
        }
        namespace Sample.Inner
        {
        """;
}
