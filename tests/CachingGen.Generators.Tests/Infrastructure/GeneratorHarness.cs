using System.Collections.Immutable;
using System.Reflection;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace CachingGen.Generators.Tests.Infrastructure;

/// <summary>
/// Builds compilations of test sources against the real runtime (every trusted platform assembly plus
/// MessagePack, the CachingGen runtime and the Microsoft.Extensions assemblies it references), runs incremental
/// generators with step tracking, and emits and loads the result for compile-and-run tests.
/// </summary>
public static class GeneratorHarness
{
    private static readonly Lazy<ImmutableArray<MetadataReference>> LazyReferences = new(BuildReferences);

    /// <summary>C# 12 (what Roslyn 4.8 supports), documentation comments diagnosed so CS1591 shows up.</summary>
    public static CSharpParseOptions ParseOptions { get; } =
        new CSharpParseOptions(LanguageVersion.CSharp12, DocumentationMode.Diagnose);

    /// <summary>The metadata references every test compilation gets.</summary>
    public static ImmutableArray<MetadataReference> References => LazyReferences.Value;

    /// <summary>Creates a library compilation (nullable enabled) of <paramref name="sources"/>, named Source0.cs, Source1.cs...</summary>
    public static CSharpCompilation CreateCompilation(params string[] sources)
        => CreateCompilation("TestAssembly_" + Guid.NewGuid().ToString("N"), sources);

    /// <summary>Creates a library compilation with the given assembly name.</summary>
    public static CSharpCompilation CreateCompilation(string assemblyName, IEnumerable<string> sources)
    {
        var trees = sources.Select((source, i) => CSharpSyntaxTree.ParseText(source, ParseOptions, path: "Source" + i + ".cs"));
        return CSharpCompilation.Create(
            assemblyName,
            trees,
            References,
            new CSharpCompilationOptions(
                OutputKind.DynamicallyLinkedLibrary,
                nullableContextOptions: NullableContextOptions.Enable,
                deterministic: true,
                // The SDK suppresses these unification notices by default; so do we.
                specificDiagnosticOptions: new Dictionary<string, ReportDiagnostic>
                {
                    ["CS1701"] = ReportDiagnostic.Suppress,
                    ["CS1702"] = ReportDiagnostic.Suppress,
                }));
    }

