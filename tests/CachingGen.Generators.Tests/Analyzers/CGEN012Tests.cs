using Xunit;

namespace CachingGen.Generators.Tests.Analyzers;

/// <summary>CGEN012: a write-back method returns a value the database produces.</summary>
public sealed class CGEN012Tests
{
    [Fact]
    public Task Write_back_returning_a_value_is_reported_with_the_formatted_message()
        => Verify.AnalyzerAsync(AnalyzerSamples.Header + """
            [CachedRepository]
            public interface IRepo
            {
                [WriteBack(IdempotencyKey = nameof(Preference.Version))] Task<int> {|#0:UpdateAsync|}(Preference preference);
                [WriteBack(IdempotencyKey = nameof(Preference.Version))] ValueTask<bool> {|#1:ReplaceAsync|}(Preference preference);
            }
            """,
            Verify.Diagnostic("CGEN012").WithLocation(0)
                .WithMessage("'UpdateAsync' is marked [WriteBack] but returns 'System.Threading.Tasks.Task<int>'. A write-back call is acknowledged before the database write happens, so its result does not exist yet. Return Task or ValueTask, or use [WriteThrough]."),
            Verify.Diagnostic("CGEN012").WithLocation(1).WithArguments("ReplaceAsync", "System.Threading.Tasks.ValueTask<bool>"));

    [Fact]
    public Task Write_back_returning_the_saved_entity_or_a_generated_id_is_reported()
        => Verify.AnalyzerAsync(AnalyzerSamples.Header + """
            [CachedRepository]
            public interface IRepo
            {
                [WriteBack(IdempotencyKey = nameof(Preference.Version))] Task<Preference> {|#0:SaveAndReturnAsync|}(Preference preference);
                [WriteBack(IdempotencyKey = nameof(Preference.Version))] ValueTask<long> {|#1:InsertAsync|}(Preference preference);
            }
            """,
            Verify.Diagnostic("CGEN012").WithLocation(0).WithArguments("SaveAndReturnAsync", "System.Threading.Tasks.Task<Sample.Preference>"),
            Verify.Diagnostic("CGEN012").WithLocation(1).WithArguments("InsertAsync", "System.Threading.Tasks.ValueTask<long>"));

    [Fact]
    public Task Near_miss_write_through_may_return_a_value_and_write_back_returns_ValueTask()
        => Verify.NoDiagnosticsExceptAsync(AnalyzerSamples.Header + """
            [CachedRepository]
            public interface IRepo
            {
                [WriteThrough] Task<int> SaveAsync(Preference preference);
                [WriteBack(IdempotencyKey = nameof(Preference.Version))] ValueTask UpdateAsync(Preference preference);
            }
            """, "CGEN022");
}
