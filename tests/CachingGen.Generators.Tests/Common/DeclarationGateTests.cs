using System.Runtime.CompilerServices;
using CachingGen.Generators.Common;
using CachingGen.Generators.Decorators;
using CachingGen.Generators.Formatters;
using CachingGen.Generators.Tests.Decorators;
using CachingGen.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace CachingGen.Generators.Tests.Common;

/// <summary>
/// The generators start from a <see cref="DeclarationSnapshot"/>: an edit inside a body leaves every step cached,
/// and every edit that can change a symbol the parsers read (a declaration in any file, a directive, a reference,
/// an option) runs them again.
/// </summary>
public sealed class DeclarationGateTests
{
    private const string Entity = """
        using CachingGen;
        namespace Sample;
        public sealed record Profile([property: CacheKey] long Id, string Name)
        {
            public static int Helper() => 1;
        }
        """;

    private const string Repository = """
        using CachingGen;
        namespace Sample.Repositories;
        [CachedRepository]
        public interface IProfiles
        {
            [Cached] Task<Profile?> GetAsync(long id, CancellationToken ct = default);
            [WriteThrough] Task SaveAsync(Profile profile, CancellationToken ct = default);
        }
        """;

    private const string Unrelated = """
        namespace Sample.Repositories;
        internal static class Clock
        {
            public static int Now => 1;
        }
        """;

    private static readonly string[] ModelSteps = { DecoratorTrackingNames.Models, TrackingNames.RepositoryModels };

    private static readonly string[] SnapshotSteps = { DecoratorTrackingNames.Declarations, TrackingNames.Declarations };

    public static TheoryData<string, string> BodyOnlyEdits => new()
    {
        { "class C { void M() { var x = 1; } }", "class C { void M() { var x = 2; Call(); } }" },
        { "class C { int M() => 1; }", "class C { int M() => 2 + 3; }" },
        { "class C { int P => 1; }", "class C { int P => 2; }" },
        { "class C { int P { get { return 1; } } }", "class C { int P { get { return 2; } } }" },
        { "class C { C() { } }", "class C { C() { Init(); } }" },
        { "class C { void M() { } }", "class C { void M() { int Local() => 3; } }" },
        { "class C { event System.Action E { add { } remove { } } }", "class C { event System.Action E { add { Log(); } remove { } } }" },
        { "class C { public static C operator +(C a, C b) => a; }", "class C { public static C operator +(C a, C b) => b; }" },
        { "System.Console.WriteLine(1);", "System.Console.WriteLine(2);" },
        { "class C { int M() => 1; }", "class C { int M() { return 1; } }" },
        { "class C { int P { get => 1; } }", "class C { int P { get { return 1; } } }" },
        { "class C { int M() => 1; }", "// a comment\nclass C\n{\n    int M() => 1; // another\n}" },
    };

    public static TheoryData<string, string> DeclarationEdits => new()
    {
        { "class C { }", "class C { int X; }" },
        { "class C { int P; }", "class C { int P => 1; }" },
        { "class C { int P { get; } }", "class C { int P => 1; }" },
        { "class C { int P { get; set; } }", "class C { int P { get; init; } }" },
        { "class C { const int X = 1; }", "class C { const int X = 2; }" },
        { "class C { int X = 1; }", "class C { int X = 2; }" },
        { "[System.Obsolete(\"a\")] class C { }", "[System.Obsolete(\"b\")] class C { }" },
        { "class C { void M(int x = 1) { } }", "class C { void M(int x = 2) { } }" },
        { "enum E { A = 1 }", "enum E { A = 2 }" },
        { "class C { void M() { } }", "class C { void M(); }" },
        { "class C { void M() { } }", "class C { async void M() { } }" },
        { "namespace N { class C { } }", "namespace N { class D { } }" },
        { "using A; class C { }", "using B; class C { }" },
        { "class C { void M() { } }\nclass D { string S = \"\"; }", "class C { void M() {\n#nullable disable\n} }\nclass D { string S = \"\"; }" },
        { "class C { }", "#define X\nclass C { }" },
    };

    [Theory]
    [MemberData(nameof(BodyOnlyEdits))]
    public void An_edit_inside_a_body_keeps_the_fingerprint(string before, string after)
    {
        Assert.Equal(Fingerprint(before), Fingerprint(after));
    }

