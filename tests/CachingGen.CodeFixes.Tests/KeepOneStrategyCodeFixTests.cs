using Xunit;

namespace CachingGen.CodeFixes.Tests;

/// <summary>CGEN007: keep one strategy attribute, one action per strategy on the method.</summary>
public sealed class KeepOneStrategyCodeFixTests
{
    private const string Header = CachingGen.Generators.Tests.Infrastructure.CanonicalSample.Header;

    [Fact]
    public async Task Offers_each_strategy_in_source_order()
    {
        var actions = await Verify.OfferedActionsAsync<KeepOneStrategyCodeFix>(Header + """
            [CachedRepository]
            public interface IRepo
            {
                [WriteThrough, Obsolete("use UpsertAsync"), Evict] Task SaveAsync(Preference preference);
            }
            """);
        Assert.Equal(["Keep only [WriteThrough]", "Keep only [Evict]"], actions);
    }

    [Fact]
    public Task Keeping_the_first_removes_the_second_from_the_same_list()
        => Verify.FixAsync<KeepOneStrategyCodeFix>(Header + """
            [CachedRepository]
            public interface IRepo
            {
                [Cached] Task<Preference?> GetAsync(long userId);
                [WriteThrough, Evict] Task {|#0:SaveAsync|}(Preference preference);
            }
            """, Header + """
            [CachedRepository]
            public interface IRepo
            {
                [Cached] Task<Preference?> GetAsync(long userId);
                [WriteThrough] Task SaveAsync(Preference preference);
            }
            """, KeepOneStrategyCodeFix.EquivalenceKeyPrefix + "WriteThrough",
            Verify.Diagnostic("CGEN007").WithLocation(0));

    [Fact]
    public Task Keeping_the_second_removes_the_first_line_and_keeps_the_documentation_comment()
        => Verify.FixAsync<KeepOneStrategyCodeFix>(Header + """
            [CachedRepository]
            public interface IRepo
            {
                [Cached] Task<Preference?> GetAsync(long userId);

                /// <summary>Saves.</summary>
                [WriteBack(IdempotencyKey = nameof(Preference.Version))]
                [WriteThrough, Obsolete("old")]
                Task {|#0:SaveAsync|}(Preference preference);
            }
            """, Header + """
            [CachedRepository]
            public interface IRepo
            {
                [Cached] Task<Preference?> GetAsync(long userId);

                /// <summary>Saves.</summary>
                [WriteThrough, Obsolete("old")]
                Task SaveAsync(Preference preference);
            }
            """, KeepOneStrategyCodeFix.EquivalenceKeyPrefix + "WriteThrough",
            Verify.Diagnostic("CGEN007").WithLocation(0));

    [Fact]
    public Task Fix_all_keeps_the_chosen_strategy_everywhere()
        => Verify.FixAsync<KeepOneStrategyCodeFix>(Header + """
            [CachedRepository]
            public interface IRepo
            {
                [Cached] Task<Preference?> GetAsync(long userId);
                [WriteThrough, WriteAround] Task {|#0:SaveAsync|}(Preference preference);
                [WriteAround]
                [Evict]
                Task {|#1:TouchAsync|}(long userId);
                [WriteThrough] [WriteAround] Task {|#2:StoreAsync|}(Preference preference);
            }
            """, Header + """
            [CachedRepository]
            public interface IRepo
            {
                [Cached] Task<Preference?> GetAsync(long userId);
                [WriteAround] Task SaveAsync(Preference preference);
                [WriteAround]
                Task TouchAsync(long userId);
                [WriteAround] Task StoreAsync(Preference preference);
            }
            """, KeepOneStrategyCodeFix.EquivalenceKeyPrefix + "WriteAround",
            Verify.Diagnostic("CGEN007").WithLocation(0), Verify.Diagnostic("CGEN007").WithLocation(1), Verify.Diagnostic("CGEN007").WithLocation(2));
}
