using CachingGen.Generators.Tests.Infrastructure;
using Xunit;

namespace CachingGen.Generators.Tests.Decorators;

/// <summary>
/// Compiles the canonical sample (and one repository per key type) with both generators, loads it, and drives the
/// generated decorators through the real CachingGen runtime with counting fake inner repositories. Each test runs
/// one scenario of <see cref="RuntimeScenarios"/>; a scenario throws when a promise of docs/strategies.md breaks.
/// </summary>
public sealed class DecoratorRuntimeTests
{
    private static readonly Lazy<LoadedAssembly> Loaded = new(() =>
    {
        var result = GeneratorHarness.Run(DecoratorRun.Generators,
            DecoratorSamples.GlobalUsings, DecoratorSamples.Canonical, RuntimeScenarioSources.Support, RuntimeScenarioSources.FakePreferences,
            RuntimeScenarioSources.KeyRepositories, RuntimeScenarios.Source, BulkScenarios.OrderingSource);
        result.AssertCleanGeneratedCode();
        Assert.Empty(result.GeneratorDiagnostics);
        // MessagePack's dynamic fallbacks cannot see types in a collectible context.
        return result.EmitAndLoad(collectible: false);
    });

    private static readonly Lazy<LoadedAssembly> LoadedBulk = new(() =>
    {
        var result = GeneratorHarness.Run(DecoratorRun.Generators,
            DecoratorSamples.GlobalUsings, DecoratorSamples.Bulk, RuntimeScenarioSources.Support, BulkScenarios.Source);
        result.AssertCleanGeneratedCode();
        Assert.Empty(result.GeneratorDiagnostics);
        return result.EmitAndLoad(collectible: false);
    });

    private static readonly Lazy<LoadedAssembly> LoadedCoalesce = new(() =>
    {
        var result = GeneratorHarness.Run(DecoratorRun.Generators,
            DecoratorSamples.GlobalUsings, DecoratorSamples.Coalesce, RuntimeScenarioSources.Support, CoalesceScenarios.Source);
        result.AssertCleanGeneratedCode();
        Assert.Empty(result.GeneratorDiagnostics);
        return result.EmitAndLoad(collectible: false);
    });

    private static readonly Lazy<LoadedAssembly> LoadedApplyMany = new(() =>
    {
        var result = GeneratorHarness.Run(DecoratorRun.Generators,
            DecoratorSamples.GlobalUsings, DecoratorSamples.ApplyMany, RuntimeScenarioSources.Support, ApplyManyScenarios.Source);
        result.AssertCleanGeneratedCode();
        Assert.Empty(result.GeneratorDiagnostics);
        return result.EmitAndLoad(collectible: false);
    });

    private static Task Scenario(string name)
        => (Task)Loaded.Value.Invoke("Scenarios.Run", name, null)!;

    [Fact] public Task Cached_miss_calls_inner_once_then_hits() => Scenario(nameof(Cached_miss_calls_inner_once_then_hits));

    [Fact] public Task Cached_concurrent_misses_call_inner_once() => Scenario(nameof(Cached_concurrent_misses_call_inner_once));

    [Fact] public Task Cached_null_is_not_cached_without_NullTtl() => Scenario(nameof(Cached_null_is_not_cached_without_NullTtl));

    [Fact] public Task WriteThrough_writes_inner_then_the_cache_and_next_read_hits() => Scenario(nameof(WriteThrough_writes_inner_then_the_cache_and_next_read_hits));

    [Fact] public Task WriteThrough_failure_propagates_and_keeps_the_old_value() => Scenario(nameof(WriteThrough_failure_propagates_and_keeps_the_old_value));

    [Fact] public Task WriteAround_invalidates_so_the_next_read_calls_inner() => Scenario(nameof(WriteAround_invalidates_so_the_next_read_calls_inner));

    [Fact] public Task WriteAround_without_invalidation_keeps_serving_the_stale_value() => Scenario(nameof(WriteAround_without_invalidation_keeps_serving_the_stale_value));

    [Fact] public Task WriteBack_returns_before_inner_and_flush_calls_it_once() => Scenario(nameof(WriteBack_returns_before_inner_and_flush_calls_it_once));

    [Fact] public Task WriteBack_same_version_twice_is_applied_once() => Scenario(nameof(WriteBack_same_version_twice_is_applied_once));

    [Fact] public Task Evict_calls_inner_then_the_next_read_misses() => Scenario(nameof(Evict_calls_inner_then_the_next_read_misses));

    [Fact] public Task Pass_through_calls_inner_directly() => Scenario(nameof(Pass_through_calls_inner_directly));

    [Fact] public Task Reads_and_writes_meet_at_the_same_key_for_every_key_type() => Scenario(nameof(Reads_and_writes_meet_at_the_same_key_for_every_key_type));

    [Fact] public Task Preference_read_and_write_keys_match() => Scenario(nameof(Preference_read_and_write_keys_match));

    [Fact] public Task Dependency_injection_registration_works_end_to_end() => Scenario(nameof(Dependency_injection_registration_works_end_to_end));

    [Fact] public Task Direct_write_after_pending_write_back_keeps_database_order()
        => (Task)Loaded.Value.Invoke("Scenarios.OrderingRun", nameof(Direct_write_after_pending_write_back_keeps_database_order), null)!;

    [Fact] public Task Bulk_shapes_and_write_results()
        => (Task)LoadedBulk.Value.Invoke("Scenarios.BulkRun", nameof(Bulk_shapes_and_write_results), null)!;

    [Fact] public Task Coalesce_opt_in_replays_only_the_last_of_consecutive_writes_of_a_key()
        => (Task)LoadedCoalesce.Value.Invoke("Scenarios.CoalesceRun", nameof(Coalesce_opt_in_replays_only_the_last_of_consecutive_writes_of_a_key), null)!;

    [Fact] public Task ApplyManyWith_sends_runs_of_distinct_keys_to_the_multi_row_method()
        => (Task)LoadedApplyMany.Value.Invoke("Scenarios.ApplyManyRun", nameof(ApplyManyWith_sends_runs_of_distinct_keys_to_the_multi_row_method), null)!;
}
