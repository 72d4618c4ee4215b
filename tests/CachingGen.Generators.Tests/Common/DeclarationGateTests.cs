using System.Collections.Immutable;
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
/// The generators start from a <see cref="DeclarationSnapshot"/> and its <see cref="RepositoryGate"/>s: an edit inside
/// a body leaves every step cached, an edit of declarations no repository's parse can read re-parses nothing, and every
/// edit that can change a symbol the parsers read (a reached declaration, an outline, a reference, an option) re-parses
/// the repositories it reaches.
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

    private static readonly string[] RepositorySteps = { DecoratorTrackingNames.Repositories, TrackingNames.Repositories };

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
        { "class E {\n#nullable disable\n public string Name { get; set; }\n#nullable restore\n}", "class E {\n public string Name { get; set; }\n#nullable disable\n#nullable restore\n}" },
    };

    [Theory]
    [MemberData(nameof(BodyOnlyEdits))]
    public void An_edit_inside_a_body_keeps_the_fingerprint(string before, string after)
    {
        Assert.Equal(Fingerprint(before), Fingerprint(after));
        Assert.Equal(Outline(before), Outline(after));
    }

    [Theory]
    [MemberData(nameof(DeclarationEdits))]
    public void An_edit_of_a_declaration_or_a_directive_changes_the_fingerprint(string before, string after)
    {
        Assert.NotEqual(Fingerprint(before), Fingerprint(after));
    }

    public static TheoryData<string, string> MemberEdits => new()
    {
        { "class C { }", "class C { int X; }" },
        { "class C { int X; }", "class C { string X; }" },
        { "class C { const int X = 1; }", "class C { const int X = 2; }" },
        { "class C : B { }", "class C : D { }" },
        { "enum E { A }", "enum E { A, B }" },
        { "record R(int A);", "record R(int A, int B);" },
    };

    public static TheoryData<string, string> OutlineEdits => new()
    {
        { "class C { }", "class D { }" },
        { "class C { }", "class C { } class D { }" },
        { "class C { }", "class C { class N { } }" },
        { "class C { }", "class C<T> { }" },
        { "class C { }", "partial class C { }" },
        { "class C { }", "[System.Obsolete] class C { }" },
        { "interface I { }", "[CachingGen.CachedRepository] interface I { }" },
        { "namespace A { class C { } }", "namespace B { class C { } }" },
        { "using A; class C { }", "using B; class C { }" },
        { "class C { }", "using static A.B; class C { }" },
        { "class C { }", "global using X = A.B; class C { }" },
        { "class C { }", "[assembly: System.CLSCompliant(true)] class C { }" },
        { "class C { }", "#nullable disable\nclass C { }" },
        { "delegate void D(int x);", "delegate void D(long x);" },
        { "class C { }", "System.Console.WriteLine(); class C { }" },
    };

    [Theory]
    [MemberData(nameof(MemberEdits))]
    public void A_member_edit_keeps_the_outline_and_changes_only_its_type_s_fingerprint(string before, string after)
    {
        var first = Declarations(before + "\nclass Other { int Kept; }");
        var second = Declarations(after + "\nclass Other { int Kept; }");
        Assert.Equal(first.Outline, second.Outline);
        Assert.Equal(first.Types[^1].Fingerprint, second.Types[^1].Fingerprint);
        Assert.NotEqual(first.Types[0].Fingerprint, second.Types[0].Fingerprint);
    }

    [Theory]
    [MemberData(nameof(OutlineEdits))]
    public void An_edit_of_what_names_bind_to_changes_the_outline(string before, string after)
    {
        Assert.NotEqual(Outline(before), Outline(after));
    }

    [Fact]
    public void A_tree_lists_its_types_their_names_and_the_identifiers_they_mention()
    {
        var declarations = Declarations("""
            using static Sample.Defaults;
            global using Alias = Sample.Target;
            [assembly: System.Reflection.AssemblyVersion(Versions.Current)]
            namespace Sample;
            public sealed record Profile([property: Key] long Id, Address Home) : EntityBase
            {
                public sealed class Nested { public Tag Label { get; } = Tag.None; }
                public static int Helper() => Hidden.Value;
            }
            [CachedRepository] public interface IProfiles { Task<Profile?> GetAsync(long id); }
            public interface IPlain { }
            """);

        Assert.Equal(3, declarations.Types.Length);
        Assert.Equal(new[] { "Nested", "Profile" }, declarations.Types[0].DeclaredNames.OrderBy(n => n, StringComparer.Ordinal));
        Assert.Subset(declarations.Types[0].Identifiers.ToHashSet(), new HashSet<string> { "Key", "Address", "EntityBase", "Tag", "None", "Label", "Profile" });
        Assert.DoesNotContain("Hidden", declarations.Types[0].Identifiers);
        Assert.Subset(declarations.UsingIdentifiers.ToHashSet(), new HashSet<string> { "Sample", "Defaults", "Alias", "Target" });
        Assert.Equal(new[] { "Alias", "AssemblyVersion", "Current", "Reflection", "Sample", "System", "Target", "Versions" }, declarations.GlobalIdentifiers.OrderBy(n => n, StringComparer.Ordinal));
        Assert.Equal(1, declarations.Candidates.Single().TypeIndex);
    }

    [Fact]
    public void A_tree_with_top_level_statements_says_so_for_the_Program_class_they_declare()
    {
        Assert.True(Declarations("System.Console.WriteLine();\nclass C { }").HasTopLevelStatements);
        Assert.False(Declarations("class C { void M() { System.Console.WriteLine(); } }").HasTopLevelStatements);
    }

    [Fact]
    public void The_language_version_is_part_of_the_fingerprint()
    {
        const string Source = "class C { }";
        var csharp11 = CSharpSyntaxTree.ParseText(Source, new CSharpParseOptions(LanguageVersion.CSharp11));
        var csharp12 = CSharpSyntaxTree.ParseText(Source, new CSharpParseOptions(LanguageVersion.CSharp12));
        Assert.NotEqual(TreeDeclarations.Compute(csharp11, CancellationToken.None).Fingerprint, TreeDeclarations.Compute(csharp12, CancellationToken.None).Fingerprint);
        Assert.NotEqual(TreeDeclarations.Compute(csharp11, CancellationToken.None).Outline, TreeDeclarations.Compute(csharp12, CancellationToken.None).Outline);
    }

    [Fact]
    public void A_body_edit_in_another_file_leaves_every_step_cached_and_the_output_unchanged()
    {
        var (first, compilation) = RunFirst();
        var edited = Replace(compilation, 1, Entity.Replace("Helper() => 1;", "Helper()\n    {\n        // typing...\n        return 2;\n    }", StringComparison.Ordinal));
        var second = GeneratorHarness.Run(first.Driver, edited);

        AssertSnapshotReasons(second, IncrementalStepRunReason.Unchanged);
        foreach (var step in RepositorySteps.Concat(ModelSteps))
        {
            Assert.Equal(new[] { IncrementalStepRunReason.Cached }, Reasons(second, step));
        }

        IncrementalAssert.AssertCachedOrUnchanged(second, TrackingNames.All);
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
        foreach (var step in RepositorySteps)
        {
            Assert.Equal(new[] { IncrementalStepRunReason.Modified }, Reasons(second, step));
        }
    }

    [Fact]
    public void A_declaration_edit_that_no_repository_can_read_leaves_every_repository_cached()
    {
        var (first, compilation) = RunFirst();
        var edited = Replace(compilation, 3, Unrelated.Replace("public static int Now => 1;", "public static int Now => 1;\n    public static string Zone { get; set; } = \"UTC\";", StringComparison.Ordinal));
        var second = GeneratorHarness.Run(first.Driver, edited);

        AssertSnapshotReasons(second, IncrementalStepRunReason.Modified);
        foreach (var step in RepositorySteps)
        {
            Assert.Equal(new[] { IncrementalStepRunReason.Unchanged }, Reasons(second, step));
        }

        foreach (var step in ModelSteps)
        {
            Assert.Equal(new[] { IncrementalStepRunReason.Cached }, Reasons(second, step));
        }

        Assert.Equal(first.Sources, second.Sources);
    }

    [Theory]
    [InlineData("a new file")]
    [InlineData("an unrelated file")]
    public void A_new_class_that_no_repository_names_parses_no_repository(string where)
    {
        var (first, compilation) = RunFirst();
        const string Helper = "internal static class Formatting { public static string Trim(string s) => s.Trim(); }";
        var edited = where == "a new file"
            ? compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText("namespace Sample.Tools;\n" + Helper, GeneratorHarness.ParseOptions, path: "Helper.cs"))
            : Replace(compilation, 3, Unrelated + "\n" + Helper);
        var second = GeneratorHarness.Run(first.Driver, edited);

        AssertSnapshotReasons(second, IncrementalStepRunReason.Modified);
        foreach (var step in RepositorySteps)
        {
            Assert.Equal(new[] { IncrementalStepRunReason.Unchanged }, Reasons(second, step));
        }

        Assert.Equal(first.Sources, second.Sources);
    }

    [Fact]
    public void A_type_moved_to_another_namespace_of_its_file_reaches_the_decorator()
    {
        const string Before = "using CachingGen;\nnamespace Sample { public sealed record Thing([property: CacheKey] long Id); }\nnamespace Sample.Repositories { }";
        const string After = "using CachingGen;\nnamespace Sample { }\nnamespace Sample.Repositories { public sealed record Thing([property: CacheKey] long Id); }";
        var repository = Repository.Replace("Profile", "Thing", StringComparison.Ordinal).Replace("profile", "thing", StringComparison.Ordinal);
        var compilation = GeneratorHarness.CreateCompilation(DecoratorSamples.GlobalUsings, Before, repository);
        var first = GeneratorHarness.Run(GeneratorHarness.CreateDriver(DecoratorRun.Generators), compilation);
        Assert.Contains("global::Sample.Thing", first.Sources["Sample.Repositories.CachedThings.g.cs"], StringComparison.Ordinal);

        var second = GeneratorHarness.Run(first.Driver, Replace(compilation, 1, After));

        Assert.Contains("global::Sample.Repositories.Thing", second.Sources["Sample.Repositories.CachedThings.g.cs"], StringComparison.Ordinal);
    }

    [Fact]
    public void A_type_declared_in_a_System_namespace_reaches_every_repository()
    {
        // The compiler finds some System types by their metadata name (IsExternalInit, ValueTuple), which no text names.
        var (first, compilation) = RunFirst();
        var edited = compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText(
            "namespace System.Runtime.CompilerServices { internal static class IsExternalInit { } }", GeneratorHarness.ParseOptions, path: "Polyfill.cs"));
        var second = GeneratorHarness.Run(first.Driver, edited);

        foreach (var step in RepositorySteps)
        {
            Assert.Equal(new[] { IncrementalStepRunReason.Modified }, Reasons(second, step));
        }
    }

    [Fact]
    public void Editing_one_entity_parses_only_the_repositories_that_read_it()
    {
        const string Order = """
            using CachingGen;
            namespace Shop;
            public sealed record Order([property: CacheKey] long Id, decimal Total);
            [CachedRepository]
            public interface IOrders
            {
                [Cached] Task<Order?> GetAsync(long id, CancellationToken ct = default);
            }
            """;
        var compilation = GeneratorHarness.CreateCompilation(DecoratorSamples.GlobalUsings, Entity, Repository, Unrelated, Order);
        var first = GeneratorHarness.Run(GeneratorHarness.CreateDriver(DecoratorRun.Generators), compilation);
        DecoratorRun.AssertClean(first);

        var second = GeneratorHarness.Run(first.Driver, Replace(compilation, 4, Order.Replace("decimal Total)", "decimal Total, string Currency)", StringComparison.Ordinal)));

        // Both gates are compared again (the snapshot changed); only the edited entity's gate differs, so only its
        // repository is parsed, and only the formatter model changes (the decorator does not read the new member).
        foreach (var step in RepositorySteps)
        {
            Assert.Equal(new[] { IncrementalStepRunReason.Unchanged, IncrementalStepRunReason.Modified }, Reasons(second, step));
        }

        Assert.Equal(new[] { IncrementalStepRunReason.Cached, IncrementalStepRunReason.Modified }, Reasons(second, TrackingNames.RepositoryModels));

        Assert.Contains("Currency", FormatterOf(second, "Shop_Order"), StringComparison.Ordinal);
        Assert.Equal(first.Sources["Sample.Repositories.CachedProfiles.g.cs"], second.Sources["Sample.Repositories.CachedProfiles.g.cs"]);
    }

    public static TheoryData<string, string, string, string> ReachedDeclarations => new()
    {
        // A constant in another file, named in an attribute argument.
        {
            "namespace Sample; public static class Settings { public const int Ttl = 30; }",
            "namespace Sample; public static class Settings { public const int Ttl = 90; }",
            "", "Settings.Ttl"
        },
        // A constant computed from a constant of a third type.
        {
            "namespace Sample; public static class Settings { public const int Ttl = Base.Seconds * 2; } public static class Base { public const int Seconds = 15; }",
            "namespace Sample; public static class Settings { public const int Ttl = Base.Seconds * 2; } public static class Base { public const int Seconds = 45; }",
            "", "Settings.Ttl"
        },
        // A constant brought into scope by a using static, named by no type.
        {
            "namespace Sample; public static class Settings { public const int LongTtl = 30; }",
            "namespace Sample; public static class Settings { public const int LongTtl = 90; }",
            "using static Sample.Settings;", "LongTtl"
        },
        // The same through a global using static in yet another file.
        {
            "global using static Sample.Settings;\nnamespace Sample; public static class Settings { public const int LongTtl = 30; }",
            "global using static Sample.Settings;\nnamespace Sample; public static class Settings { public const int LongTtl = 90; }",
            "", "LongTtl"
        },
    };

    [Theory]
    [MemberData(nameof(ReachedDeclarations))]
    public void Editing_a_declaration_a_repository_reaches_by_name_reaches_its_output(string other, string otherEdited, string usingDirective, string ttl)
    {
        var repository = Repository
            .Replace("using CachingGen;", "using CachingGen;\n" + usingDirective, StringComparison.Ordinal)
            .Replace("[Cached]", "[Cached(Ttl = " + ttl + ")]", StringComparison.Ordinal);
        var compilation = GeneratorHarness.CreateCompilation(DecoratorSamples.GlobalUsings, Entity, repository, Unrelated, other);
        var first = GeneratorHarness.Run(GeneratorHarness.CreateDriver(DecoratorRun.Generators), compilation);
        DecoratorRun.AssertClean(first);
        var before = first.Sources["Sample.Repositories.CachedProfiles.g.cs"];

        var second = GeneratorHarness.Run(first.Driver, Replace(compilation, 4, otherEdited));

        var after = second.Sources["Sample.Repositories.CachedProfiles.g.cs"];
        Assert.Contains("FromSeconds(30)", before, StringComparison.Ordinal);
        Assert.Contains("FromSeconds(90)", after, StringComparison.Ordinal);
    }

    [Fact]
    public void A_new_member_of_a_base_class_in_another_file_reaches_the_formatter()
    {
        const string Base = "namespace Sample; public abstract record EntityBase { public string Tenant { get; init; } = \"\"; }";
        var entity = Entity.Replace("string Name)", "string Name) : EntityBase", StringComparison.Ordinal);
        var compilation = GeneratorHarness.CreateCompilation(DecoratorSamples.GlobalUsings, entity, Repository, Unrelated, Base);
        var first = GeneratorHarness.Run(GeneratorHarness.CreateDriver(DecoratorRun.Generators), compilation);
        DecoratorRun.AssertClean(first);
        Assert.DoesNotContain("Region", FormatterOf(first, "Sample_Profile"), StringComparison.Ordinal);

        var second = GeneratorHarness.Run(first.Driver, Replace(compilation, 4, Base.Replace("= \"\"; }", "= \"\"; public string Region { get; init; } = \"\"; }", StringComparison.Ordinal)));

        Assert.Contains("Region", FormatterOf(second, "Sample_Profile"), StringComparison.Ordinal);
    }

    [Fact]
    public void A_partial_interface_gets_one_decorator_which_follows_edits_of_either_part()
    {
        const string FirstPart = """
            namespace Sample.Repositories;
            public partial interface IProfiles
            {
                [CachingGen.Evict] Task DeleteAsync(long id, CancellationToken ct = default);
            }
            """;
        var compilation = GeneratorHarness.CreateCompilation(DecoratorSamples.GlobalUsings, Entity, Repository.Replace("public interface", "public partial interface", StringComparison.Ordinal), Unrelated, FirstPart);
        var first = GeneratorHarness.Run(GeneratorHarness.CreateDriver(DecoratorRun.Generators), compilation);
        DecoratorRun.AssertClean(first);
        Assert.Single(first.Sources.Keys, k => k.Contains("CachedProfiles", StringComparison.Ordinal));

        var second = GeneratorHarness.Run(first.Driver, Replace(compilation, 4, FirstPart.Replace("DeleteAsync", "RemoveAsync", StringComparison.Ordinal)));

        Assert.Contains("RemoveAsync(", second.Sources["Sample.Repositories.CachedProfiles.g.cs"], StringComparison.Ordinal);
        Assert.DoesNotContain("DeleteAsync(", second.Sources["Sample.Repositories.CachedProfiles.g.cs"], StringComparison.Ordinal);
    }

    public static TheoryData<string> Edits => new()
    {
        "body", "unrelated member", "entity member", "entity member renamed", "directive moved", "shadowing type", "constant",
        "assembly name", "references reordered", "trees reordered", "preprocessor symbol", "namespace named like a type",
        "namespace named like an attribute", "namespace named like the repository attribute",
    };

    [Theory]
    [MemberData(nameof(Edits))]
    public void After_any_edit_the_incremental_output_equals_a_fresh_run(string edit)
    {
        const string Settings = "namespace Sample; public static class Settings { public const int Ttl = 30; }";
        var entity = Entity.Replace("string Name)", "string Name)\n#if EXTRA\n    : Sample.Extra\n#endif", StringComparison.Ordinal)
            + "\npublic abstract record Extra { public int Bonus { get; init; } }\n";
        var repository = Repository.Replace("[Cached]", "[Cached(Ttl = Settings.Ttl)]", StringComparison.Ordinal);
        var compilation = GeneratorHarness.CreateCompilation(DecoratorSamples.GlobalUsings, entity, repository, Unrelated, Settings);
        var first = GeneratorHarness.Run(GeneratorHarness.CreateDriver(DecoratorRun.Generators), compilation);
        DecoratorRun.AssertClean(first);

        Compilation edited = edit switch
        {
            "body" => Replace(compilation, 1, entity.Replace("=> 1;", "=> 2;", StringComparison.Ordinal)),
            "unrelated member" => Replace(compilation, 3, Unrelated.Replace("public static int Now => 1;", "public static int Now => 1; public static int Later => 2;", StringComparison.Ordinal)),
            "entity member" => Replace(compilation, 1, entity.Replace("string Name)", "string Name, int Age)", StringComparison.Ordinal)),
            "entity member renamed" => Replace(compilation, 1, entity.Replace("string Name)", "string FullName)", StringComparison.Ordinal)),
            "directive moved" => Replace(compilation, 1, entity.Replace("public static int Helper", "#nullable disable\n    public string? Note { get; init; }\n#nullable restore\n    public static int Helper", StringComparison.Ordinal)),
            "shadowing type" => Replace(compilation, 3, Unrelated + "\npublic sealed record Profile([property: CachingGen.CacheKey] long Id, int Age);\n"),
            "constant" => Replace(compilation, 4, Settings.Replace("30", "45", StringComparison.Ordinal)),
            "assembly name" => compilation.WithAssemblyName("Renamed"),
            "namespace named like a type" => compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText(
                "namespace Sample.Repositories.Settings { internal static class Marker { } }", GeneratorHarness.ParseOptions, path: "Marker.cs")),
            "namespace named like an attribute" => compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText(
                "namespace Sample.Repositories.CachedAttribute { internal static class Marker { } }", GeneratorHarness.ParseOptions, path: "Marker.cs")),
            "namespace named like the repository attribute" => compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText(
                "namespace CachedRepositoryAttribute { internal static class Marker { } }", GeneratorHarness.ParseOptions, path: "Marker.cs")),
            "references reordered" => compilation.RemoveAllReferences().AddReferences(compilation.References.Reverse()),
            "trees reordered" => compilation.RemoveAllSyntaxTrees().AddSyntaxTrees(compilation.SyntaxTrees.Reverse()),
            "preprocessor symbol" => compilation.RemoveAllSyntaxTrees().AddSyntaxTrees(compilation.SyntaxTrees.Select(t =>
                CSharpSyntaxTree.ParseText(t.GetText(), GeneratorHarness.ParseOptions.WithPreprocessorSymbols("EXTRA"), t.FilePath))),
            _ => throw new ArgumentOutOfRangeException(nameof(edit)),
        };

        var incremental = GeneratorHarness.Run(first.Driver, edited);
        var fresh = GeneratorHarness.Run(GeneratorHarness.CreateDriver(DecoratorRun.Generators), edited.Clone());
        Assert.Equal(fresh.Sources, incremental.Sources);
        if (edit is not ("body" or "unrelated member" or "references reordered" or "assembly name" or "trees reordered"))
        {
            Assert.NotEqual(first.Sources, fresh.Sources);
        }
    }

    [Theory]
    [InlineData("formatter")]
    [InlineData("decorator")]
    public void Source_types_reached_through_a_reference_built_against_this_assembly_are_followed(string reads)
    {
        // Lib was built against an earlier image of this very assembly: its Wrapper names this assembly's source types
        // in metadata, where no reach can follow a name, so every repository must reach everything.
        var own = reads == "formatter"
            ? "namespace S { public class Foo { public int A { get; set; } } }"
            : "using CachingGen; namespace S { public class KeyBase { [CacheKey] public long Id { get; set; } } }";
        var wrapper = reads == "formatter"
            ? "using CachingGen; namespace L { public class Wrapper { [CacheKey] public long Id { get; set; } public S.Foo Value { get; set; } = new(); } }"
            : "namespace L { public class Wrapper : S.KeyBase { } }";
        var earlierImage = Image(GeneratorHarness.CreateCompilation("Cyclic", new[] { own }));
        var lib = Image(GeneratorHarness.CreateCompilation("Lib", new[] { wrapper }).AddReferences(earlierImage));
        const string Repository = """
            using CachingGen;
            using L;
            namespace S;
            [CachedRepository]
            public interface IWrappers
            {
                [Cached] Task<Wrapper?> GetAsync(long id, CancellationToken ct = default);
                [Evict] Task RemoveAsync(long id, CancellationToken ct = default);
            }
            """;
        var compilation = GeneratorHarness.CreateCompilation("Cyclic", new[] { DecoratorSamples.GlobalUsings, Repository, own }).AddReferences(lib);
        var first = GeneratorHarness.Run(GeneratorHarness.CreateDriver(DecoratorRun.Generators), compilation);
        Assert.Contains("S.CachedWrappers.g.cs", first.Sources.Keys);

        var edited = Replace(compilation, 2, reads == "formatter"
            ? own.Replace("{ get; set; } }", "{ get; set; } public string B { get; set; } = \"\"; }", StringComparison.Ordinal)
            : own.Replace("public long Id { get; set; }", "public long Id { get; set; } [CacheKey] public long Tenant { get; set; }", StringComparison.Ordinal));
        var incremental = GeneratorHarness.Run(first.Driver, edited);
        var fresh = GeneratorHarness.Run(GeneratorHarness.CreateDriver(DecoratorRun.Generators), edited.Clone());

        Assert.Equal(fresh.Sources, incremental.Sources);
        Assert.NotEqual(first.Sources, fresh.Sources);
    }

    [Fact]
    public void Lookalike_attribute_classes_make_no_repository()
    {
        const string Lookalikes = """
            namespace CachingGen
            {
                public static class Polyfills { public sealed class CachedRepositoryAttribute : System.Attribute { } }
                public sealed class CachedRepositoryAttribute<T> : System.Attribute { }
            }
            namespace Sample
            {
                [CachingGen.Polyfills.CachedRepository] public interface INested { Task<int> CountAsync(); }
                [CachingGen.CachedRepository<int>] public interface IGeneric { Task<int> CountAsync(); }
            }
            """;
        var result = GeneratorHarness.Run(GeneratorHarness.CreateCompilation(DecoratorSamples.GlobalUsings, Lookalikes), DecoratorRun.Generators);
        Assert.Empty(result.Sources);
    }

    private static MetadataReference Image(Compilation compilation)
    {
        using var image = new MemoryStream();
        var emitted = compilation.Emit(image);
        Assert.True(emitted.Success, string.Join("\n", emitted.Diagnostics));
        return MetadataReference.CreateFromImage(image.ToArray());
    }

    /// <summary>
    /// Places in a small project that each take one of a few texts: the repository's usings, entity type and TTL, the
    /// entity's namespace and members, files that no repository names and ones it reaches, types moved between
    /// namespaces, namespaces and types named like what the repository mentions, attributes included.
    /// </summary>
    private static readonly (string Name, string[] Texts)[] FuzzPlaces =
    {
        ("RU", new[] { "", "using static App.Consts.Ttls;", "using E = App.Other.E;", "using M = App.Model;", "using App.Other;" }),
        ("RT", new[] { "E", "App.Model.E", "Model.E", "M.E", "Profile" }),
        ("RA", new[] { "[Cached]", "[Cached(Ttl = Ttls.Read)]", "[Cached(Ttl = Read)]", "[Cached(Ttl = Consts.Ttls.Read)]" }),
        ("RX", new[] { "", "public class Helper { }", "public enum Profile { A }", "namespace Inner { public class E { } }" }),
        ("EU", new[] { "", "using App.Other;", "using K = App.Other.Kind;", "global using App.Other;" }),
        ("EM", new[] { "", "public Kind K1 { get; set; }", "public Sub S1 { get; set; } = new();", "public K K2 { get; set; }" }),
        ("EN", new[] { "App.Model", "App.Data" }),
        ("PN", new[] { "App.Model", "App.Other" }),
        ("U1", new[] { "", "namespace App.Data { public class E { [CachingGen.CacheKey] public string Id { get; set; } = \"\"; } }", "namespace App.Data.Profile { }",
            "namespace X.Profile { class Q { } }", "namespace App { public class Kind { } }", "namespace App.Data { file class E { } }", "namespace App.Model.Sub { }",
            "namespace App.Data { public class Model { public class E { } } }", "namespace App.Data.Ttls { }", "namespace App.Data { public static class Ttls { public const int Read = 5; } }",
            "namespace CachedAttribute { }", "namespace App.Data.CacheKeyAttribute { }", "namespace App.Data { public class Unused { public int Field; } }" }),
        ("U2", new[] { "", "using App.Model; namespace App.Data { class Y { } }", "using E = App.Other.E; namespace Z { class Y { E e; } }",
            "using static App.Consts.Ttls; namespace Z { class Y { } }", "global using static App.Consts.Ttls;", "global using E = App.Other.E;",
            "extern alias Foo; namespace Z { class Y { } }", "namespace App { namespace Model { public enum Kind { Q = 4 } } }", "namespace App.Other { public class Sub { public int Q { get; set; } } }" }),
        ("OT", new[] { "public class E { [CachingGen.CacheKey] public int Id { get; set; } }", "public class E { [CachingGen.CacheKey] public int Id { get; set; } public int More { get; set; } }",
            "public class E2 { }", "public class E { [CachingGen.CacheKey] public int Id { get; set; } public class Nested { } }" }),
        ("OK", new[] { "public enum Kind : byte { A, B }", "public enum Kind : long { A = 1L << 40 }", "" }),
        ("MV", new[] { "namespace App.Model { public enum Kind { A = 3 } } namespace App.Consts { public static class Ttls { public const int Read = 60; } }",
            "namespace App.Consts { public enum Kind { A = 3 } public static class Ttls { public const int Read = 60; } }",
            "namespace App.Model { public enum Kind { A = 3 } } namespace App.Consts { public static class Ttls { public const int Read = 90; } }",
            "namespace App.Model { public enum Kind { A = 3 } public static class Ttls { public const int Read = 61; } } namespace App.Consts { public static class Ttls { public const int Read = 60; } }" }),
        ("SB", new[] { "public partial class Sub { public int P { get; set; } }", "public partial class Sub { public long P { get; set; } }", "public partial class Sub { public int P { get; set; } public class Kind { } }" }),
        ("CS", new[] { "public const int Read = 7;", "public const int Read = 8;", "" }),
    };

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    public void Random_edits_keep_the_incremental_output_equal_to_a_fresh_run(int seed)
    {
        // Many of these texts do not compile together; a fresh run decides what the output is, broken or not.
        var random = new Random(seed);
        var choice = new int[FuzzPlaces.Length];
        var compilation = (Compilation)GeneratorHarness.CreateCompilation(FuzzFiles(choice));
        var driver = GeneratorHarness.Run(GeneratorHarness.CreateDriver(DecoratorRun.Generators), compilation).Driver;
        var skipped = 0;
        for (var step = 0; step < 150; step++)
        {
            var before = FuzzFiles(choice);
            var place = random.Next(FuzzPlaces.Length);
            choice[place] = random.Next(FuzzPlaces[place].Texts.Length);
            var after = FuzzFiles(choice);
            for (var file = 0; file < after.Length; file++)
            {
                if (after[file] != before[file])
                {
                    compilation = Replace(compilation, file, after[file]);
                }
            }

            var incremental = GeneratorHarness.Run(driver, compilation);
            driver = incremental.Driver;
            var fresh = GeneratorHarness.Run(GeneratorHarness.CreateDriver(DecoratorRun.Generators), compilation.Clone());
            Assert.True(fresh.Sources.SequenceEqual(incremental.Sources),
                $"seed {seed}, step {step}: {FuzzPlaces[place].Name} became text {choice[place]} (choices {string.Join(",", choice)}), and the incremental output differs from a fresh run's");
            // A step the run did not reach at all (no text changed) parsed nothing either.
            skipped += incremental.TrackedSteps.ContainsKey(DecoratorTrackingNames.Repositories)
                ? Reasons(incremental, DecoratorTrackingNames.Repositories).Count(r => r is IncrementalStepRunReason.Unchanged or IncrementalStepRunReason.Cached)
                : 0;
        }

        Assert.True(skipped > 0, "no step left a gate as it was, so the fuzz never tested skipping a parse");
    }

    private static string[] FuzzFiles(int[] choice)
    {
        string Text(string name) => FuzzPlaces[Array.FindIndex(FuzzPlaces, p => p.Name == name)].Texts[choice[Array.FindIndex(FuzzPlaces, p => p.Name == name)]];
        return new[]
        {
            DecoratorSamples.GlobalUsings,
            $"using CachingGen;\nusing App.Model;\n{Text("RU")}\nnamespace App.Data\n{{\n[CachedRepository] public interface IRepo {{ {Text("RA")} Task<{Text("RT")}?> GetAsync(long id, CancellationToken ct = default); [WriteThrough] Task SaveAsync({Text("RT")} e, CancellationToken ct = default); }}\npublic static class Consts2 {{ {Text("CS")} }}\n{Text("RX")}\n}}",
            $"{Text("EU")}\nusing CachingGen;\nnamespace {Text("EN")} {{ public sealed class E {{ [CacheKey] public long Id {{ get; set; }} {Text("EM")} }} }}",
            $"namespace {Text("PN")} {{ public sealed class Profile {{ [CachingGen.CacheKey] public long Id {{ get; set; }} public Kind K {{ get; set; }} }} }}",
            Text("U1"),
            Text("U2"),
            $"namespace App.Other {{ {Text("OT")} {Text("OK")} }}",
            Text("MV"),
            $"namespace App.Model {{ {Text("SB")} }}",
            "namespace App.Data { public static class Read { } }",
        };
    }

    [Fact]
    public void Both_generators_share_one_snapshot_and_its_gates_per_compilation()
    {
        var (first, compilation) = RunFirst();
        var snapshot = DeclarationSnapshot.Take(compilation, CancellationToken.None);
        Assert.Same(snapshot, DeclarationSnapshot.Take(compilation, CancellationToken.None));
        var gates = snapshot.Gates(CancellationToken.None);
        Assert.Equal(gates, snapshot.Gates(CancellationToken.None), ReferenceEqualityComparer.Instance);

        // The driver's two generators were handed that same snapshot.
        var tracked = new[] { DecoratorTrackingNames.Declarations, TrackingNames.Declarations }
            .Select(step => first.TrackedSteps[step].Single().Outputs.Single().Value)
            .ToList();
        Assert.Same(tracked[0], tracked[1]);
    }

    [Fact]
    public void Two_declarations_of_one_interface_make_one_decorator_and_no_generator_failure()
    {
        // A compile error of its own (CS0101); the generators must neither throw on a second file of the same name nor drop the first.
        var twice = Repository + "\n" + Repository.Replace("using CachingGen;\nnamespace Sample.Repositories;", "", StringComparison.Ordinal);
        var result = GeneratorHarness.Run(GeneratorHarness.CreateCompilation(DecoratorSamples.GlobalUsings, Entity, twice), DecoratorRun.Generators);
        Assert.All(result.RunResult.Results, generator => Assert.Null(generator.Exception));
        Assert.Single(result.Sources.Keys, key => key.Contains("CachedProfiles", StringComparison.Ordinal));
    }

    [Fact]
    public void A_failing_parse_yields_no_model_and_cancellation_still_propagates()
    {
        var (_, compilation) = RunFirst();
        var gate = DeclarationSnapshot.Take(compilation, CancellationToken.None).Gates(CancellationToken.None).Single();
        Assert.Equal("IProfiles", gate.Parse((repository, _, _) => repository.Name, CancellationToken.None));
        Assert.Null(gate.Parse<string>((_, _, _) => throw new InvalidOperationException("a parser bug"), CancellationToken.None));
        Assert.Throws<OperationCanceledException>(() => gate.Parse<string>((_, _, _) => throw new OperationCanceledException(), CancellationToken.None));
    }

    [Fact]
    public void Snapshots_and_gates_declare_no_symbol_syntax_or_strong_compilation_field()
    {
        // What the driver keeps between runs: a strong compilation, tree, node or symbol here would pin an old compilation.
        // The references are held by identity on purpose: an equal snapshot holds the very objects the current compilation holds.
        var allowed = new[]
        {
            typeof(WeakReference<Compilation>), typeof(MetadataReference[]), typeof(CompilationOptions), typeof(ulong[]),
            typeof(TreeDeclarations[]), typeof(CompilationInputs), typeof(ImmutableArray<RepositoryGate>), typeof(ImmutableArray<TypeDeclarationInfo>),
            typeof(ImmutableArray<RepositoryCandidate>), typeof(ImmutableArray<string>), typeof(Microsoft.CodeAnalysis.Text.TextSpan),
            typeof(ulong), typeof(int), typeof(bool), typeof(string),
        };
        foreach (var type in new[] { typeof(DeclarationSnapshot), typeof(CompilationInputs), typeof(RepositoryGate), typeof(TreeDeclarations), typeof(TypeDeclarationInfo), typeof(RepositoryCandidate) })
        {
            foreach (var field in type.GetFields(System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic))
            {
                Assert.True(allowed.Contains(field.FieldType), type.Name + "." + field.Name + " is a " + field.FieldType);
            }
        }
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

    private static ulong Fingerprint(string source) => Declarations(source).Fingerprint;

    private static ulong Outline(string source) => Declarations(source).Outline;

    private static TreeDeclarations Declarations(string source)
        => TreeDeclarations.Compute(CSharpSyntaxTree.ParseText(source, GeneratorHarness.ParseOptions), CancellationToken.None);

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
        => Image(GeneratorHarness.CreateCompilation("Lib", new[] { "namespace Lib;\n" + declaration }));

    private static string FormatterOf(GeneratorResult result, string typeName)
    {
        var hint = typeName + ".Formatter.g.cs";
        Assert.True(result.Sources.ContainsKey(hint), hint + " among: " + string.Join(", ", result.Sources.Keys));
        return result.Sources[hint];
    }

    private static IncrementalStepRunReason[] Reasons(GeneratorResult result, string step)
        => result.TrackedSteps[step].SelectMany(s => s.Outputs).Select(o => o.Reason).ToArray();

    private static void AssertSnapshotReasons(GeneratorResult result, IncrementalStepRunReason expected)
    {
        foreach (var step in SnapshotSteps)
        {
            Assert.Equal(new[] { expected }, result.TrackedSteps[step].SelectMany(s => s.Outputs).Select(o => o.Reason).ToArray());
        }
    }
}
