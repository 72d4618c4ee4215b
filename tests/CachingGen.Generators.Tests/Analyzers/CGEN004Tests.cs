using Xunit;

namespace CachingGen.Generators.Tests.Analyzers;

/// <summary>CGEN004: a time to live is out of range.</summary>
public sealed class CGEN004Tests
{
    [Fact]
    public Task Zero_ttl_is_reported_on_the_attribute_with_the_formatted_message()
        => Verify.AnalyzerAsync(AnalyzerSamples.Header + """
            [CachedRepository]
            public interface IRepo
            {
                [{|#0:Cached(Ttl = 0)|}] Task<Preference?> GetAsync(long userId);
            }
            """,
            Verify.Diagnostic("CGEN004").WithLocation(0)
                .WithMessage("Ttl = 0 on 'GetAsync' is out of range: it must be a positive number of seconds."));

    [Fact]
    public Task More_than_a_year_and_negative_null_ttl_are_reported()
        => Verify.AnalyzerAsync(AnalyzerSamples.Header + """
            [CachedRepository]
            public interface IRepo
            {
                [{|#0:Cached(Ttl = 31622401, NullTtl = -1)|}] Task<Preference?> GetAsync(long userId);
                [{|#1:WriteAround(Ttl = -5)|}] Task TouchAsync(long userId);
            }
            """,
            Verify.Diagnostic("CGEN004").WithLocation(0)
                .WithMessage("Ttl = 31622401 on 'GetAsync' is out of range: it is more than a year; a cached entry that old is a bug waiting to happen. Use at most 31622400 seconds."),
            Verify.Diagnostic("CGEN004").WithLocation(0)
                .WithMessage("NullTtl = -1 on 'GetAsync' is out of range: it must be 0 (never cache \"not found\") or a positive number of seconds."),
            Verify.Diagnostic("CGEN004").WithLocation(1).WithArguments("Ttl", "-5", "TouchAsync", "it must be a positive number of seconds."));

    [Fact]
    public Task Repository_default_ttl_is_reported_on_the_interface()
        => Verify.AnalyzerAsync(AnalyzerSamples.Header + """
            [CachedRepository(DefaultTtl = 0)]
            public interface {|#0:IRepo|}
            {
                [Cached] Task<Preference?> GetAsync(long userId);
            }
            """,
            Verify.Diagnostic("CGEN004").WithLocation(0).WithArguments("DefaultTtl", "0", "IRepo", "it must be a positive number of seconds."));

    /// <summary>At the upper limit CGEN004 is silent; a year is still far beyond 30 days, which CGEN026 warns about.</summary>
    [Fact]
    public Task Near_miss_boundaries_are_not_errors()
        => Verify.AnalyzerAsync(AnalyzerSamples.Header + """
            [CachedRepository(DefaultTtl = 31622400)]
            public interface {|#0:IRepo|}
            {
                [Cached(Ttl = 1, NullTtl = 0)] Task<Preference?> GetAsync(long userId);
                [{|#1:WriteThrough(Ttl = 31622400)|}] Task SaveAsync(Preference preference);
                [WriteAround(Ttl = 1)] Task TouchAsync(long userId);
            }
            """,
            Verify.Diagnostic("CGEN026").WithLocation(0).WithArguments("DefaultTtl", "31622400", "IRepo", "366"),
            Verify.Diagnostic("CGEN026").WithLocation(1).WithArguments("Ttl", "31622400", "SaveAsync", "366"));
}
