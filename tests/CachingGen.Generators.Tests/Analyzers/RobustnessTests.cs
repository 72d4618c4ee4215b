using System.Collections.Concurrent;
using System.Collections.Immutable;
using CachingGen.Generators.Analyzers;
using CachingGen.Generators.Decorators;
using CachingGen.Generators.Formatters;
using CachingGen.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Xunit;

namespace CachingGen.Generators.Tests.Analyzers;

/// <summary>
/// Broken and half-typed code, as an IDE sees it between keystrokes: neither generator may throw, and the analyzer
/// may not throw (no AD0001, no exception reported to <c>onAnalyzerException</c>).
/// </summary>
public sealed class RobustnessTests
{
    private const string Usings = """
        using System;
        using System.Collections.Generic;
        using System.Threading;
        using System.Threading.Tasks;
        using CachingGen;
        using MessagePack;
        namespace Sample;
        public sealed record Preference([property: CacheKey] long UserId, string Channel, bool Enabled, long Version);

        """;

    public static TheoryData<string, string> BrokenSources => new()
    {
        { "missing closing braces", """
            [CachedRepository(KeyPrefix = "pref")]
            public interface IRepo
            {
                [Cached] Task<Preference?> GetAsync(long userId
                [WriteThrough] Task SaveAsync(Preference preference
            """ },
        { "unresolved types", """
            [CachedRepository]
            public interface IRepo
            {
                [Cached] Task<Unknown?> GetAsync(Missing id);
                [WriteThrough] Task SaveAsync(Missing entity, Unknown<int> other);
                [WriteBack(IdempotencyKey = nameof(Missing.Version))] Task UpdateAsync(Missing entity);
                [Evict] Task DeleteAsync(IReadOnlyList<Missing> ids);
                [Cached] Missing.Task<Preference?> OtherAsync(long userId);
            }
            """ },
        { "attribute arguments of the wrong type", """
            [CachedRepository(KeyPrefix = 5, DefaultTtl = "a day")]
            public interface IRepo
            {
                [Cached(Ttl = "x", NullTtl = null)] Task<Preference?> GetAsync(long userId);
                [WriteBack(IdempotencyKey = 5)] Task UpdateAsync(Preference preference);
                [WriteAround(Invalidate = "yes", Ttl = 1.5)] Task TouchAsync(long userId);
                [WriteThrough(Ttl = )] Task SaveAsync(Preference preference);
                [Evict(42)] Task DeleteAsync(long userId);
            }
            """ },
        { "syntax errors in the middle of the interface", """
            [CachedRepository]
            public interface IRepo
            {
                [Cached] Task<Preference?> GetAsync(long userId);
                [WriteThrough] Task SaveAsync(Preference preference %% ;
                [Cached] Task<
                [WriteBack(IdempotencyKey = nameof(Preference.))] Task UpdateAsync(Preference preference);
                int = 5;
                [Evict] Task DeleteAsync(long userId);
            }
            """ },
        { "CacheKey on static members", """
            public sealed class Item
            {
                [CacheKey] public static long Id { get; set; }
                [CacheKey] public static readonly string Code = "";
                public string Name { get; set; } = "";
            }
            public sealed record Other([property: CacheKey] long Id)
            {
                [CacheKey] public static int Counter;
            }
            [CachedRepository]
            public interface IRepo
            {
                [Cached] Task<Item?> GetAsync(long id);
                [WriteThrough] Task SaveAsync(Item item);
            }
            [CachedRepository]
            public interface IOtherRepo
            {
                [Cached] Task<Other?> GetAsync(long id);
            }
            """ },
        { "record without members", """
            public sealed record Empty;
            public sealed record Keyless();
            [CachedRepository]
            public interface IRepo
            {
                [Cached] Task<Empty?> GetAsync();
                [WriteThrough] Task SaveAsync(Empty empty);
                [WriteBack(IdempotencyKey = "Version")] Task UpdateAsync(Keyless keyless);
            }
            """ },
        { "CachedRepository on a class, a struct, an enum and a delegate", """
            [CachedRepository] public class Repo { [Cached] public Task<Preference?> GetAsync(long userId) => null!; }
            [CachedRepository] public struct Value { [Evict] public Task DeleteAsync(long userId) => Task.CompletedTask; }
            [CachedRepository] public enum Kind { A }
            [CachedRepository] public delegate Task<Preference?> Getter(long userId);
            """ },
        { "cyclic and generic interfaces", """
            public sealed record Box<T>([property: CacheKey] long Id, T Value);
            [CachedRepository] public interface IA : IB { [Cached] Task<Preference?> GetAsync(long userId); }
            [CachedRepository] public interface IB : IA { [Evict] Task DeleteAsync(long userId); }
            [CachedRepository] public interface IGeneric<T> { [Cached] Task<Box<T>?> GetAsync(long id); [WriteThrough] Task SaveAsync(Box<T> box); [Cached] Task<T> RawAsync(long id); }
            [CachedRepository] public interface IClosed : IGeneric<Preference> { }
            """ },
        { "unresolved and odd key and member types", """
            public sealed record Item([property: CacheKey] Missing Id, [property: CacheKey] dynamic Other, Unknown Value, int* Pointer);
            public sealed record Pair([property: CacheKey] (int, string) Id, Span<int> Values);
            [CachedRepository]
            public interface IRepo
            {
                [Cached] Task<Item?> GetAsync(Missing id, dynamic other);
                [Cached] Task<Pair?> GetPairAsync((int, string) id);
            }
            """ },
        { "bad MessagePack keys", """
            [MessagePackObject]
            public sealed class Keyed
            {
                [Key("a"), CacheKey] public long Id { get; set; }
                [Key(0)] public string A { get; set; } = "";
                [Key(null)] public string B { get; set; } = "";
                [Key(-1)] public string C { get; set; } = "";
                [Key] public string D { get; set; } = "";
                [Key(0)] public string E { get; set; } = "";
            }
            [CachedRepository] public interface IRepo { [Cached] Task<Keyed?> GetAsync(long id); }
            """ },
        { "odd parameters, defaults and members", """
            public enum Mode { A, B }
            [CachedRepository]
            public interface IRepo
            {
                [Cached] Task<Preference?> GetAsync(long userId = "x", CancellationToken ct = 5);
                [Evict] Task DeleteAsync(long userId, Mode mode = (Mode)7, params object[] rest);
                [WriteThrough] Task SaveAsync(Preference preference, decimal amount = 1.5m, double ratio = double.NaN, char c = '\0', string? s = null);
                [Cached] ValueTask<Preference?> this[long id] { get; }
                [Cached] event EventHandler? Changed;
                [Cached] static Task<Preference?> StaticAsync(long userId) => null!;
                [Cached] Task<Preference?> GetAsync(long userId);
                [Cached] Task<Preference?> GetAsync(long userId);
                [Cached] unsafe Task<Preference?> PointerAsync(int* userId);
                [Cached] Task<Preference?> DefaultBodyAsync(long userId) => Task.FromResult<Preference?>(null);
            }
            """ },
        { "write-back log registrations, half typed", """
            [CachedRepository(KeyPrefix = "pref")]
            public interface IRepo
            {
                [Cached] Task<Preference?> GetAsync(long userId);
                [WriteBack(IdempotencyKey = nameof(Preference.Version))] Task UpdateAsync(Preference preference, List<Missing> tags, int[ scores);
                [WriteAround(Invalidate = false, Ttl = )] Task TouchAsync(long userId);
            }
            public static class Startup
            {
                public static void Configure(Microsoft.Extensions.DependencyInjection.IServiceCollection services)
                {
                    services.AddCachingGen(o => o.AllowNonDurableWriteBack = ).AddCached<;
                    var builder = services.AddCachingGen(;
                    builder.AddRepository<IRepo, >(null, null, );
                    Missing.AddCachingGen().AddRepository<IRepo, Missing>((inner, runtime) => inner, null, default);
                    AddCachingGen().UseRedisWriteBackLog(;
                }
            }
            """ },
        { "key spaces, mutable members and long lifetimes with broken parts", """
            public sealed class Bag { [CacheKey] public long Id { get; set; } public List<Missing> Items { get; set; } = null!; public int[,] Grid = null!; public long Version; }
            [CachedRepository(KeyPrefix = "x")] public interface IA { [Cached] Task<Preference?> GetAsync(long userId); [WriteThrough] Task SaveAsync(Preference preference); }
            [CachedRepository(KeyPrefix = "x")] public interface IB { [Cached] Task<Missing?> GetAsync(long id); [WriteBack] Task UpdateAsync(Missing missing); }
            [CachedRepository(KeyPrefix = null)] public interface IC { [Cached(Ttl = 2592001)] Task<Preference?> GetAsync(long userId); [Evict] Task DeleteAsync(long userId) }
            [CachedRepository(DefaultTtl = 9999999)]
            public interface ID
            {
                [WriteBack(IdempotencyKey = nameof(Bag.Version))] Task UpdateAsync(Bag bag, Dictionary<string, > map);
                [Cached(Ttl = 999999999)] Task<Bag?> GetAsync(long id);
                [WriteAround(Invalidate = false)] Task TouchAsync(long id);
                [WriteThrough] Task SaveAsync(Bag bag);
            }
            """ },
        { "attributes only, half typed", """
            [CachedRepository(
            public interface
            {
                [Cached(
                [WriteBack(IdempotencyKey = nameof(
            """ },
    };