    /// <summary>Creates a driver for <paramref name="generators"/> that tracks incremental steps.</summary>
    public static GeneratorDriver CreateDriver(params IIncrementalGenerator[] generators)
        => CSharpGeneratorDriver.Create(
            generators.Select(GeneratorExtensions.AsSourceGenerator),
            parseOptions: ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>Compiles <paramref name="sources"/> and runs <paramref name="generators"/> once.</summary>
    public static GeneratorResult Run(IIncrementalGenerator[] generators, params string[] sources)
        => Run(CreateCompilation(sources), generators);

    /// <summary>Runs <paramref name="generators"/> once over <paramref name="compilation"/>.</summary>
    public static GeneratorResult Run(Compilation compilation, params IIncrementalGenerator[] generators)
        => Run(CreateDriver(generators), compilation);

    /// <summary>Runs <paramref name="driver"/> over <paramref name="compilation"/> (re-use a returned driver to test caching).</summary>
    public static GeneratorResult Run(GeneratorDriver driver, Compilation compilation)
    {
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
        return new GeneratorResult(compilation, output, driver, driver.GetRunResult(), generatorDiagnostics);
    }

    /// <summary>Emits <paramref name="compilation"/> and loads it into its own load context.</summary>
    /// <param name="compilation">Must have no errors.</param>
    /// <param name="collectible">Collectible by default; MessagePack's dynamic resolvers cannot see types in a
    /// collectible context, so tests that compare with them pass false.</param>
    public static LoadedAssembly EmitAndLoad(Compilation compilation, bool collectible = true)
    {
        using var stream = new MemoryStream();
        var emit = compilation.Emit(stream);
        if (!emit.Success)
        {
            throw new InvalidOperationException("Emit failed:\n" + string.Join("\n", emit.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));
        }

        stream.Position = 0;
        var context = new TestLoadContext(compilation.AssemblyName ?? "Test", collectible);
        return new LoadedAssembly(context, context.LoadFromStream(stream));
    }

    private static ImmutableArray<MetadataReference> BuildReferences()
    {
        var paths = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var trusted = (AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") as string ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        foreach (var path in trusted)
        {
            paths.TryAdd(Path.GetFileNameWithoutExtension(path), path);
        }

        // Explicit, in case the host's TPA list does not carry the application's own dependencies.
        Assembly[] explicitAssemblies =
        {
            typeof(MessagePack.MessagePackSerializer).Assembly,
            typeof(MessagePack.KeyAttribute).Assembly,
            typeof(CachingGen.CachedRepositoryAttribute).Assembly,
            typeof(Microsoft.Extensions.DependencyInjection.IServiceCollection).Assembly,
            typeof(Microsoft.Extensions.Logging.ILogger).Assembly,
            typeof(Microsoft.Extensions.Options.IOptions<>).Assembly,
            typeof(Microsoft.Extensions.Hosting.IHostedService).Assembly,
        };
        foreach (var assembly in explicitAssemblies)
        {
            paths[assembly.GetName().Name!] = assembly.Location;
        }

        return paths.Values.OrderBy(p => p, StringComparer.Ordinal)
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .ToImmutableArray();
    }

    /// <summary>Defers every dependency (CachingGen, MessagePack, the BCL) to the default context, so types are shared.</summary>
    private sealed class TestLoadContext(string name, bool collectible) : AssemblyLoadContext(name, collectible)
    {
        protected override Assembly? Load(AssemblyName assemblyName) => null;
    }
}

/// <summary>The outcome of one generator driver run.</summary>
public sealed class GeneratorResult(
    Compilation inputCompilation,
    Compilation outputCompilation,
    GeneratorDriver driver,
    GeneratorDriverRunResult runResult,
    ImmutableArray<Diagnostic> generatorDiagnostics)
{
    /// <summary>The compilation the generators ran on.</summary>
    public Compilation InputCompilation { get; } = inputCompilation;

    /// <summary>The input plus every generated tree.</summary>
    public Compilation OutputCompilation { get; } = outputCompilation;

    /// <summary>The updated driver; run it again on an edited compilation to test caching.</summary>
    public GeneratorDriver Driver { get; } = driver;

    /// <summary>The raw run result (tracked steps, exceptions).</summary>
    public GeneratorDriverRunResult RunResult { get; } = runResult;

    /// <summary>Diagnostics the generators reported.</summary>
    public ImmutableArray<Diagnostic> GeneratorDiagnostics { get; } = generatorDiagnostics;

    /// <summary>Generated source text by hint name (newlines as produced), across all generators.</summary>
    public IReadOnlyDictionary<string, string> Sources { get; } = runResult.Results
        .SelectMany(r => r.GeneratedSources)
        .ToDictionary(s => s.HintName, s => s.SourceText.ToString(), StringComparer.Ordinal);

    /// <summary>Exceptions thrown by generators (a generator must never throw).</summary>
    public IReadOnlyList<Exception> Exceptions { get; } = runResult.Results.Where(r => r.Exception is not null).Select(r => r.Exception!).ToList();

    /// <summary>Errors and warnings of the output compilation, anywhere.</summary>
    public IReadOnlyList<Diagnostic> CompilationDiagnostics => OutputCompilation.GetDiagnostics()
        .Where(d => d.Severity >= DiagnosticSeverity.Warning).ToList();

    /// <summary>Errors of the output compilation, anywhere.</summary>
    public IReadOnlyList<Diagnostic> CompilationErrors => CompilationDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();

    /// <summary>Errors and warnings located in generated trees (or without a location) — must be empty.</summary>
    public IReadOnlyList<Diagnostic> GeneratedCodeDiagnostics
    {
        get
        {
            var generatedTrees = new HashSet<SyntaxTree>(RunResult.GeneratedTrees);
            return CompilationDiagnostics
                .Where(d => d.Location.SourceTree is null || generatedTrees.Contains(d.Location.SourceTree))
                .ToList();
        }
    }

    /// <summary>The tracked steps of every generator, by tracking name.</summary>
    public IReadOnlyDictionary<string, ImmutableArray<IncrementalGeneratorRunStep>> TrackedSteps => RunResult.Results
        .SelectMany(r => r.TrackedSteps)
        .GroupBy(kv => kv.Key)
        .ToDictionary(g => g.Key, g => g.SelectMany(kv => kv.Value).ToImmutableArray());

    /// <summary>Fails with every problem listed when the generated code has errors/warnings or a generator threw.</summary>
    public GeneratorResult AssertCleanGeneratedCode()
    {
        var problems = Exceptions.Select(e => "generator exception: " + e)
            .Concat(CompilationErrors.Select(d => d.ToString()))
            .Concat(GeneratedCodeDiagnostics.Select(d => d.ToString()))
            .Distinct()
            .ToList();
        if (problems.Count > 0)
        {
            throw new Xunit.Sdk.XunitException("Generated code is not clean:\n" + string.Join("\n", problems));
        }

        return this;
    }

    /// <summary>Emits <see cref="OutputCompilation"/> and loads it.</summary>
    public LoadedAssembly EmitAndLoad(bool collectible = true) => GeneratorHarness.EmitAndLoad(OutputCompilation, collectible);
}

/// <summary>An assembly loaded by <see cref="GeneratorHarness.EmitAndLoad"/>; dispose to unload (when collectible).</summary>
public sealed class LoadedAssembly(AssemblyLoadContext context, Assembly assembly) : IDisposable
{
    /// <summary>The loaded assembly.</summary>
    public Assembly Assembly { get; } = assembly;

    /// <summary>Gets a type of the assembly by full name, failing when absent.</summary>
    public Type GetType(string fullName) => Assembly.GetType(fullName, throwOnError: true)!;

    /// <summary>Invokes a public static method, unwrapping <see cref="TargetInvocationException"/>.</summary>
    public object? Invoke(string typeName, string methodName, Type[]? typeArguments, params object?[] arguments)
    {
        var method = GetType(typeName).GetMethod(methodName, BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)
            ?? throw new MissingMethodException(typeName, methodName);
        if (typeArguments is { Length: > 0 })
        {
            method = method.MakeGenericMethod(typeArguments);
        }

        try
        {
            return method.Invoke(null, arguments);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            throw;
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (context.IsCollectible)
        {
            context.Unload();
        }
    }
}
