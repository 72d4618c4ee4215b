using Xunit;

namespace CachingGen.Generators.Tests.Analyzers;

/// <summary>CGEN029: the method ApplyManyWith names cannot take a run of the write-back method's entities.</summary>
public sealed class CGEN029Tests
{
    [Fact]
    public Task Every_wrong_shape_is_reported_on_the_argument_with_what_is_wrong()
        => Verify.AnalyzerAsync(AnalyzerSamples.Header + """
            public sealed record Other([property: CacheKey] long Id);

            [CachedRepository]
            public interface IRepo
            {
                [WriteBack(IdempotencyKey = nameof(Preference.Version), {|#0:ApplyManyWith = nameof(OfOthers)|})] Task A(Preference preference);
                [WriteBack(IdempotencyKey = nameof(Preference.Version), {|#1:ApplyManyWith = nameof(WithExtra)|})] Task B(Preference preference);
                [WriteBack(IdempotencyKey = nameof(Preference.Version), {|#2:ApplyManyWith = nameof(Synchronous)|})] Task C(Preference preference);
                [WriteBack(IdempotencyKey = nameof(Preference.Version), {|#3:ApplyManyWith = nameof(ReturnsCount)|})] Task D(Preference preference);
                [WriteBack(IdempotencyKey = nameof(Preference.Version), {|#4:ApplyManyWith = nameof(ConcreteList)|})] Task E(Preference preference);
                [WriteBack(IdempotencyKey = nameof(Preference.Version), {|#5:ApplyManyWith = nameof(OneEntity)|})] Task F(Preference preference);
                [WriteBack(IdempotencyKey = nameof(Preference.Version), {|#6:ApplyManyWith = nameof(NoCollection)|})] Task G(Preference preference);
                [WriteBack(IdempotencyKey = nameof(Preference.Version), {|#7:ApplyManyWith = nameof(Generic)|})] Task H(Preference preference);
                Task OfOthers(IReadOnlyList<Other> others);
                Task WithExtra(IReadOnlyList<Preference> preferences, bool upsert, CancellationToken ct = default);
                void Synchronous(IReadOnlyList<Preference> preferences);
                Task<int> ReturnsCount(IReadOnlyList<Preference> preferences);
                Task ConcreteList(List<Preference> preferences);
                Task OneEntity(Preference preference);
                Task NoCollection(CancellationToken ct);
                Task Generic<T>(IReadOnlyList<Preference> preferences);
            }
            """,
            Verify.Diagnostic("CGEN029").WithLocation(0)
                .WithMessage("[WriteBack(ApplyManyWith = \"OfOthers\")] on 'A': 'OfOthers' takes a collection of 'Sample.Other', not of 'Sample.Preference'. A multi-row method takes one collection of 'Sample.Preference' that an array converts to (IReadOnlyList<Sample.Preference>, IReadOnlyCollection<Sample.Preference>, IEnumerable<Sample.Preference>, IList<Sample.Preference>, ICollection<Sample.Preference> or Sample.Preference[]), optionally a CancellationToken, and returns Task or ValueTask."),
            Verify.Diagnostic("CGEN029").WithLocation(1).WithArguments("WithExtra", "B", "takes other parameters besides the collection and a CancellationToken (bool upsert)", "Sample.Preference"),
            Verify.Diagnostic("CGEN029").WithLocation(2).WithArguments("Synchronous", "C", "returns 'void'", "Sample.Preference"),
            Verify.Diagnostic("CGEN029").WithLocation(3).WithArguments("ReturnsCount", "D", "returns 'System.Threading.Tasks.Task<int>'", "Sample.Preference"),
            Verify.Diagnostic("CGEN029").WithLocation(4).WithArguments("ConcreteList", "E",
                "takes 'System.Collections.Generic.List<Sample.Preference>', which an array does not convert to (the flusher passes an array)", "Sample.Preference"),
            Verify.Diagnostic("CGEN029").WithLocation(5).WithArguments("OneEntity", "F", "takes 'Sample.Preference', which is not a collection", "Sample.Preference"),
            Verify.Diagnostic("CGEN029").WithLocation(6).WithArguments("NoCollection", "G", "takes no collection parameter", "Sample.Preference"),
            Verify.Diagnostic("CGEN029").WithLocation(7).WithArguments("Generic", "H", "is generic", "Sample.Preference"));

    [Fact]
    public Task Near_miss_every_accepted_collection_with_or_without_a_token_and_an_overload_that_fits()
        => Verify.NoDiagnosticsAsync(AnalyzerSamples.Header + """
            [CachedRepository]
            public interface IRepo
            {
                [WriteBack(IdempotencyKey = nameof(Preference.Version), ApplyManyWith = nameof(ReadOnlyList))] Task A(Preference preference);
                [WriteBack(IdempotencyKey = nameof(Preference.Version), ApplyManyWith = nameof(ReadOnlyCollection))] Task B(Preference preference);
                [WriteBack(IdempotencyKey = nameof(Preference.Version), ApplyManyWith = nameof(Enumerable))] Task C(Preference preference);
                [WriteBack(IdempotencyKey = nameof(Preference.Version), ApplyManyWith = nameof(Array))] Task D(Preference preference);
                [WriteBack(IdempotencyKey = nameof(Preference.Version), ApplyManyWith = nameof(Overloaded))] Task E(Preference preference, CancellationToken ct = default);
                Task ReadOnlyList(IReadOnlyList<Preference> preferences, CancellationToken ct = default);
                ValueTask ReadOnlyCollection(IReadOnlyCollection<Preference> preferences);
                Task Enumerable(CancellationToken ct, IEnumerable<Preference> preferences);
                Task Array(Preference[] preferences);
                Task Overloaded(Preference preference);
                Task Overloaded(IList<Preference> preferences, CancellationToken ct);
            }
            """);
}
