using Xunit;

namespace CachingGen.Generators.Tests.Analyzers;

/// <summary>CGEN028: ApplyManyWith names no method of the repository interface (an error on the named argument).</summary>
public sealed class CGEN028Tests
{
    [Fact]
    public Task A_missing_or_misspelled_multi_row_method_is_reported_on_the_argument()
        => Verify.AnalyzerAsync(AnalyzerSamples.Header + """
            [CachedRepository]
            public interface IRepo
            {
                [WriteBack(IdempotencyKey = nameof(Preference.Version), {|#0:ApplyManyWith = "UpdateAllAsync"|})] Task UpdateAsync(Preference preference);
                [WriteBack(IdempotencyKey = nameof(Preference.Version), {|#1:ApplyManyWith = nameof(Preference)|})] Task ReplaceAsync(Preference preference);
                Task UpdateManyAsync(IReadOnlyList<Preference> preferences);
            }
            """,
            Verify.Diagnostic("CGEN028").WithLocation(0)
                .WithMessage("[WriteBack(ApplyManyWith = \"UpdateAllAsync\")] on 'UpdateAsync': 'IRepo' has no method named 'UpdateAllAsync'. Declare it on the interface, taking one IReadOnlyList<Sample.Preference> and optionally a CancellationToken and returning Task, and name it with nameof(...)."),
            Verify.Diagnostic("CGEN028").WithLocation(1).WithArguments("Preference", "ReplaceAsync", "IRepo", "Sample.Preference"));

    [Fact]
    public Task Near_miss_a_method_of_the_interface_or_of_a_base_interface_is_found()
        => Verify.NoDiagnosticsAsync(AnalyzerSamples.Header + """
            public interface IBulk
            {
                Task ReplaceAllAsync(Preference[] preferences, CancellationToken ct);
            }

            [CachedRepository]
            public interface IRepo : IBulk
            {
                [WriteBack(IdempotencyKey = nameof(Preference.Version), ApplyManyWith = nameof(UpdateManyAsync))] Task UpdateAsync(Preference preference);
                [WriteBack(IdempotencyKey = nameof(Preference.Version), ApplyManyWith = nameof(IBulk.ReplaceAllAsync))] Task ReplaceAsync(Preference preference);
                ValueTask UpdateManyAsync(IReadOnlyList<Preference> preferences);
            }
            """);
}
