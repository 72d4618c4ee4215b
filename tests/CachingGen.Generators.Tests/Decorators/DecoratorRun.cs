using CachingGen.Generators.Decorators;
using CachingGen.Generators.Formatters;
using CachingGen.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Xunit.Sdk;

namespace CachingGen.Generators.Tests.Decorators;

/// <summary>Runs both generators the way a project referencing CachingGen does, and checks the output strictly.</summary>
internal static class DecoratorRun
{
    /// <summary>Both generators: the decorator references the resolver the formatter generator emits.</summary>
    public static IIncrementalGenerator[] Generators => new IIncrementalGenerator[] { new DecoratorGenerator(), new FormatterGenerator() };

    /// <summary>The decorator generator's tracked model steps (the declaration snapshot before them is no model).</summary>
    public static readonly string[] TrackingNames = { DecoratorTrackingNames.Models };

    /// <summary>A compilation of <paramref name="sources"/> plus the implicit usings, nullable enabled, every warning an error.</summary>
    public static Compilation Compile(params string[] sources)
    {
        var compilation = GeneratorHarness.CreateCompilation(new[] { DecoratorSamples.GlobalUsings }.Concat(sources).ToArray());
        return compilation.WithOptions(compilation.Options.WithGeneralDiagnosticOption(ReportDiagnostic.Error));
    }

    /// <summary>Runs both generators over <paramref name="sources"/> (without asserting anything).</summary>
    public static GeneratorResult Run(params string[] sources) => GeneratorHarness.Run(Compile(sources), Generators);

    /// <summary>Runs both generators and asserts a clean result: no generator exception, no generator diagnostic,
    /// no error anywhere and no warning (reported as an error here) in generated code. The only diagnostic user
    /// code may have is CS1591 (the test sources carry no documentation comments).</summary>
    public static GeneratorResult RunClean(params string[] sources)
    {
        var result = Run(sources);
        AssertClean(result);
        return result;
    }

    /// <summary>See <see cref="RunClean"/>.</summary>
    public static void AssertClean(GeneratorResult result)
    {
        var generated = new HashSet<SyntaxTree>(result.RunResult.GeneratedTrees);
        var problems = result.Exceptions.Select(e => "generator exception: " + e)
            .Concat(result.GeneratorDiagnostics.Select(d => "generator diagnostic: " + d))
            .Concat(result.GeneratedCodeDiagnostics.Select(d => "in generated code: " + d))
            .Concat(result.OutputCompilation.GetDiagnostics()
                .Where(d => d.Severity >= DiagnosticSeverity.Warning)
                .Where(d => d.Location.SourceTree is null || !generated.Contains(d.Location.SourceTree))
                .Where(d => d.Id != "CS1591")
                .Select(d => "in test source: " + d))
            .Distinct()
            .ToList();
        if (problems.Count > 0)
        {
            throw new XunitException("Generated code is not clean:\n" + string.Join("\n", problems)
                + "\n\n" + string.Join("\n\n", result.Sources.Where(s => !s.Key.Contains("Formatter", StringComparison.Ordinal)).Select(s => "// " + s.Key + "\n" + s.Value)));
        }
    }

    /// <summary>The decorator files (hint names not produced by the formatter generator), by hint name.</summary>
    public static IReadOnlyDictionary<string, string> Decorators(GeneratorResult result)
        => result.RunResult.Results
            .Where(r => r.Generator.GetGeneratorType() == typeof(DecoratorGenerator))
            .SelectMany(r => r.GeneratedSources)
            .ToDictionary(s => s.HintName, s => s.SourceText.ToString(), StringComparer.Ordinal);
}
