using Xunit;

namespace CachingGen.CodeFixes.Tests;

/// <summary>CGEN004 and CGEN026: time-to-live repairs.</summary>
public sealed class TtlCodeFixTests
{
    private const string Header = CachingGen.Generators.Tests.Infrastructure.CanonicalSample.Header;

    [Fact]
    public Task Removing_a_zero_ttl_falls_back_to_the_default()
        => Verify.FixAsync<TtlCodeFix>(Header + """
            [CachedRepository]
            public interface IRepo
            {
                [{|#0:Cached(Ttl = 0)|}] Task<Preference?> GetAsync(long userId);
            }
            """, Header + """
            [CachedRepository]
            public interface IRepo
            {
                [Cached] Task<Preference?> GetAsync(long userId);
            }
            """, TtlCodeFix.RemoveKey,
            Verify.Diagnostic("CGEN004").WithLocation(0));

    [Fact]
    public Task Removes_only_the_argument_the_diagnostic_is_about()
        => Verify.FixAsync<TtlCodeFix>(Header + """
            [CachedRepository]
            public interface IRepo
            {
                [{|#0:Cached(Ttl = 300, NullTtl = -1)|}] Task<Preference?> GetAsync(long userId);
            }
            """, Header + """
            [CachedRepository]
            public interface IRepo
            {
                [Cached(Ttl = 300)] Task<Preference?> GetAsync(long userId);
            }
            """, TtlCodeFix.RemoveKey,
            Verify.Diagnostic("CGEN004").WithLocation(0));

    [Fact]
    public Task Repository_default_ttl_is_fixed_on_the_interface_attribute()
        => Verify.FixAsync<TtlCodeFix>(Header + """
            [CachedRepository(KeyPrefix = "pref", DefaultTtl = -30)]
            public interface {|#0:IRepo|}
            {
                [Cached] Task<Preference?> GetAsync(long userId);
            }
            """, Header + """
            [CachedRepository(KeyPrefix = "pref")]
            public interface IRepo
            {
                [Cached] Task<Preference?> GetAsync(long userId);
            }
            """, TtlCodeFix.RemoveKey,
            Verify.Diagnostic("CGEN004").WithLocation(0));

    [Fact]
    public Task A_ttl_in_milliseconds_becomes_seconds()
        => Verify.FixAsync<TtlCodeFix>(Header + """
            [CachedRepository]
            public interface IRepo
            {
                [{|#0:Cached(Ttl = 86400000)|}] Task<Preference?> GetAsync(long userId);
            }
            """, Header + """
            [CachedRepository]
            public interface IRepo
            {
                [Cached(Ttl = 86400)] Task<Preference?> GetAsync(long userId);
            }
            """, TtlCodeFix.MillisecondsKey,
            Verify.Diagnostic("CGEN004").WithLocation(0));

    [Fact]
    public async Task A_very_long_ttl_offers_removal_milliseconds_and_thirty_days()
    {
        var actions = await Verify.OfferedActionsAsync<TtlCodeFix>(Header + """
            [CachedRepository]
            public interface IRepo
            {
                [Cached(Ttl = 5000000)] Task<Preference?> GetAsync(long userId);
            }
            """);
        Assert.Equal(["Remove 'Ttl = 5000000' (use the default)", "Use Ttl = 5000 (the value reads as milliseconds)", "Use Ttl = 30 days"], actions);
    }

    [Fact]
    public Task Fix_all_caps_every_very_long_ttl_at_thirty_days()
        => Verify.FixAsync<TtlCodeFix>(Header + """
            [CachedRepository(DefaultTtl = 5000001)]
            public interface {|#0:IRepo|}
            {
                [{|#1:Cached(Ttl = 2592001)|}] Task<Preference?> GetAsync(long userId);
                [{|#2:WriteAround(Ttl = 3000000)|}] Task TouchAsync(long userId);
            }
            """, Header + """
            [CachedRepository(DefaultTtl = 30 * 24 * 3600)]
            public interface IRepo
            {
                [Cached(Ttl = 30 * 24 * 3600)] Task<Preference?> GetAsync(long userId);
                [WriteAround(Ttl = 30 * 24 * 3600)] Task TouchAsync(long userId);
            }
            """, TtlCodeFix.ThirtyDaysKey,
            Verify.Diagnostic("CGEN026").WithLocation(0), Verify.Diagnostic("CGEN026").WithLocation(1), Verify.Diagnostic("CGEN026").WithLocation(2));
}
