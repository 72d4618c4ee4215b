using CachingGen.Generators.Decorators;
using CachingGen.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Xunit;

namespace CachingGen.Generators.Tests.Decorators;

/// <summary>The decorator pipeline caches across unrelated edits, re-runs on real ones, and holds no Roslyn objects.</summary>
public sealed class DecoratorIncrementalTests
{
    private const string Hint = "Sample.CachedPreferenceRepository.g.cs";

    [Fact]
    public void Unrelated_edit_keeps_every_step_cached()
    {
        var result = IncrementalAssert.CachedAfterUnrelatedEdit(DecoratorRun.Generators, DecoratorRun.TrackingNames, DecoratorSamples.GlobalUsings, DecoratorSamples.Canonical);
        Assert.Contains(Hint, result.Sources.Keys);
    }

    [Fact]
    public void Unrelated_edit_keeps_every_step_cached_with_many_repositories()
    {
        IncrementalAssert.CachedAfterUnrelatedEdit(DecoratorRun.Generators, DecoratorRun.TrackingNames,
            DecoratorSamples.GlobalUsings, DecoratorSamples.Canonical, DecoratorSamples.Inheritance, DecoratorSamples.KeyTypes, DecoratorSamples.Bulk, DecoratorSamples.NameClashes,
            DecoratorSamples.Versioned);
    }

    [Fact]
    public void Editing_a_method_body_elsewhere_in_the_same_file_keeps_the_model_cached()
    {
        var before = DecoratorSamples.Canonical + "\npublic static class Helper { public static int Value() => 1; }\n";
        var after = DecoratorSamples.Canonical + "\npublic static class Helper { public static int Value() => 2; }\n";
        var compilation = GeneratorHarness.CreateCompilation(DecoratorSamples.GlobalUsings, before);
        var first = GeneratorHarness.Run(GeneratorHarness.CreateDriver(DecoratorRun.Generators), compilation);
        var edited = compilation.ReplaceSyntaxTree(compilation.SyntaxTrees.ElementAt(1),
            Microsoft.CodeAnalysis.CSharp.CSharpSyntaxTree.ParseText(after, GeneratorHarness.ParseOptions, path: "Source1.cs"));
        var second = GeneratorHarness.Run(first.Driver, edited);

        // The snapshot is taken again (its compilation changed) and equals the last one, so nothing after it runs.
        var snapshotReasons = second.TrackedSteps[DecoratorTrackingNames.Declarations].SelectMany(s => s.Outputs).Select(o => o.Reason).ToList();
        Assert.Equal(new[] { IncrementalStepRunReason.Unchanged }, snapshotReasons);
        IncrementalAssert.AssertCachedOrUnchanged(second, new[] { DecoratorTrackingNames.Models });
        Assert.Equal(first.Sources[Hint], second.Sources[Hint]);
    }

    [Fact]
    public void Changing_a_ttl_modifies_the_model_and_the_output()
    {
        var after = DecoratorSamples.Canonical.Replace("[Cached(Ttl = 300)]", "[Cached(Ttl = 600)]", StringComparison.Ordinal);
        Assert.NotEqual(DecoratorSamples.Canonical, after);
        var result = IncrementalAssert.ModifiedAfterEdit(DecoratorRun.Generators, DecoratorRun.TrackingNames,
            new[] { DecoratorSamples.GlobalUsings, DecoratorSamples.Canonical }, new[] { DecoratorSamples.GlobalUsings, after });
        AssertStepModified(result, DecoratorTrackingNames.Declarations);
        AssertStepModified(result, DecoratorTrackingNames.Models);
        Assert.Contains("new global::CachingGen.Runtime.ReadPolicy(\"GetAsync\", global::System.TimeSpan.FromSeconds(600), null)", result.Sources[Hint], StringComparison.Ordinal);
    }