    [Theory]
    [MemberData(nameof(DeclarationEdits))]
    public void An_edit_of_a_declaration_or_a_directive_changes_the_fingerprint(string before, string after)
    {
        Assert.NotEqual(Fingerprint(before), Fingerprint(after));
    }

    [Fact]
    public void The_language_version_is_part_of_the_fingerprint()
    {
        const string Source = "class C { }";
        var csharp11 = CSharpSyntaxTree.ParseText(Source, new CSharpParseOptions(LanguageVersion.CSharp11));
        var csharp12 = CSharpSyntaxTree.ParseText(Source, new CSharpParseOptions(LanguageVersion.CSharp12));
        Assert.NotEqual(DeclarationFingerprint.Compute(csharp11, CancellationToken.None), DeclarationFingerprint.Compute(csharp12, CancellationToken.None));
    }

    [Fact]
    public void A_body_edit_in_another_file_leaves_every_step_cached_and_the_output_unchanged()
    {
        var (first, compilation) = RunFirst();
        var edited = Replace(compilation, 1, Entity.Replace("Helper() => 1;", "Helper()\n    {\n        // typing...\n        return 2;\n    }", StringComparison.Ordinal));
        var second = GeneratorHarness.Run(first.Driver, edited);

        AssertSnapshotReasons(second, IncrementalStepRunReason.Unchanged);
        IncrementalAssert.AssertCachedOrUnchanged(second, ModelSteps);
        IncrementalAssert.AssertCachedOrUnchanged(second, TrackingNames.All);
        Assert.All(ModelSteps, step => Assert.All(second.TrackedSteps[step].SelectMany(s => s.Outputs), o => Assert.Equal(IncrementalStepRunReason.Cached, o.Reason)));
        Assert.Equal(first.Sources, second.Sources);
    }

    [Fact]
    public void A_new_member_of_an_entity_in_another_file_reaches_its_formatter()
    {
        var (first, compilation) = RunFirst();
        Assert.DoesNotContain("Nickname", FormatterOf(first, "Sample_Profile"), StringComparison.Ordinal);

        var edited = Replace(compilation, 1, Entity.Replace("string Name)", "string Name, string Nickname)", StringComparison.Ordinal));
        var second = GeneratorHarness.Run(first.Driver, edited);

        AssertSnapshotReasons(second, IncrementalStepRunReason.Modified);
        Assert.Contains("Nickname", FormatterOf(second, "Sample_Profile"), StringComparison.Ordinal);
        DecoratorRun.AssertClean(second);
    }

    [Fact]
    public void A_type_declared_in_an_edited_file_that_changes_what_a_name_binds_to_reaches_the_decorator()
    {
        // Sample.Repositories.Profile hides Sample.Profile from the interface, which names it unqualified.
        var (first, compilation) = RunFirst();
        Assert.Contains("global::Sample.Profile", first.Sources["Sample.Repositories.CachedProfiles.g.cs"], StringComparison.Ordinal);

        var edited = Replace(compilation, 3, Unrelated + "\npublic sealed record Profile([property: CachingGen.CacheKey] long Id, int Age);\n");
        var second = GeneratorHarness.Run(first.Driver, edited);

        AssertSnapshotReasons(second, IncrementalStepRunReason.Modified);
        var decorator = second.Sources["Sample.Repositories.CachedProfiles.g.cs"];
        Assert.Contains("global::Sample.Repositories.Profile", decorator, StringComparison.Ordinal);
        Assert.DoesNotContain("global::Sample.Profile", decorator, StringComparison.Ordinal);
        Assert.Contains("Age", FormatterOf(second, "Sample_Repositories_Profile"), StringComparison.Ordinal);
    }

