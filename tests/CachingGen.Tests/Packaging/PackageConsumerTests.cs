using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace CachingGen.Tests.Packaging;

/// <summary>
/// Packs the CachingGen package and builds consumer projects against it with nothing but ONE package reference: the
/// attributes, the runtime, the generator with its analyzers and the code fixes must all arrive through it.
/// </summary>
public sealed class PackageConsumerTests(PackedPackage package) : IClassFixture<PackedPackage>
{
    [Fact]
    public async Task One_package_reference_brings_attributes_runtime_and_generator()
    {
        Assert.True(package.Packed, "dotnet pack failed:\n" + package.PackOutput);
        var entries = package.Entries();
        Assert.Contains("analyzers/dotnet/cs/CachingGen.Generators.dll", entries);
        Assert.Contains("analyzers/dotnet/cs/CachingGen.CodeFixes.dll", entries);
        Assert.Contains("lib/net8.0/CachingGen.dll", entries);
        foreach (var folder in new[] { "build", "buildTransitive" })
        {
            Assert.Contains(folder + "/CachingGen.targets", entries);
            Assert.Contains(folder + "/CachingGen.MessagePack.Substitutions.xml", entries);
        }

        var consumer = await package.CreateConsumerAsync("Consumer", "<OutputType>Exe</OutputType><TreatWarningsAsErrors>true</TreatWarningsAsErrors>",
            new Dictionary<string, string> { ["Program.cs"] = ConsumerProgram });
        var run = await PackedPackage.RunAsync("dotnet", "run -c Release", consumer);
        Assert.True(run.ExitCode == 0, "the consumer failed to build or run:\n" + run.Output);
        Assert.Contains("read-through hit: email v1", run.Output);
        Assert.Contains("write-back flushed: push v2", run.Output);
    }

    /// <summary>
    /// The package's targets hand the MessagePack substitution to the Native AOT compiler only when a project publishes
    /// with AOT and opts in (docs/aot.md); scripts/aot.sh proves the substitution itself on the quickstart.
    /// </summary>
    [Fact]
    public async Task Native_aot_substitution_is_passed_to_the_compiler_only_when_the_project_opts_in()
    {
        Assert.True(package.Packed, "dotnet pack failed:\n" + package.PackOutput);
        var consumer = await package.CreateConsumerAsync("AotConsumer", "<OutputType>Exe</OutputType>",
            new Dictionary<string, string> { ["Program.cs"] = "System.Console.WriteLine(1);" });
        var restore = await PackedPackage.RunAsync("dotnet", "restore -p:PublishAot=true", consumer);
        Assert.True(restore.ExitCode == 0, restore.Output);
        var optedIn = await PackedPackage.RunAsync("dotnet", "msbuild -getItem:IlcArg -p:PublishAot=true -p:CachingGenNativeAotMessagePackSubstitutions=true", consumer);
        Assert.True(optedIn.ExitCode == 0, optedIn.Output);
        Assert.Contains("--substitution:", optedIn.Output);
        Assert.Contains("CachingGen.MessagePack.Substitutions.xml", optedIn.Output);

        var notOptedIn = await PackedPackage.RunAsync("dotnet", "msbuild -getItem:IlcArg -p:PublishAot=true", consumer);
        Assert.True(notOptedIn.ExitCode == 0, notOptedIn.Output);
        Assert.DoesNotContain("CachingGen.MessagePack.Substitutions.xml", notOptedIn.Output);

        // An application that gets the package only through a library it references (buildTransitive).
        await package.CreateConsumerAsync("AotLibrary", "<OutputType>Library</OutputType>", new Dictionary<string, string> { ["Library.cs"] = "namespace AotLibrary; public static class Marker { }" });
        var application = await package.CreateConsumerAsync("AotApplication", "<OutputType>Exe</OutputType>",
            new Dictionary<string, string> { ["Program.cs"] = "System.Console.WriteLine(typeof(AotLibrary.Marker));" });
        await File.WriteAllTextAsync(Path.Combine(application, "AotApplication.csproj"), """
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
              </PropertyGroup>
              <ItemGroup>
                <ProjectReference Include="../AotLibrary/AotLibrary.csproj" />
              </ItemGroup>
            </Project>
            """);
        var transitiveRestore = await PackedPackage.RunAsync("dotnet", "restore -p:PublishAot=true", application);
        Assert.True(transitiveRestore.ExitCode == 0, transitiveRestore.Output);
        var transitive = await PackedPackage.RunAsync("dotnet", "msbuild -getItem:IlcArg -p:PublishAot=true -p:CachingGenNativeAotMessagePackSubstitutions=true", application);
        Assert.True(transitive.ExitCode == 0, transitive.Output);
        Assert.Contains("buildTransitive", transitive.Output);
        Assert.Contains("CachingGen.MessagePack.Substitutions.xml", transitive.Output);
    }

