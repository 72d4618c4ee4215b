using CachingGen.Generators.Decorators;
using CachingGen.Generators.Tests.Infrastructure;
using Xunit;

namespace CachingGen.Generators.Tests.Decorators;

/// <summary>
/// The decorator repeats each parameter's default value. <c>= default</c> (and <c>= null</c>) of a type without a
/// constant form is read from the syntax (binding the value costs every incremental run), every other default from
/// the bound constant: both paths must write what the constant says.
/// </summary>
public sealed class DefaultValueTests
{
    private const string Source = """
        #nullable enable
        using System;
        using System.Collections.Generic;
        using System.Threading;
        using System.Threading.Tasks;
        using CachingGen;

        namespace Defaults
        {
            public enum Tier : byte { Low, High = 7 }
            public readonly record struct Point(int X, int Y);
            public sealed record Entity([property: CacheKey] long Id);
            public interface IMarker { }

            [CachedRepository]
            public interface IDefaultsRepository
            {
                Task Structs(CancellationToken a = default, Point b = default, Point? c = default, Point? d = null, int? e = default, int? f = null);
                Task References(Entity? a = null, Entity? b = default, IMarker? c = null, List<int>? d = default, object? e = null, string? f = null, string? g = default);
                Task Constants(int a = default, int b = 5, long c = -1, bool d = default, bool e = true, decimal f = default, decimal g = 1.5m, double h = 0.25);
                Task Others(Tier a = default, Tier b = Tier.High, string c = "x\"y", char d = 'q', float e = 2f, DateTime f = default, Guid g = default, uint h = 3u);
                Task Generic<T>(T a = default!, T? b = default) where T : struct;
            }
        }
        """;

    public static TheoryData<string, string, string?> Expected => new()
    {
        { "Structs", "a", "default" },
        { "Structs", "b", "default" },
        { "Structs", "c", "default" },
        { "Structs", "d", "default" },
        { "Structs", "e", "default" },
        { "Structs", "f", "default" },
        { "References", "a", "default" },
        { "References", "b", "default" },
        { "References", "c", "default" },
        { "References", "d", "default" },
        { "References", "e", "default" },
        { "References", "f", "default" },
        { "References", "g", "default" },
        { "Constants", "a", "(int)0" },
        { "Constants", "b", "(int)5" },
        { "Constants", "c", "(long)-1" },
        { "Constants", "d", "false" },
        { "Constants", "e", "true" },
        { "Constants", "f", "0M" },
        { "Constants", "g", "1.5M" },
        { "Constants", "h", "0.25D" },
        { "Others", "a", "(global::Defaults.Tier)0" },
        { "Others", "b", "(global::Defaults.Tier)7" },
        { "Others", "c", "\"x\\\"y\"" },
        { "Others", "d", "'q'" },
        { "Others", "e", "2F" },
        { "Others", "f", "default" },
        { "Others", "g", "default" },
        { "Others", "h", "(uint)3" },
        { "Generic", "a", "default" },
        { "Generic", "b", "default" },
    };

    [Theory]
    [MemberData(nameof(Expected))]
    public void Each_default_is_written_as_its_constant(string method, string parameter, string? expected)
    {
        var compilation = GeneratorHarness.CreateCompilation(Source);
        Assert.Empty(compilation.GetDiagnostics().Where(d => d.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error));
        var model = RepositoryParser.Parse(compilation.GetTypeByMetadataName("Defaults.IDefaultsRepository")!, CancellationToken.None).Model;
        Assert.NotNull(model);

        var written = model!.Members.Single(m => m.Name == method).Parameters.Single(p => p.Name == parameter).DefaultValue;

        Assert.Equal(expected, written);
    }
}
