using Microsoft.CodeAnalysis;
using Xunit;

namespace CachingGen.Generators.Tests.Analyzers;

/// <summary>CGEN024: write-back arguments holding mutable collections (a warning on the parameter).</summary>
public sealed class CGEN024Tests
{
    private const string Entities = """
        using CachingGen;
        namespace Sample;
        public sealed record Preference([property: CacheKey] long UserId, string Channel, bool Enabled, long Version);
        public sealed class Order
        {
            [CacheKey] public long Id { get; set; }
            public long Version { get; set; }
            public List<string> Lines { get; set; } = new();
        }
        public sealed record Snapshot([property: CacheKey] long Id, long Version, IReadOnlyList<string> Lines, IReadOnlyDictionary<string, int> Codes);

        """;

    private const string Source = Entities + """
        [CachedRepository]
        public interface IPreferences
        {
            [WriteBack(IdempotencyKey = nameof(Preference.Version))] Task UpdateAsync(Preference preference, List<string> {|#0:tags|}, int[] {|#1:scores|}, CancellationToken ct = default);
        }

        [CachedRepository]
        public interface IOrders
        {
            [WriteBack(IdempotencyKey = nameof(Order.Version))] Task UpdateAsync(Order {|#2:order|});
        }
        """;

    private static string Plain => Source.Replace("{|#0:tags|}", "tags", StringComparison.Ordinal)
        .Replace("{|#1:scores|}", "scores", StringComparison.Ordinal).Replace("{|#2:order|}", "order", StringComparison.Ordinal);

    [Fact]
    public Task Mutable_arguments_and_entities_with_mutable_collections_are_reported_on_the_parameter()
        => Verify.AnalyzerAsync(Source,
            Verify.Diagnostic("CGEN024").WithLocation(0).WithSeverity(DiagnosticSeverity.Warning)
                .WithMessage("Parameter 'tags' of write-back method 'UpdateAsync' is a 'System.Collections.Generic.List<string>', a mutable collection. The write-back record is a snapshot taken at the call: later changes to it never reach the database, and the database repository receives a copy. Pass data built for the call (a new array or list, typed IReadOnlyList<T>), or copy it before the call."),
            Verify.Diagnostic("CGEN024").WithLocation(1).WithArguments("scores", "UpdateAsync", "is a 'int[]', a mutable collection"),
            Verify.Diagnostic("CGEN024").WithLocation(2).WithArguments("order", "UpdateAsync",
                "has type 'Sample.Order', whose member 'Lines' is a mutable collection ('System.Collections.Generic.List<string>')"));

    [Fact]
    public Task Near_miss_read_only_and_immutable_arguments_and_other_strategies_are_fine()
        => Verify.NoDiagnosticsAsync(Entities + """
            [CachedRepository]
            public interface ISnapshots
            {
                [WriteBack(IdempotencyKey = nameof(Snapshot.Version))] Task UpdateAsync(Snapshot snapshot, IReadOnlyList<string> notes, IEnumerable<int> codes, string comment);
            }

            [CachedRepository]
            public interface IOrders
            {
                [WriteThrough] Task SaveAsync(Order order, List<string> tags);
            }
            """);

    [Fact]
    public async Task Editorconfig_can_raise_it_to_an_error_or_silence_it()
    {
        var raised = await EditorconfigRun.AnalyzeAsync(Plain, "CGEN024", "error");
        Assert.Equal(3, raised.Length);
        Assert.All(raised, d => Assert.True(EditorconfigRun.IsBuildError(d), d.ToString()));
        Assert.Empty(await EditorconfigRun.AnalyzeAsync(Plain, "CGEN024", "none"));
    }
}
