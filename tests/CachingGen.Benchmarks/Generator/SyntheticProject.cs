using System.Collections.Immutable;
using System.Globalization;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace CachingGen.Benchmarks.Generator;

/// <summary>
/// A project of <c>count</c> annotated repository interfaces (one file each: an entity record and an interface using
/// every strategy), compiled against the real CachingGen runtime. The same files without any CachingGen attribute are
/// the baseline of the compile-time benchmark.
/// </summary>
public sealed class SyntheticProject
{
    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.CSharp12);

    private static readonly Lazy<ImmutableArray<MetadataReference>> LazyReferences = new(BuildReferences);

    /// <param name="count">How many repository files.</param>
    /// <param name="annotated">Whether the CachingGen attributes are there.</param>
    /// <param name="passThrough">Whether each file also holds a hand-written decorator that only forwards every call
    /// to the inner repository: the least code any decorator of these interfaces must add, for the compile-time
    /// benchmark's floor.</param>
    public SyntheticProject(int count, bool annotated, bool passThrough = false)
    {
        Trees = Enumerable.Range(0, count)
            .Select(i => CSharpSyntaxTree.ParseText(Source(i, annotated) + (passThrough ? PassThrough(i) : string.Empty), ParseOptions, path: $"Repository{i}.cs"))
            .Append(CSharpSyntaxTree.ParseText(Unrelated(0), ParseOptions, path: "Unrelated.cs"))
            .ToImmutableArray();
    }

    /// <summary>The files; the last one is unrelated to caching (what the incremental benchmark edits).</summary>
    public ImmutableArray<SyntaxTree> Trees { get; }

    public SyntaxTree UnrelatedTree => Trees[^1];

    public static ImmutableArray<MetadataReference> References => LazyReferences.Value;

    /// <summary>A new compilation of the files (compilations compute lazily: each benchmark call starts from scratch).</summary>
    /// <param name="newTrees">Whether the compilation gets new tree objects over the same parsed roots, so that nothing a
    /// generator remembers per tree carries over, as in a compiler's first run (parsing itself is not counted).</param>
    public CSharpCompilation CreateCompilation(bool newTrees = false) => CSharpCompilation.Create(
        "Synthetic",
        newTrees ? Trees.Select(NewTreeOf).ToImmutableArray() : Trees,
        References,
        new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable,
            optimizationLevel: OptimizationLevel.Release, deterministic: true));

    private static SyntaxTree NewTreeOf(SyntaxTree tree)
    {
        var copy = CSharpSyntaxTree.Create((CSharpSyntaxNode)tree.GetRoot(), (CSharpParseOptions)tree.Options, tree.FilePath, tree.Encoding);
        return ReferenceEquals(copy, tree) ? throw new InvalidOperationException("Roslyn returned the same syntax tree object.") : copy;
    }

    /// <summary>An edit that touches no annotated type: the unrelated file with another constant in a property's body.</summary>
    public static SyntaxTree UnrelatedEdit(int version) => CSharpSyntaxTree.ParseText(Unrelated(version), ParseOptions, path: "Unrelated.cs");

    /// <summary>
    /// An edit of a declaration that no annotated type uses: the unrelated file with one more property, so what the
    /// project declares changes (the generators' declaration snapshot with it), while no repository's model does.
    /// </summary>
    public static SyntaxTree UnrelatedDeclarationEdit(int version) => CSharpSyntaxTree.ParseText(
        Unrelated(0, "public static int Version" + version.ToString(CultureInfo.InvariantCulture) + " => 0;"), ParseOptions, path: "Unrelated.cs");

    /// <summary>A new type that no annotated type names: the unrelated file with one more class.</summary>
    public static SyntaxTree UnrelatedTypeEdit(int version) => CSharpSyntaxTree.ParseText(
        Unrelated(0) + "\nnamespace Synthetic.Tools { public static class Extra" + version.ToString(CultureInfo.InvariantCulture) + " { } }\n", ParseOptions, path: "Unrelated.cs");

    private static string Unrelated(int version, string extraMember = "") => $$"""
        namespace Synthetic.Tools
        {
            public static class Clock
            {
                public static int Version => {{version.ToString(CultureInfo.InvariantCulture)}};
                {{extraMember}}
            }
        }
        """;

    private static string PassThrough(int i)
    {
        var n = i.ToString(CultureInfo.InvariantCulture);
        return $$"""

            namespace Synthetic.Area{{n}}
            {
                public sealed class PassThroughRepository{{n}}(IRepository{{n}} inner) : IRepository{{n}}
                {
                    public ValueTask<Entity{{n}}?> GetAsync(long id, CancellationToken ct = default) => inner.GetAsync(id, ct);

                    public Task SaveAsync(Entity{{n}} entity, CancellationToken ct = default) => inner.SaveAsync(entity, ct);

                    public Task SaveManyAsync(IReadOnlyList<Entity{{n}}> entities, CancellationToken ct = default) => inner.SaveManyAsync(entities, ct);

                    public Task UpdateAsync(Entity{{n}} entity, CancellationToken ct = default) => inner.UpdateAsync(entity, ct);

                    public Task DeleteAsync(long id, CancellationToken ct = default) => inner.DeleteAsync(id, ct);

                    public Task<int> CountAsync(CancellationToken ct = default) => inner.CountAsync(ct);
                }
            }
            """;
    }

    private static string Source(int i, bool annotated)
    {
        string A(string attribute) => annotated ? attribute : string.Empty;
        var n = i.ToString(CultureInfo.InvariantCulture);
        return $$"""
            using System.Collections.Generic;
            using System.Threading;
            using System.Threading.Tasks;
            using CachingGen;

            namespace Synthetic.Area{{n}}
            {
                public enum Kind{{n}} { First, Second }

                public sealed record Item{{n}}(string Label, int Quantity, decimal Price);

                public sealed record Entity{{n}}({{A("[property: CacheKey] ")}}long Id, string Name, Kind{{n}} Kind, IReadOnlyList<Item{{n}}> Items, long Version);

                {{A($"[CachedRepository(KeyPrefix = \"e{n}\")]")}}
                public interface IRepository{{n}}
                {
                    {{A("[Cached(Ttl = 300, NullTtl = 30)]")}}
                    ValueTask<Entity{{n}}?> GetAsync(long id, CancellationToken ct = default);

                    {{A("[WriteThrough]")}}
                    Task SaveAsync(Entity{{n}} entity, CancellationToken ct = default);

                    {{A("[WriteAround(Ttl = 30)]")}}
                    Task SaveManyAsync(IReadOnlyList<Entity{{n}}> entities, CancellationToken ct = default);

                    {{A($"[WriteBack(IdempotencyKey = nameof(Entity{n}.Version))]")}}
                    Task UpdateAsync(Entity{{n}} entity, CancellationToken ct = default);

                    {{A("[Evict]")}}
                    Task DeleteAsync(long id, CancellationToken ct = default);

                    Task<int> CountAsync(CancellationToken ct = default);
                }
            }
            """;
    }

    /// <summary>The framework, MessagePack, the CachingGen runtime and the Microsoft.Extensions assemblies it uses;
    /// not the benchmark host's own dependencies (Roslyn, BenchmarkDotNet...), which a real project would not reference.</summary>
    private static ImmutableArray<MetadataReference> BuildReferences()
    {
        var trusted = (AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") as string ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        var frameworkDirectory = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        var paths = trusted.Where(path => string.Equals(Path.GetDirectoryName(path), frameworkDirectory, StringComparison.Ordinal)).ToList();
        paths.Add(typeof(MessagePack.MessagePackSerializer).Assembly.Location);
        paths.Add(typeof(MessagePack.KeyAttribute).Assembly.Location);
        paths.Add(typeof(CachedRepositoryAttribute).Assembly.Location);
        paths.Add(typeof(Microsoft.Extensions.DependencyInjection.IServiceCollection).Assembly.Location);
        paths.Add(typeof(Microsoft.Extensions.Logging.ILogger).Assembly.Location);
        paths.Add(typeof(Microsoft.Extensions.Options.IOptions<>).Assembly.Location);
        paths.Add(typeof(Microsoft.Extensions.Hosting.IHostedService).Assembly.Location);
        return paths.Distinct(StringComparer.Ordinal).OrderBy(p => p, StringComparer.Ordinal)
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .ToImmutableArray();
    }
}
