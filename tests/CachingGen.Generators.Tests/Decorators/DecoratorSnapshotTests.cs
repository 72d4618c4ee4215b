using CachingGen.Generators.Tests.Infrastructure;
using Xunit;

namespace CachingGen.Generators.Tests.Decorators;

/// <summary>Golden files of the decorator for every interface shape the generator supports. Every run must also
/// compile cleanly under nullable enable with every warning an error.</summary>
public sealed class DecoratorSnapshotTests
{
    public static TheoryData<string, string, string[]> Cases => new()
    {
        { "Canonical", DecoratorSamples.Canonical, new[] { "Sample.CachedPreferenceRepository.g.cs" } },
        { "GenericEntity", DecoratorSamples.GenericEntity, new[] { "Shop.CachedOrderEnvelopeRepository.g.cs" } },
        { "NestedNamespace", DecoratorSamples.NestedNamespace, new[] { "A.B.C.CachedWidgetRepository.g.cs" } },
        { "GlobalNamespace", DecoratorSamples.GlobalNamespace, new[] { "CachedGadgetRepository.g.cs" } },
        { "Inheritance", DecoratorSamples.Inheritance, new[] { "Inherit.CachedAccountRepository.g.cs" } },
        { "NameClashes", DecoratorSamples.NameClashes, new[] { "Clash.CachedThingRepository.g.cs" } },
        { "Nullable", DecoratorSamples.Nullable, new[] { "Nulls.CachedTicketRepository.g.cs" } },
        { "NullableDisabled", DecoratorSamples.NullableDisabled, new[] { "Legacy.CachedCustomerRepository.g.cs" } },
        {
            "KeyTypes", DecoratorSamples.KeyTypes, new[]
            {
                "Keys.CachedBlobRepository.g.cs", "Keys.CachedCounterRepository.g.cs", "Keys.CachedDocumentRepository.g.cs",
                "Keys.CachedRankRepository.g.cs", "Keys.CachedZoneRepository.g.cs",
            }
        },
        { "Bulk", DecoratorSamples.Bulk, new[] { "Bulk.CachedItemRepository.g.cs" } },
        { "Internal", DecoratorSamples.Internal, new[] { "Hidden.CachedSecretRepository.g.cs" } },
        { "Coalesce", DecoratorSamples.Coalesce, new[] { "Coalescing.CachedProfileRepository.g.cs" } },
        { "ApplyMany", DecoratorSamples.ApplyMany, new[] { "Batching.CachedTallyRepository.g.cs" } },
        {
            "Versioned", DecoratorSamples.Versioned, new[]
            {
                "Versions.CachedArticleRepository.g.cs", "Versions.CachedDraftRepository.g.cs", "Versions.CachedInvoiceRepository.g.cs",
                "Versions.CachedNoteRepository.g.cs", "Versions.CachedSlotRepository.g.cs",
            }
        },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Decorator_snapshot(string name, string source, string[] hintNames)
    {
        var result = DecoratorRun.RunClean(source);
        var decorators = DecoratorRun.Decorators(result);
        Assert.Equal(hintNames, decorators.Keys.OrderBy(k => k, StringComparer.Ordinal));
        Assert.Contains("CachingGenFormatterResolver.g.cs", result.Sources.Keys);
        foreach (var (hintName, text) in decorators)
        {
            Snapshot.Verify("Decorator." + name + "." + hintName.Replace(".g.cs", string.Empty, StringComparison.Ordinal), text);
        }
    }

    [Fact]
    public void All_samples_together_compile_cleanly()
    {
        // Different namespaces, one resolver: the decorators must not collide with each other either.
        var result = DecoratorRun.RunClean(
            DecoratorSamples.Canonical, DecoratorSamples.GenericEntity, DecoratorSamples.NestedNamespace, DecoratorSamples.GlobalNamespace,
            DecoratorSamples.Inheritance, DecoratorSamples.NameClashes, DecoratorSamples.Nullable, DecoratorSamples.NullableDisabled,
            DecoratorSamples.KeyTypes, DecoratorSamples.Bulk, DecoratorSamples.Internal, DecoratorSamples.Coalesce, DecoratorSamples.ApplyMany,
            DecoratorSamples.Versioned);
        Assert.Equal(22, DecoratorRun.Decorators(result).Count);
    }

    [Fact]
    public void Coalesce_opt_in_reaches_the_write_back_policy_of_that_method_only()
    {
        var text = DecoratorRun.Decorators(DecoratorRun.RunClean(DecoratorSamples.Coalesce))["Coalescing.CachedProfileRepository.g.cs"];
        Assert.Contains("new global::CachingGen.Runtime.WriteBackPolicy(\"ReplaceAsync(Coalescing.Profile)\", global::System.TimeSpan.FromSeconds(300)) { Coalesce = true };", text, StringComparison.Ordinal);
        Assert.Contains("new global::CachingGen.Runtime.WriteBackPolicy(\"AppendNoteAsync(Coalescing.Profile)\", global::System.TimeSpan.FromSeconds(300));", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Canonical_decorator_matches_the_design_contract()
    {
        var text = DecoratorRun.Decorators(DecoratorRun.RunClean(DecoratorSamples.Canonical))["Sample.CachedPreferenceRepository.g.cs"];
        Assert.Contains("public sealed partial class CachedPreferenceRepository : global::Sample.IPreferenceRepository", text, StringComparison.Ordinal);
        Assert.Contains("new global::CachingGen.Runtime.ReadPolicy(\"GetAsync\", global::System.TimeSpan.FromSeconds(300), null)", text, StringComparison.Ordinal);
        Assert.Contains("new global::CachingGen.Runtime.WriteAroundPolicy(\"SaveManyAsync\", global::System.TimeSpan.FromSeconds(30), true)", text, StringComparison.Ordinal);
        Assert.Contains("new global::CachingGen.Runtime.WriteBackPolicy(\"UpdateAsync(Sample.Preference)\"", text, StringComparison.Ordinal);
        Assert.Contains("global::CachingGen.Runtime.CacheKey.Part((long)preference.Version)", text, StringComparison.Ordinal);
        Assert.Contains("=> this._inner.CountAsync(ct);", text, StringComparison.Ordinal);
        Assert.Contains("public static global::CachingGen.CachingGenBuilder AddCachedPreferenceRepository<[global::System.Diagnostics.CodeAnalysis.DynamicallyAccessedMembers(global::System.Diagnostics.CodeAnalysis.DynamicallyAccessedMemberTypes.PublicConstructors)] TInner>", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Versioned_entities_ask_for_a_versioned_cache_and_the_others_do_not()
    {
        var decorators = DecoratorRun.Decorators(DecoratorRun.RunClean(DecoratorSamples.Versioned));
        const string Cache = "this._cache = runtime.GetEntityCache<";
        Assert.Contains(Cache + "global::Versions.Article>(s_repository, static entity => (long)entity.Version);", decorators["Versions.CachedArticleRepository.g.cs"], StringComparison.Ordinal);
        Assert.Contains(Cache + "global::Versions.Invoice>(s_repository, static entity => entity.UpdatedAt.UtcTicks);", decorators["Versions.CachedInvoiceRepository.g.cs"], StringComparison.Ordinal);
        Assert.Contains(Cache + "global::Versions.Slot>(s_repository, static entity => entity.Stamp.Ticks);", decorators["Versions.CachedSlotRepository.g.cs"], StringComparison.Ordinal);
        Assert.Contains(Cache + "global::Versions.Note>(s_repository, static entity => (long)entity.Revision);", decorators["Versions.CachedNoteRepository.g.cs"], StringComparison.Ordinal);
        Assert.Contains(Cache + "global::Versions.Draft>(s_repository);", decorators["Versions.CachedDraftRepository.g.cs"], StringComparison.Ordinal);
    }

    [Fact]
    public void Internal_interface_gets_internal_decorator_and_registration()
    {
        var text = DecoratorRun.Decorators(DecoratorRun.RunClean(DecoratorSamples.Internal))["Hidden.CachedSecretRepository.g.cs"];
        Assert.Contains("internal sealed partial class CachedSecretRepository", text, StringComparison.Ordinal);
        Assert.Contains("internal static class CachedSecretRepositoryRegistration", text, StringComparison.Ordinal);
        Assert.DoesNotContain("public sealed partial class", text, StringComparison.Ordinal);
    }
}
