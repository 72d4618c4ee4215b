using Xunit;

namespace CachingGen.Generators.Tests.Analyzers;

/// <summary>CGEN030: ApplyManyWith on a write-back method that takes more than the entity.</summary>
public sealed class CGEN030Tests
{
    [Fact]
    public Task A_write_back_method_with_other_arguments_is_reported_on_the_argument()
        => Verify.AnalyzerAsync(AnalyzerSamples.Header + """
            [CachedRepository]
            public interface IRepo
            {
                [WriteBack(IdempotencyKey = nameof(Preference.Version), {|#0:ApplyManyWith = nameof(UpdateManyAsync)|})]
                Task UpdateAsync(Preference preference, string reason, CancellationToken ct = default);
                Task UpdateManyAsync(IReadOnlyList<Preference> preferences, CancellationToken ct = default);
            }
            """,
            Verify.Diagnostic("CGEN030").WithLocation(0)
                .WithMessage("[WriteBack(ApplyManyWith = \"UpdateManyAsync\")] on 'UpdateAsync': 'UpdateAsync' takes 2 arguments besides the cancellation token (Sample.Preference preference, string reason), but a multi-row call passes only the entities. Move the other arguments into the entity, or remove ApplyManyWith."));

    [Fact]
    public Task Near_miss_the_same_method_without_ApplyManyWith_is_fine()
        => Verify.NoDiagnosticsAsync(AnalyzerSamples.Header + """
            [CachedRepository]
            public interface IRepo
            {
                [WriteBack(IdempotencyKey = nameof(Preference.Version))] Task UpdateAsync(Preference preference, string reason, CancellationToken ct = default);
                [WriteBack(IdempotencyKey = nameof(Preference.Version), ApplyManyWith = nameof(UpdateManyAsync))] Task ReplaceAsync(Preference preference, CancellationToken ct = default);
                Task UpdateManyAsync(IReadOnlyList<Preference> preferences, CancellationToken ct = default);
            }
            """);
}