    [Theory]
    [MemberData(nameof(BrokenSources))]
    public async Task Generators_and_analyzer_do_not_throw(string name, string body)
    {
        var source = Usings + body;
        var result = GeneratorHarness.Run([new DecoratorGenerator(), new FormatterGenerator()], source);
        Assert.True(result.Exceptions.Count == 0, name + ": generator threw:\n" + string.Join("\n", result.Exceptions));
        Assert.DoesNotContain(result.GeneratorDiagnostics, d => d.Id is "CS8784" or "CS8785");

        foreach (var compilation in new[] { result.InputCompilation, result.OutputCompilation })
        {
            var exceptions = new ConcurrentQueue<string>();
            var options = new CompilationWithAnalyzersOptions(
                new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty),
                onAnalyzerException: (exception, analyzer, diagnostic) => exceptions.Enqueue(analyzer + ": " + exception),
                concurrentAnalysis: true,
                logAnalyzerExecutionTime: false,
                reportSuppressedDiagnostics: false);
            var diagnostics = await compilation
                .WithAnalyzers(ImmutableArray.Create<DiagnosticAnalyzer>(new RepositoryAnalyzer()), options)
                .GetAllDiagnosticsAsync();

            Assert.True(exceptions.IsEmpty, name + ": analyzer threw:\n" + string.Join("\n", exceptions));
            Assert.DoesNotContain(diagnostics, d => d.Id == "AD0001");
            Assert.True(compilation == result.OutputCompilation || diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error), name + ": broken code should not compile cleanly");
        }
    }

    /// <summary>The analyzer also survives cancellation mid-analysis (no AD0001 besides the cancellation).</summary>
    [Fact]
    public async Task Analyzer_honours_cancellation()
    {
        var compilation = GeneratorHarness.CreateCompilation(AnalyzerTest.GlobalUsings, AnalyzerSamples.Canonical);
        using var cancellation = new CancellationTokenSource();
        await cancellation.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => compilation
            .WithAnalyzers(ImmutableArray.Create<DiagnosticAnalyzer>(new RepositoryAnalyzer()), (AnalyzerOptions?)null)
            .GetAnalyzerDiagnosticsAsync(cancellation.Token));
    }
}