    /// <summary>
    /// A normal <c>dotnet build</c> reports the analyzer's warnings with their default severity (including CGEN027 on
    /// the generated registration), and <c>.editorconfig</c> raises one to a build error or silences it.
    /// </summary>
    [Fact]
    public async Task Analyzer_diagnostics_show_in_a_normal_build_and_follow_editorconfig()
    {
        Assert.True(package.Packed, "dotnet pack failed:\n" + package.PackOutput);
        var consumer = await package.CreateConsumerAsync("Diagnostics", "<OutputType>Library</OutputType>",
            new Dictionary<string, string> { ["Repository.cs"] = DiagnosticsSource });

        var build = await PackedPackage.RunAsync("dotnet", "build -c Release", consumer);
        Assert.True(build.ExitCode == 0, "warnings alone must not fail the build:\n" + build.Output);
        Assert.Contains("Repository.cs(10,22): warning CGEN013: 'UpdateAsync' is marked [WriteBack] without IdempotencyKey", build.Output);
        Assert.Contains("Repository.cs(22,91): warning CGEN027: 'AddCachedPreferenceRepository' registers 'Diagnostics.IPreferenceRepository'", build.Output);
        Assert.DoesNotContain("error", build.Output.Replace("0 Error(s)", string.Empty, StringComparison.Ordinal), StringComparison.OrdinalIgnoreCase);

        await File.WriteAllTextAsync(Path.Combine(consumer, ".editorconfig"), "root = true\n\n[*.cs]\ndotnet_diagnostic.CGEN013.severity = error\n");
        var escalated = await PackedPackage.RunAsync("dotnet", "build -c Release", consumer);
        Assert.True(escalated.ExitCode != 0, "CGEN013 = error must fail the build:\n" + escalated.Output);
        Assert.Contains("Repository.cs(10,22): error CGEN013:", escalated.Output);

        await File.WriteAllTextAsync(Path.Combine(consumer, ".editorconfig"), "root = true\n\n[*.cs]\ndotnet_diagnostic.CGEN013.severity = none\n");
        var silenced = await PackedPackage.RunAsync("dotnet", "build -c Release", consumer);
        Assert.True(silenced.ExitCode == 0, silenced.Output);
        Assert.DoesNotContain("CGEN013", silenced.Output);
        Assert.Contains("warning CGEN027", silenced.Output);
    }

    /// <summary>
    /// The code-fix assembly references only what a Roslyn host provides (Roslyn up to the 4.8 the package targets,
    /// MEF attributes, netstandard) and the generator assembly next to it; loaded from the package's folder the way an
    /// IDE loads analyzers, its fixers are found and one repairs a document end to end.
    /// </summary>
    [Fact]
    public async Task Code_fixes_load_from_the_package_folder_and_fix_a_document()
    {
        Assert.True(package.Packed, "dotnet pack failed:\n" + package.PackOutput);
        var analyzers = package.Extract("analyzers/dotnet/cs");
        AssertReferencesOnlyHostAssemblies(Path.Combine(analyzers, "CachingGen.CodeFixes.dll"), Directory.GetFiles(analyzers, "*.dll"));

        var loader = await package.CreateConsumerAsync("FixLoader", "<OutputType>Exe</OutputType><NoWarn>$(NoWarn);NU1603</NoWarn>",
            new Dictionary<string, string> { ["Program.cs"] = FixLoaderProgram },
            """<PackageReference Include="Microsoft.CodeAnalysis.CSharp.Workspaces" Version="4.8.0" />""");
        var run = await PackedPackage.RunAsync("dotnet", $"run -c Release -- \"{analyzers}\"", loader);
        Assert.True(run.ExitCode == 0, "the code-fix loader failed:\n" + run.Output);
        Assert.Contains("fixer AddIdempotencyKeyCodeFix: CGEN013", run.Output);
        Assert.Contains("fixer KeepOneStrategyCodeFix: CGEN007", run.Output);
        Assert.Contains("fixer ReturnTaskCodeFix: CGEN001", run.Output);
        Assert.Contains("fixer TtlCodeFix: CGEN004,CGEN026", run.Output);
        Assert.Contains("fixer InvalidateOnWriteAroundCodeFix: CGEN025", run.Output);
        Assert.Contains("fixed: [WriteBack(IdempotencyKey = nameof(Preference.Version))] Task UpdateAsync(Preference preference);", run.Output);
        Assert.Contains("loaded from the package folder: CachingGen.Generators", run.Output);
    }