    [Fact]
    public void Adding_a_method_modifies_the_model_and_the_output()
    {
        var after = DecoratorSamples.Canonical.Replace(
            "Task<int> CountAsync(CancellationToken ct = default);",
            "Task<int> CountAsync(CancellationToken ct = default);\n    [Evict] Task PurgeAsync(IReadOnlyList<long> userIds);",
            StringComparison.Ordinal);
        Assert.NotEqual(DecoratorSamples.Canonical, after);
        var result = IncrementalAssert.ModifiedAfterEdit(DecoratorRun.Generators, DecoratorRun.TrackingNames,
            new[] { DecoratorSamples.GlobalUsings, DecoratorSamples.Canonical }, new[] { DecoratorSamples.GlobalUsings, after });
        AssertStepModified(result, DecoratorTrackingNames.Models);
        Assert.Contains("public global::System.Threading.Tasks.Task PurgeAsync(", result.Sources[Hint], StringComparison.Ordinal);
        DecoratorRun.AssertClean(result);
    }

    [Fact]
    public void Changing_the_entity_key_modifies_the_model()
    {
        // The entity is another declaration than the interface: the parse step must still see the change.
        var after = DecoratorSamples.Canonical.Replace("[property: CacheKey] long UserId, string Channel", "[property: CacheKey] long UserId, [property: CacheKey] string Channel", StringComparison.Ordinal)
            .Replace("GetAsync(long userId, CancellationToken", "GetAsync(long userId, string channel, CancellationToken", StringComparison.Ordinal)
            .Replace("DeleteAsync(long userId, CancellationToken", "DeleteAsync(long userId, string channel, CancellationToken", StringComparison.Ordinal);
        var result = IncrementalAssert.ModifiedAfterEdit(DecoratorRun.Generators, DecoratorRun.TrackingNames,
            new[] { DecoratorSamples.GlobalUsings, DecoratorSamples.Canonical }, new[] { DecoratorSamples.GlobalUsings, after });
        AssertStepModified(result, DecoratorTrackingNames.Models);
        Assert.Contains("global::CachingGen.Runtime.CacheKey.Part(entity.Channel)", result.Sources[Hint], StringComparison.Ordinal);
    }

    [Fact]
    public void Marking_a_version_member_modifies_the_model_and_the_output()
    {
        // Like the key, the version lives on the entity, another declaration than the interface.
        var after = DecoratorSamples.Canonical.Replace("bool Enabled, long Version)", "bool Enabled, [property: CacheVersion] long Version)", StringComparison.Ordinal);
        Assert.NotEqual(DecoratorSamples.Canonical, after);
        var result = IncrementalAssert.ModifiedAfterEdit(DecoratorRun.Generators, DecoratorRun.TrackingNames,
            new[] { DecoratorSamples.GlobalUsings, DecoratorSamples.Canonical }, new[] { DecoratorSamples.GlobalUsings, after });
        AssertStepModified(result, DecoratorTrackingNames.Models);
        Assert.Contains("runtime.GetEntityCache<global::Sample.Preference>(s_repository, static entity => (long)entity.Version);", result.Sources[Hint], StringComparison.Ordinal);
        DecoratorRun.AssertClean(result);
    }

    [Fact]
    public void Tracked_outputs_and_parse_results_hold_no_Roslyn_types()
    {
        var result = DecoratorRun.RunClean(DecoratorSamples.Canonical, DecoratorSamples.Inheritance, DecoratorSamples.NameClashes, DecoratorSamples.KeyTypes, DecoratorSamples.Bulk,
            DecoratorSamples.Versioned);
        IncrementalAssert.AssertTrackedOutputsHaveNoRoslynTypes(result, DecoratorRun.TrackingNames);
        Assert.NotEmpty(result.TrackedSteps[DecoratorTrackingNames.Models].SelectMany(s => s.Outputs));

        // Failed parses too: their diagnostics must be plain data (LocationInfo, not Location).
        var bad = DecoratorRun.Run(BadInputTests.Cases.Select(c => (string)c[1]).ToArray());
        IncrementalAssert.AssertTrackedOutputsHaveNoRoslynTypes(bad, DecoratorRun.TrackingNames);
        foreach (var type in bad.InputCompilation.GetSymbolsWithName(n => n.StartsWith("I", StringComparison.Ordinal), SymbolFilter.Type).OfType<INamedTypeSymbol>())
        {
            ModelGraphAssert.NoRoslynTypes(RepositoryParser.Parse(type, CancellationToken.None), type.Name);
        }

        // And by type: no model record declares a Roslyn-typed field.
        foreach (var type in typeof(DecoratorGenerator).Assembly.GetTypes().Where(t => t.Namespace == "CachingGen.Generators.Decorators" && (t.Name.EndsWith("Model", StringComparison.Ordinal) || t.Name.EndsWith("Result", StringComparison.Ordinal))))
        {
            foreach (var field in type.GetFields(System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public))
            {
                Assert.False(typeof(ISymbol).IsAssignableFrom(field.FieldType) || typeof(SyntaxNode).IsAssignableFrom(field.FieldType)
                    || typeof(Location).IsAssignableFrom(field.FieldType) || typeof(Compilation).IsAssignableFrom(field.FieldType), type + "." + field.Name);
            }
        }
    }

