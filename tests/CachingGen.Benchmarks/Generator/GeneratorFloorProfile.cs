// Two minimal incremental generators live here as yardsticks; they are never loaded by a compiler, only driven
// in process by this profile, so the rules for shipped compiler extensions do not apply to them.
#pragma warning disable RS1036, RS1041

using System.Diagnostics;
using System.Globalization;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CachingGen.Benchmarks.Generator;

/// <summary>
/// <c>-- --profile-generator</c>: what an incremental run after an unrelated edit costs, next to what any generator
/// built on <c>ForAttributeWithMetadataName</c> must pay for the same edit. Roslyn combines the attribute matches
/// with the new compilation and runs the transform again for every annotated declaration of the project, not only
/// for the edited file; each transform then binds its symbols in the new compilation. Two yardsticks show that floor:
/// a transform that reads only the interface's name, and one that also reads every method's return type, parameter
/// types and attributes (what a decorator generator cannot do without).
/// </summary>
public static class GeneratorFloorProfile
{
    private const int ColdRuns = 3;
    private const int IncrementalRuns = 10;

    public static void Run(int interfaces)
    {
        var project = new SyntheticProject(interfaces, annotated: true);
        var cold = Measure(project, GeneratorBenchmarks.CreateDriver, out var incremental);
        Measure(project, () => CreateDriver(new NameOnlyGenerator()), out var nameOnly);
        Measure(project, () => CreateDriver(new SignaturesGenerator()), out var signatures);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[bench] generator profile, {interfaces} interfaces: cold {cold:0.0} ms"));
        Print("CachingGen generators, incremental", incremental, cold);
        Print("floor: transform reads the interface name", nameOnly, cold);
        Print("floor: transform reads method signatures", signatures, cold);
    }

    private static void Print(string label, double milliseconds, double cold)
        => Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[bench]   {label,-45} {milliseconds,8:0.0} ms = {milliseconds / cold:P1} of the cold run"));

    /// <summary>The mean cold run (new driver, new compilation) and, in <paramref name="incremental"/>, the mean run of
    /// the warm driver after an edit of the unrelated file, the way <see cref="GeneratorBenchmarks"/> measures them.</summary>
    private static double Measure(SyntheticProject project, Func<GeneratorDriver> createDriver, out double incremental)
    {
        var compilation = project.CreateCompilation();
        var warm = createDriver().RunGenerators(compilation);
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < ColdRuns; i++)
        {
            createDriver().RunGenerators(project.CreateCompilation());
        }

        var cold = clock.Elapsed.TotalMilliseconds / ColdRuns;
        clock.Restart();
        for (var i = 0; i < IncrementalRuns; i++)
        {
            warm.RunGenerators(compilation.ReplaceSyntaxTree(project.UnrelatedTree, SyntheticProject.UnrelatedEdit(i + 1)));
        }

        incremental = clock.Elapsed.TotalMilliseconds / IncrementalRuns;
        return cold;
    }

    private static GeneratorDriver CreateDriver(IIncrementalGenerator generator) => CSharpGeneratorDriver.Create(
        new[] { generator.AsSourceGenerator() },
        parseOptions: SyntheticProject.ParseOptions,
        driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: false));

    private sealed class NameOnlyGenerator : IIncrementalGenerator
    {
        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
            var names = context.SyntaxProvider.ForAttributeWithMetadataName(
                "CachingGen.CachedRepositoryAttribute",
                static (node, _) => node is InterfaceDeclarationSyntax,
                static (syntaxContext, _) => syntaxContext.TargetSymbol.Name);
            context.RegisterSourceOutput(names, static (_, _) => { });
        }
    }

    private sealed class SignaturesGenerator : IIncrementalGenerator
    {
        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
            var signatures = context.SyntaxProvider.ForAttributeWithMetadataName(
                "CachingGen.CachedRepositoryAttribute",
                static (node, _) => node is InterfaceDeclarationSyntax,
                static (syntaxContext, _) => Signature((INamedTypeSymbol)syntaxContext.TargetSymbol));
            context.RegisterSourceOutput(signatures, static (_, _) => { });
        }

        private static int Signature(INamedTypeSymbol repository)
        {
            var hash = 0;
            foreach (var method in repository.GetMembers().OfType<IMethodSymbol>())
            {
                hash = HashCode.Combine(hash, method.ReturnType.Name, method.GetAttributes().Length);
                foreach (var parameter in method.Parameters)
                {
                    hash = HashCode.Combine(hash, parameter.Type.Name);
                }
            }

            return hash;
        }
    }
}