    private static void AssertReferencesOnlyHostAssemblies(string assemblyPath, string[] siblings)
    {
        string[] hostProvided = ["netstandard", "System.Collections.Immutable", "System.Composition.AttributedModel", "System.Composition.Runtime",
            "Microsoft.CodeAnalysis", "Microsoft.CodeAnalysis.CSharp", "Microsoft.CodeAnalysis.Workspaces", "Microsoft.CodeAnalysis.CSharp.Workspaces"];
        var besideIt = siblings.Select(Path.GetFileNameWithoutExtension).ToHashSet(StringComparer.Ordinal);
        using var stream = File.OpenRead(assemblyPath);
        using var reader = new PEReader(stream);
        var metadata = reader.GetMetadataReader();
        var references = metadata.AssemblyReferences.Select(h => metadata.GetAssemblyReference(h)).ToList();
        Assert.NotEmpty(references);
        foreach (var reference in references)
        {
            var name = metadata.GetString(reference.Name);
            Assert.True(hostProvided.Contains(name) || besideIt.Contains(name), $"CachingGen.CodeFixes references '{name}', which neither a Roslyn host nor the package folder provides");
            if (name.StartsWith("Microsoft.CodeAnalysis", StringComparison.Ordinal))
            {
                Assert.True(reference.Version <= new Version(4, 8, 0, 0), $"{name} {reference.Version} is newer than the Roslyn 4.8 the package supports");
            }
        }

        Assert.Contains("CachingGen.Generators", references.Select(r => metadata.GetString(r.Name)));
    }

    private const string DiagnosticsSource = """
        using CachingGen;
        using Microsoft.Extensions.DependencyInjection;
        namespace Diagnostics;
        public sealed record Preference([property: CacheKey] long UserId, string Channel, bool Enabled, long Version);
        [CachedRepository(KeyPrefix = "pref")]
        public interface IPreferenceRepository
        {
            [Cached] ValueTask<Preference?> GetAsync(long userId, CancellationToken ct = default);
            // CGEN013 (warning): no idempotency key.
            [WriteBack] Task UpdateAsync(Preference preference, CancellationToken ct = default);
        }

        public abstract class PreferenceDatabase : IPreferenceRepository
        {
            public abstract ValueTask<Preference?> GetAsync(long userId, CancellationToken ct = default);
            public abstract Task UpdateAsync(Preference preference, CancellationToken ct = default);
        }

        public static class Startup
        {
            // CGEN027 (warning): a write-back repository, and no durable log chosen.
            public static void Configure(IServiceCollection services) => services.AddCachingGen().AddCachedPreferenceRepository<PreferenceDatabase>();
        }
        """;