    [Fact]
    public void Models_of_equal_sources_in_different_compilations_are_equal()
    {
        RepositoryModel? Parse()
        {
            var compilation = DecoratorRun.Compile(DecoratorSamples.Canonical);
            return RepositoryParser.Parse(compilation.GetTypeByMetadataName("Sample.IPreferenceRepository")!, CancellationToken.None).Model;
        }

        var first = Parse();
        var second = Parse();
        Assert.NotNull(first);
        Assert.Equal(first, second);
        Assert.Equal(first!.GetHashCode(), second!.GetHashCode());
    }

    [Fact]
    public void The_generator_parse_without_advice_yields_the_analyzer_parse_model()
    {
        // Advice (CGEN022 mixed strategies, CGEN024 mutable write-back arguments, CGEN025 stale write-around) is
        // skipped when only the model is wanted: the model must not depend on it.
        const string Advised = """
            using CachingGen;
            namespace Advised;
            public sealed class Order
            {
                [CacheKey] public long Id { get; set; }
                public long Version { get; set; }
                public List<string> Lines { get; set; } = new();
            }

            [CachedRepository]
            public interface IOrders
            {
                [Cached(Ttl = 3600)] Task<Order?> GetAsync(long id, CancellationToken ct = default);
                [WriteThrough] Task SaveAsync(Order order, CancellationToken ct = default);
                [WriteAround(Invalidate = false)] Task ImportAsync(IReadOnlyList<Order> orders, CancellationToken ct = default);
                [WriteBack(IdempotencyKey = nameof(Order.Version))] Task UpdateAsync(Order order, CancellationToken ct = default);
            }
            """;
        var compilation = DecoratorRun.Compile(DecoratorSamples.Canonical, DecoratorSamples.Inheritance, DecoratorSamples.NameClashes, DecoratorSamples.KeyTypes,
            DecoratorSamples.Bulk, DecoratorSamples.Coalesce, DecoratorSamples.ApplyMany, DecoratorSamples.Nullable, DecoratorSamples.Versioned, Advised);
        var repositories = compilation.GetSymbolsWithName(_ => true, SymbolFilter.Type).OfType<INamedTypeSymbol>()
            .Where(type => type.GetAttributes().Any(a => a.AttributeClass?.Name == "CachedRepositoryAttribute"))
            .ToList();
        Assert.True(repositories.Count >= 9, "every sample's repositories: " + repositories.Count);

        var advised = 0;
        foreach (var repository in repositories)
        {
            var full = RepositoryParser.Parse(repository, CancellationToken.None);
            Assert.NotNull(full.Model);
            Assert.Equal(full.Model, RepositoryParser.ParseModel(repository, CancellationToken.None));
            advised += full.Diagnostics.Count(d => d.Descriptor.Id is "CGEN022" or "CGEN024" or "CGEN025");
        }

        Assert.True(advised >= 3, "the sources should draw each kind of advice: " + advised);
    }

    private static void AssertStepModified(GeneratorResult result, string step)
    {
        var reasons = result.TrackedSteps[step].SelectMany(s => s.Outputs).Select(o => o.Reason).ToList();
        Assert.Contains(IncrementalStepRunReason.Modified, reasons);
    }
}
