using Xunit;

namespace CachingGen.CodeFixes.Tests;

/// <summary>CGEN025: a write-around without invalidation starts invalidating again.</summary>
public sealed class InvalidateOnWriteAroundCodeFixTests
{
    private const string Header = CachingGen.Generators.Tests.Infrastructure.CanonicalSample.Header;

    [Fact]
    public Task Removes_invalidate_false_and_fix_all_does_every_method()
        => Verify.FixAsync<InvalidateOnWriteAroundCodeFix>(Header + """
            [CachedRepository]
            public interface IRepo
            {
                [Cached(Ttl = 3600)] Task<Preference?> GetAsync(long userId);
                [{|#0:WriteAround(Ttl = 30, Invalidate = false)|}] Task TouchAsync(long userId);
                [{|#1:WriteAround(Invalidate = false)|}] Task SaveManyAsync(IReadOnlyList<Preference> preferences);
            }
            """, Header + """
            [CachedRepository]
            public interface IRepo
            {
                [Cached(Ttl = 3600)] Task<Preference?> GetAsync(long userId);
                [WriteAround(Ttl = 30)] Task TouchAsync(long userId);
                [WriteAround] Task SaveManyAsync(IReadOnlyList<Preference> preferences);
            }
            """, InvalidateOnWriteAroundCodeFix.EquivalenceKey,
            Verify.Diagnostic("CGEN025").WithLocation(0), Verify.Diagnostic("CGEN025").WithLocation(1));
}