    private const string FixLoaderProgram = """"
        using System.Collections.Immutable;
        using System.Reflection;
        using System.Runtime.Loader;
        using Microsoft.CodeAnalysis;
        using Microsoft.CodeAnalysis.CodeActions;
        using Microsoft.CodeAnalysis.CodeFixes;
        using Microsoft.CodeAnalysis.CSharp;
        using Microsoft.CodeAnalysis.Diagnostics;
        using Microsoft.CodeAnalysis.Text;

        // Loads the package's Roslyn assemblies from their folder, as an IDE does: CachingGen's own assemblies from the
        // folder, Roslyn and the BCL from the host.
        var folder = args[0];
        var context = new FolderLoadContext(folder);
        var fixAssembly = context.LoadFromAssemblyPath(Path.Combine(folder, "CachingGen.CodeFixes.dll"));
        var providers = fixAssembly.GetTypes()
            .Where(t => typeof(CodeFixProvider).IsAssignableFrom(t) && t.GetCustomAttribute<ExportCodeFixProviderAttribute>() is { } export && export.Languages.Contains(LanguageNames.CSharp))
            .Select(t => (CodeFixProvider)Activator.CreateInstance(t)!)
            .OrderBy(p => p.GetType().Name, StringComparer.Ordinal)
            .ToList();
        foreach (var provider in providers)
        {
            Console.WriteLine($"fixer {provider.GetType().Name}: {string.Join(",", provider.FixableDiagnosticIds)}");
        }

        var analyzerAssembly = context.LoadFromAssemblyName(new AssemblyName("CachingGen.Generators"));
        Console.WriteLine("loaded from the package folder: " + analyzerAssembly.GetName().Name + " (" + Path.GetDirectoryName(analyzerAssembly.Location) + ")");
        var analyzers = analyzerAssembly.GetTypes()
            .Where(t => typeof(DiagnosticAnalyzer).IsAssignableFrom(t) && !t.IsAbstract)
            .Select(t => (DiagnosticAnalyzer)Activator.CreateInstance(t)!)
            .ToImmutableArray();

        var references = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Append(typeof(CachingGen.CachedRepositoryAttribute).Assembly.Location)
            .Select(path => (MetadataReference)MetadataReference.CreateFromFile(path));
        using var workspace = new AdhocWorkspace();
        var project = workspace.AddProject(ProjectInfo.Create(ProjectId.CreateNewId(), VersionStamp.Default, "Fixme", "Fixme", LanguageNames.CSharp,
            compilationOptions: new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable),
            metadataReferences: references));
        var document = workspace.AddDocument(project.Id, "Repository.cs", SourceText.From("""
            using System.Threading.Tasks;
            using CachingGen;
            namespace Sample;
            public sealed record Preference([property: CacheKey] long UserId, string Channel, bool Enabled, long Version);
            [CachedRepository]
            public interface IPreferenceRepository
            {
                [Cached] Task<Preference?> GetAsync(long userId);
                [WriteBack] Task UpdateAsync(Preference preference);
            }
            """));
        var compilation = (await document.Project.GetCompilationAsync())!;
        var diagnostic = (await compilation.WithAnalyzers(analyzers).GetAnalyzerDiagnosticsAsync()).Single(d => d.Id == "CGEN013");
        var fix = providers.Single(p => p.FixableDiagnosticIds.Contains("CGEN013"));
        var actions = new List<CodeAction>();
        await fix.RegisterCodeFixesAsync(new CodeFixContext(document, diagnostic, (action, _) => actions.Add(action), CancellationToken.None));
        var change = (await actions[0].GetOperationsAsync(CancellationToken.None)).OfType<ApplyChangesOperation>().Single();
        var text = await change.ChangedSolution.GetDocument(document.Id)!.GetTextAsync();
        Console.WriteLine("fixed: " + text.ToString().Split('\n').Single(line => line.Contains("UpdateAsync")).Trim());

        sealed class FolderLoadContext(string folder) : AssemblyLoadContext("CachingGen analyzers")
        {
            protected override Assembly? Load(AssemblyName name)
            {
                var path = Path.Combine(folder, name.Name + ".dll");
                return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
            }
        }
        """";

    private const string ConsumerProgram = """
        using CachingGen;
        using CachingGen.Runtime;
        using Consumer;

        var options = new CachingGenOptions { RunWriteBackFlusher = false };
        await using var runtime = CachingGenRuntime.CreateInMemory(options);
        var database = new MemoryRepository();
        IPreferenceRepository repository = new CachedPreferenceRepository(database, runtime);

        await repository.SaveAsync(new Preference(1, "email", true, 1));
        var hit = await repository.GetAsync(1);
        Console.WriteLine($"read-through hit: {hit!.Channel} v{hit.Version} (database reads: {database.Reads})");
        if (database.Reads != 0) return 1;

        await repository.UpdateAsync(new Preference(1, "push", true, 2));
        await runtime.WriteBack.FlushAsync();
        Console.WriteLine($"write-back flushed: {database.Rows[1].Channel} v{database.Rows[1].Version}");
        return 0;

        namespace Consumer
        {
            public sealed record Preference([property: CacheKey] long UserId, string Channel, bool Enabled, long Version);

            [CachedRepository(KeyPrefix = "pref")]
            public interface IPreferenceRepository
            {
                [Cached(Ttl = 300)] ValueTask<Preference?> GetAsync(long userId, CancellationToken ct = default);
                [WriteThrough] Task SaveAsync(Preference preference, CancellationToken ct = default);
                [WriteBack(IdempotencyKey = nameof(Preference.Version))] Task UpdateAsync(Preference preference, CancellationToken ct = default);
            }

            public sealed class MemoryRepository : IPreferenceRepository
            {
                public Dictionary<long, Preference> Rows { get; } = new();
                public int Reads { get; private set; }
                public ValueTask<Preference?> GetAsync(long userId, CancellationToken ct = default)
                {
                    Reads++;
                    return new(Rows.GetValueOrDefault(userId));
                }
                public Task SaveAsync(Preference preference, CancellationToken ct = default) { Rows[preference.UserId] = preference; return Task.CompletedTask; }
                public Task UpdateAsync(Preference preference, CancellationToken ct = default) => SaveAsync(preference, ct);
            }
        }
        """;

}
