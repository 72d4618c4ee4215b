// Two minimal incremental generators live here as yardsticks; they are never loaded by a compiler, only driven
// in process by this profile, so the rules for shipped compiler extensions do not apply to them.
#pragma warning disable RS1036, RS1041

using System.Diagnostics;
using System.Globalization;
using CachingGen.Generators.Decorators;
using CachingGen.Generators.Formatters;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CachingGen.Benchmarks.Generator;

/// <summary>
/// <c>-- --profile-generator</c>: what an incremental run after an unrelated edit costs, next to what a generator
/// built on <c>ForAttributeWithMetadataName</c> pays for the same edit. Roslyn combines that provider's matches
/// with the new compilation and runs the transform again for every annotated declaration of the project, not only
/// for the edited file; each transform then binds its symbols in the new compilation. Three yardsticks built that way
/// show the cost: a transform that reads only the interface's name; one that also reads every method's return type,
/// parameter types and attributes (what a decorator generator cannot do without); and one that also reads the members
/// of the types those methods store, recursively (what a formatter generator cannot do without). CachingGen's
/// generators start from a declaration snapshot instead, so an edit inside a body leaves them cached; the row "after
/// a declaration edit" shows what they pay when the snapshot changes. The machine is shared, so the contenders take
/// turns, round after round, and each row is a median.
/// </summary>
public static class GeneratorFloorProfile
{
    /// <param name="interfaces">Annotated interfaces in the synthetic project.</param>
    /// <param name="dry">One round only (the dry run), proving the profile still runs.</param>
    public static void Run(int interfaces, bool dry = false)
    {
        var rounds = dry ? 1 : 15;
        var project = new SyntheticProject(interfaces, annotated: true);
        Func<int, SyntaxTree> bodyEdit = SyntheticProject.UnrelatedEdit;
        var contenders = new (string Label, Func<GeneratorDriver> Create, Func<int, SyntaxTree> Edit)[]
        {
            ("CachingGen generators, incremental", GeneratorBenchmarks.CreateDriver, bodyEdit),
            ("  decorator generator alone", () => CreateDriver(new DecoratorGenerator()), bodyEdit),
            ("  formatter generator alone", () => CreateDriver(new FormatterGenerator()), bodyEdit),
            ("  after a declaration edit instead", GeneratorBenchmarks.CreateDriver, SyntheticProject.UnrelatedDeclarationEdit),
            ("floor: transform reads the interface name", () => CreateDriver(new NameOnlyGenerator()), bodyEdit),
            ("floor: transform reads method signatures", () => CreateDriver(new SignaturesGenerator()), bodyEdit),
            ("floor: signatures + the stored types' members", () => CreateDriver(new StoredTypesGenerator()), bodyEdit),
        };

        var compilation = project.CreateCompilation();
        var warm = contenders.Select(contender => contender.Create().RunGenerators(compilation)).ToArray();
        var cold = new List<double>();
        var incremental = contenders.Select(_ => new List<double>()).ToArray();
        var edit = 0;
        for (var round = 0; round < rounds; round++)
        {
            cold.Add(Time(() => GeneratorBenchmarks.CreateDriver().RunGenerators(project.CreateCompilation(newTrees: true))));
            for (var i = 0; i < contenders.Length; i++)
            {
                var edited = compilation.ReplaceSyntaxTree(project.UnrelatedTree, contenders[i].Edit(++edit));
                var driver = warm[i];
                incremental[i].Add(Time(() => warm[i] = driver.RunGenerators(edited)));
            }
        }

        var coldMedian = Median(cold);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[bench] generator profile, {interfaces} interfaces, median of {rounds} rounds, processor time: cold {coldMedian:0.0} ms"));
        for (var i = 0; i < contenders.Length; i++)
        {
            var median = Median(incremental[i]);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[bench]   {contenders[i].Label,-48} {median,8:0.0} ms = {median / coldMedian:P1} of the cold run"));
        }
    }

    /// <summary>The processor time the run took (all threads of this process, so the collector's too): unlike the
    /// wall clock, it barely moves when other processes compete for the cores.</summary>
    private static double Time(Action action)
    {
        using var process = Process.GetCurrentProcess();
        var before = process.TotalProcessorTime;
        action();
        process.Refresh();
        return (process.TotalProcessorTime - before).TotalMilliseconds;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.OrderBy(v => v).ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
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

    private sealed class StoredTypesGenerator : IIncrementalGenerator
    {
        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
            var layouts = context.SyntaxProvider.ForAttributeWithMetadataName(
                "CachingGen.CachedRepositoryAttribute",
                static (node, _) => node is InterfaceDeclarationSyntax,
                static (syntaxContext, _) => Layout((INamedTypeSymbol)syntaxContext.TargetSymbol));
            context.RegisterSourceOutput(layouts, static (_, _) => { });
        }

        private static int Layout(INamedTypeSymbol repository)
        {
            var hash = 0;
            var seen = new HashSet<ITypeSymbol>(SymbolEqualityComparer.Default);
            foreach (var method in repository.GetMembers().OfType<IMethodSymbol>())
            {
                hash = HashCode.Combine(hash, method.GetAttributes().Length);
                hash = HashCode.Combine(hash, Visit(method.ReturnType, seen));
                foreach (var parameter in method.Parameters)
                {
                    hash = HashCode.Combine(hash, Visit(parameter.Type, seen));
                }
            }

            return hash;
        }

        /// <summary>The type, its type arguments and, for a type declared in source, its members' types, attributes
        /// and constant values, its constructors' parameter attributes and its interfaces, recursively.</summary>
        private static int Visit(ITypeSymbol type, HashSet<ITypeSymbol> seen)
        {
            if (!seen.Add(type))
            {
                return 0;
            }

            var hash = type.Name.Length;
            if (type is IArrayTypeSymbol array)
            {
                return HashCode.Combine(hash, Visit(array.ElementType, seen));
            }

            if (type is not INamedTypeSymbol named)
            {
                return hash;
            }

            foreach (var argument in named.TypeArguments)
            {
                hash = HashCode.Combine(hash, Visit(argument, seen));
            }

            if (!named.Locations.Any(location => location.IsInSource))
            {
                return hash;
            }

            hash = HashCode.Combine(hash, named.AllInterfaces.Length);
            foreach (var constructor in named.InstanceConstructors)
            {
                foreach (var parameter in constructor.Parameters)
                {
                    hash = HashCode.Combine(hash, parameter.GetAttributes().Length);
                }
            }

            foreach (var member in named.GetMembers())
            {
                hash = HashCode.Combine(hash, member.GetAttributes().Length);
                switch (member)
                {
                    case IPropertySymbol property:
                        hash = HashCode.Combine(hash, Visit(property.Type, seen));
                        break;
                    case IFieldSymbol field:
                        hash = HashCode.Combine(hash, field.HasConstantValue ? field.ConstantValue : null, Visit(field.Type, seen));
                        break;
                }
            }

            return hash;
        }
    }
}