    [Fact]
    public void A_changed_metadata_reference_runs_the_parsers_again()
    {
        const string Consumer = """
            using CachingGen;
            namespace App;
            [CachedRepository]
            public interface IAccounts
            {
                [Cached] Task<Lib.Account?> GetAsync(long id, CancellationToken ct = default);
            }
            """;
        var version1 = Library("public sealed record Account([property: CachingGen.CacheKey] long Id, string Owner);");
        var version2 = Library("public sealed record Account([property: CachingGen.CacheKey] long Id, string Owner, decimal Balance);");
        var compilation = GeneratorHarness.CreateCompilation(DecoratorSamples.GlobalUsings, Consumer).AddReferences(version1);
        var first = GeneratorHarness.Run(GeneratorHarness.CreateDriver(DecoratorRun.Generators), compilation);
        Assert.DoesNotContain("Balance", FormatterOf(first, "Lib_Account"), StringComparison.Ordinal);

        var second = GeneratorHarness.Run(first.Driver, compilation.ReplaceReference(version1, version2));

        AssertSnapshotReasons(second, IncrementalStepRunReason.Modified);
        Assert.Contains("Balance", FormatterOf(second, "Lib_Account"), StringComparison.Ordinal);
    }

    [Fact]
    public void Changed_compilation_options_run_the_parsers_again()
    {
        var (first, compilation) = RunFirst();
        var second = GeneratorHarness.Run(first.Driver, compilation.WithOptions(((CSharpCompilationOptions)compilation.Options).WithNullableContextOptions(NullableContextOptions.Disable)));

        AssertSnapshotReasons(second, IncrementalStepRunReason.Modified);
        Assert.Contains(second.TrackedSteps[DecoratorTrackingNames.Models].SelectMany(s => s.Outputs), o => o.Reason != IncrementalStepRunReason.Cached);
    }

    [Fact]
    public void A_cached_snapshot_does_not_keep_an_earlier_compilation_alive()
    {
        var (driver, firstCompilation) = RunTwiceWithABodyEdit();
        for (var i = 0; i < 3 && firstCompilation.IsAlive; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        Assert.False(firstCompilation.IsAlive, "the driver keeps the first compilation alive");
        GC.KeepAlive(driver);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (GeneratorDriver Driver, WeakReference FirstCompilation) RunTwiceWithABodyEdit()
    {
        var (first, compilation) = RunFirst();
        var second = GeneratorHarness.Run(first.Driver, Replace(compilation, 1, Entity.Replace("=> 1;", "=> 2;", StringComparison.Ordinal)));
        AssertSnapshotReasons(second, IncrementalStepRunReason.Unchanged);
        return (second.Driver, new WeakReference(compilation));
    }

    private static ulong Fingerprint(string source)
        => DeclarationFingerprint.Compute(CSharpSyntaxTree.ParseText(source, GeneratorHarness.ParseOptions), CancellationToken.None);

    private static (GeneratorResult Result, Compilation Compilation) RunFirst()
    {
        var compilation = GeneratorHarness.CreateCompilation(DecoratorSamples.GlobalUsings, Entity, Repository, Unrelated);
        var result = GeneratorHarness.Run(GeneratorHarness.CreateDriver(DecoratorRun.Generators), compilation);
        DecoratorRun.AssertClean(result);
        return (result, compilation);
    }

    private static Compilation Replace(Compilation compilation, int index, string source)
    {
        var path = "Source" + index + ".cs";
        var old = compilation.SyntaxTrees.Single(t => t.FilePath == path);
        return compilation.ReplaceSyntaxTree(old, CSharpSyntaxTree.ParseText(source, GeneratorHarness.ParseOptions, path: path));
    }

    private static MetadataReference Library(string declaration)
    {
        var library = GeneratorHarness.CreateCompilation("Lib", new[] { "namespace Lib;\n" + declaration });
        using var image = new MemoryStream();
        var emitted = library.Emit(image);
        Assert.True(emitted.Success, string.Join("\n", emitted.Diagnostics));
        return MetadataReference.CreateFromImage(image.ToArray());
    }

    private static string FormatterOf(GeneratorResult result, string typeName)
    {
        var hint = typeName + ".Formatter.g.cs";
        Assert.True(result.Sources.ContainsKey(hint), hint + " among: " + string.Join(", ", result.Sources.Keys));
        return result.Sources[hint];
    }

    private static void AssertSnapshotReasons(GeneratorResult result, IncrementalStepRunReason expected)
    {
        foreach (var step in SnapshotSteps)
        {
            Assert.Equal(new[] { expected }, result.TrackedSteps[step].SelectMany(s => s.Outputs).Select(o => o.Reason).ToArray());
        }
    }
}
