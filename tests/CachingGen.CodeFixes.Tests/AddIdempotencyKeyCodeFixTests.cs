using Xunit;

namespace CachingGen.CodeFixes.Tests;

/// <summary>CGEN013: set IdempotencyKey to a version-like or id-like member of the written entity.</summary>
public sealed class AddIdempotencyKeyCodeFixTests
{
    private const string Header = """
        using CachingGen;
        namespace Sample;
        public sealed record Order([property: CacheKey] long OrderId, string State, DateTime UpdatedAt, long RowVersion, Guid OperationId, string ETag, long Id, string UpdatedBy);

        """;

    [Fact]
    public async Task Offers_version_like_members_first_then_id_like_members_and_never_the_key_or_unstable_types()
    {
        var actions = await Verify.OfferedActionsAsync<AddIdempotencyKeyCodeFix>(Header + """
            [CachedRepository]
            public interface IOrders
            {
                [WriteBack] Task UpdateAsync(Order order, CancellationToken ct = default);
            }
            """);

        // UpdatedAt is a DateTime, which cannot form a stable key (CGEN003); OrderId is the cache key itself; UpdatedBy
        // names who wrote, not which version.
        Assert.Equal(
            ["Use 'RowVersion' as the idempotency key", "Use 'ETag' as the idempotency key", "Use 'OperationId' as the idempotency key", "Use 'Id' as the idempotency key"],
            actions);
    }

    [Fact]
    public async Task Offers_the_cache_version_member_first_whatever_its_name()
    {
        var actions = await Verify.OfferedActionsAsync<AddIdempotencyKeyCodeFix>("""
            using CachingGen;
            namespace Sample;
            public sealed record Ticket([property: CacheKey] long TicketId, string Title, long RowVersion, Guid OperationId, [property: CacheVersion] long Counter);
            [CachedRepository]
            public interface ITickets
            {
                [WriteBack] Task UpdateAsync(Ticket ticket, CancellationToken ct = default);
            }
            """);

        // Counter is named like neither a version nor an id: [CacheVersion] is what says it changes with every write.
        Assert.Equal(
            ["Use 'Counter' as the idempotency key", "Use 'RowVersion' as the idempotency key", "Use 'OperationId' as the idempotency key"],
            actions);
    }

    [Fact]
    public Task Adds_the_argument_to_a_bare_attribute()
        => Verify.FixAsync<AddIdempotencyKeyCodeFix>(Header + """
            [CachedRepository]
            public interface IOrders
            {
                [WriteBack] Task {|#0:UpdateAsync|}(Order order, CancellationToken ct = default);
            }
            """, Header + """
            [CachedRepository]
            public interface IOrders
            {
                [WriteBack(IdempotencyKey = nameof(Order.RowVersion))] Task UpdateAsync(Order order, CancellationToken ct = default);
            }
            """, AddIdempotencyKeyCodeFix.EquivalenceKeyPrefix + "RowVersion",
            Verify.Diagnostic("CGEN013").WithLocation(0));

    [Fact]
    public Task Appends_to_existing_arguments_and_can_use_an_operation_id()
        => Verify.FixAsync<AddIdempotencyKeyCodeFix>(Header + """
            [CachedRepository]
            public interface IOrders
            {
                [WriteBack(Ttl = 60)] Task {|#0:UpdateAsync|}(Order order);
            }
            """, Header + """
            [CachedRepository]
            public interface IOrders
            {
                [WriteBack(Ttl = 60, IdempotencyKey = nameof(Order.OperationId))] Task UpdateAsync(Order order);
            }
            """, AddIdempotencyKeyCodeFix.EquivalenceKeyPrefix + "OperationId",
            Verify.Diagnostic("CGEN013").WithLocation(0));

    [Fact]
    public Task Fix_all_sets_the_chosen_member_on_every_write_back_method()
        => Verify.FixAsync<AddIdempotencyKeyCodeFix>(AnalyzerHeader + """
            [CachedRepository(KeyPrefix = "pref")]
            public interface IPreferences
            {
                [Cached] Task<Preference?> GetAsync(long userId);
                [WriteBack] Task {|#0:UpdateAsync|}(Preference preference);
                [WriteBack(Ttl = 120)] Task {|#1:UpdateQuietlyAsync|}(Preference preference, CancellationToken ct = default);
            }

            [CachedRepository(KeyPrefix = "pref")]
            public interface IMorePreferences
            {
                [WriteBack] Task {|#2:UpdateAsync|}(Preference preference);
            }
            """, AnalyzerHeader + """
            [CachedRepository(KeyPrefix = "pref")]
            public interface IPreferences
            {
                [Cached] Task<Preference?> GetAsync(long userId);
                [WriteBack(IdempotencyKey = nameof(Preference.Version))] Task UpdateAsync(Preference preference);
                [WriteBack(Ttl = 120, IdempotencyKey = nameof(Preference.Version))] Task UpdateQuietlyAsync(Preference preference, CancellationToken ct = default);
            }

            [CachedRepository(KeyPrefix = "pref")]
            public interface IMorePreferences
            {
                [WriteBack(IdempotencyKey = nameof(Preference.Version))] Task UpdateAsync(Preference preference);
            }
            """, AddIdempotencyKeyCodeFix.EquivalenceKeyPrefix + "Version",
            Verify.Diagnostic("CGEN013").WithLocation(0), Verify.Diagnostic("CGEN013").WithLocation(1), Verify.Diagnostic("CGEN013").WithLocation(2));

    [Fact]
    public async Task Offers_nothing_when_the_entity_has_no_candidate()
    {
        var actions = await Verify.OfferedActionsAsync<AddIdempotencyKeyCodeFix>("""
            using CachingGen;
            namespace Sample;
            public sealed record Toggle([property: CacheKey] long UserId, bool Enabled, DateTime ChangedAt);
            [CachedRepository]
            public interface IToggles
            {
                [WriteBack] Task UpdateAsync(Toggle toggle);
            }
            """);
        Assert.Empty(actions);
    }

    private const string AnalyzerHeader = CachingGen.Generators.Tests.Infrastructure.CanonicalSample.Header;
}
