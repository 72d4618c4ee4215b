using Microsoft.CodeAnalysis;
using Xunit;

namespace CachingGen.Generators.Tests.Analyzers;

/// <summary>CGEN027: a repository with write-back methods registered without a durable write-back log (a warning at the registration).</summary>
public sealed class CGEN027Tests
{
    /// <summary>Two repositories, their database classes and registrations shaped like the generated ones, and a durable-log stand-in.</summary>
    private const string Declarations = """
        using CachingGen;
        using CachingGen.WriteBack;
        using Microsoft.Extensions.DependencyInjection;
        namespace Sample;
        public sealed record Preference([property: CacheKey] long UserId, string Channel, bool Enabled, long Version);

        [CachedRepository(KeyPrefix = "pref")]
        public interface IPreferences
        {
            [Cached] Task<Preference?> GetAsync(long userId);
            [WriteBack(IdempotencyKey = nameof(Preference.Version))] Task UpdateAsync(Preference preference);
        }

        [CachedRepository(KeyPrefix = "pref")]
        public interface IPreferenceReader
        {
            [Cached] Task<Preference?> GetAsync(long userId);
        }

        public abstract class PreferenceDb : IPreferences, IPreferenceReader
        {
            public abstract Task<Preference?> GetAsync(long userId);
            public abstract Task UpdateAsync(Preference preference);
        }

        public static class Registrations
        {
            public static CachingGenBuilder AddCachedPreferences<TInner>(this CachingGenBuilder builder) where TInner : class, IPreferences => builder;
            public static CachingGenBuilder AddCachedPreferenceReader<TInner>(this CachingGenBuilder builder) where TInner : class, IPreferenceReader => builder;
            public static CachingGenBuilder UseRedisWriteBackLog(this CachingGenBuilder builder, string configuration) => builder;
            public static CachingGenBuilder AddApplicationCaching(this CachingGenBuilder builder) => builder;
        }

        """;

    [Fact]
    public Task A_chain_without_a_log_choice_is_reported_at_the_registration()
        => Verify.AnalyzerAsync(Declarations + """
            public static class Startup
            {
                public static void Configure(IServiceCollection services)
                {
                    services.AddCachingGen(o => o.ShardCount = 2).AddCachedPreferenceReader<PreferenceDb>().{|#0:AddCachedPreferences<PreferenceDb>|}();
                }
            }
            """,
            Verify.Diagnostic("CGEN027").WithLocation(0).WithSeverity(DiagnosticSeverity.Warning)
                .WithMessage("'AddCachedPreferences' registers 'Sample.IPreferences', which has [WriteBack] methods, but this AddCachingGen(...) call registers no durable write-back log: acknowledged writes not yet flushed are lost when the process stops, and the runtime refuses to start. Call UseRedisWriteBackLog(...) on the builder, or UseInMemoryWriteBackLog() to accept the loss (tests, demos)."));

    [Fact]
    public Task A_builder_kept_in_a_variable_is_followed_too()
        => Verify.AnalyzerAsync(Declarations + """
            public static class Startup
            {
                public static void Configure(IServiceCollection services)
                {
                    var builder = services.AddCachingGen();
                    builder.{|#0:AddCachedPreferences<PreferenceDb>|}();
                }
            }
            """,
            Verify.Diagnostic("CGEN027").WithLocation(0).WithArguments("AddCachedPreferences", "Sample.IPreferences", "UseRedisWriteBackLog(...)"));

    [Theory]
    [InlineData("services.AddCachingGen().UseRedisWriteBackLog(\"localhost\").AddCachedPreferences<PreferenceDb>();")]
    [InlineData("services.AddCachingGen().AddCachedPreferences<PreferenceDb>().UseInMemoryWriteBackLog();")]
    [InlineData("services.AddCachingGen(o => o.AllowNonDurableWriteBack = true).AddCachedPreferences<PreferenceDb>();")]
    [InlineData("services.AddSingleton<IWriteBackLog>(provider => null!); services.AddCachingGen().AddCachedPreferences<PreferenceDb>();")]
    [InlineData("services.AddCachingGen().AddApplicationCaching().AddCachedPreferences<PreferenceDb>();")]
    [InlineData("services.AddCachingGen().AddCachedPreferenceReader<PreferenceDb>();")]
    public Task Near_miss_an_explicit_log_choice_or_no_write_back_is_fine(string body)
        => Verify.NoDiagnosticsAsync(Declarations + """
            public static class Startup
            {
                public static void Configure(IServiceCollection services)
                {
                    BODY
                }
            }
            """.Replace("BODY", body, StringComparison.Ordinal));

    [Fact]
    public Task Near_miss_a_registration_away_from_AddCachingGen_is_left_to_the_runtime()
        => Verify.NoDiagnosticsAsync(Declarations + """
            public static class Startup
            {
                public static void Configure(IServiceCollection services) => AddRepositories(services.AddCachingGen());

                private static void AddRepositories(CachingGenBuilder builder) => builder.AddCachedPreferences<PreferenceDb>();
            }
            """);

    [Fact]
    public async Task Editorconfig_can_raise_it_to_an_error_or_silence_it()
    {
        var plain = Declarations + """
            public static class Startup
            {
                public static void Configure(IServiceCollection services) => services.AddCachingGen().AddCachedPreferences<PreferenceDb>();
            }
            """;
        var diagnostic = Assert.Single(await EditorconfigRun.AnalyzeAsync(plain, "CGEN027", "error"));
        Assert.True(EditorconfigRun.IsBuildError(diagnostic), diagnostic.ToString());
        Assert.Empty(await EditorconfigRun.AnalyzeAsync(plain, "CGEN027", "none"));
    }
}
