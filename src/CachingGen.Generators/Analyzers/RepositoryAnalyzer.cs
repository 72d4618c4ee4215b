using System.Collections.Immutable;
using CachingGen.Generators.Decorators;
using CachingGen.Generators.Diagnostics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace CachingGen.Generators.Analyzers
{
    /// <summary>
    /// Reports every CachingGen rule on repository interfaces, by running the generator's own parser, and flags
    /// caching attributes that sit where the generator never looks.
    /// </summary>
    [DiagnosticAnalyzer(LanguageNames.CSharp)]
    public sealed class RepositoryAnalyzer : DiagnosticAnalyzer
    {
        /// <inheritdoc/>
        public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(DiagnosticDescriptors.All);

        /// <inheritdoc/>
        public override void Initialize(AnalysisContext context)
        {
            context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
            context.EnableConcurrentExecution();
            context.RegisterSymbolAction(AnalyzeType, SymbolKind.NamedType);
            context.RegisterSymbolAction(AnalyzeMethod, SymbolKind.Method);
        }

        private static void AnalyzeType(SymbolAnalysisContext context)
        {
            var type = (INamedTypeSymbol)context.Symbol;
            if (type.TypeKind != TypeKind.Interface || RepositoryParser.FindAttribute(type, "CachedRepositoryAttribute") is null)
            {
                return;
            }

            var result = RepositoryParser.Parse(type, context.CancellationToken);
            foreach (var diagnostic in result.Diagnostics)
            {
                context.ReportDiagnostic(diagnostic.ToDiagnostic());
            }
        }

        private static void AnalyzeMethod(SymbolAnalysisContext context)
        {
            var method = (IMethodSymbol)context.Symbol;
            var containing = method.ContainingType;
            if (containing is null || (containing.TypeKind == TypeKind.Interface && RepositoryParser.FindAttribute(containing, "CachedRepositoryAttribute") is not null))
            {
                return;
            }

            foreach (var attribute in method.GetAttributes())
            {
                if (attribute.AttributeClass is { } attributeClass
                    && attributeClass.ContainingNamespace is { Name: KnownNames.Namespace, ContainingNamespace.IsGlobalNamespace: true }
                    && KnownNames.StrategyOf(attributeClass.Name) is var strategy && strategy != Strategy.PassThrough)
                {
                    var location = attribute.ApplicationSyntaxReference?.GetSyntax(context.CancellationToken).GetLocation() ?? (method.Locations.Length > 0 ? method.Locations[0] : Location.None);
                    context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.AttributeOutsideRepository, location,
                        KnownNames.DisplayName(strategy), method.Name, containing.Name));
                }
            }
        }
    }
}
