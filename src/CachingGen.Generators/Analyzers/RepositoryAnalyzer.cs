using System.Collections.Generic;
using System.Collections.Immutable;
using CachingGen.Generators.Common;
using CachingGen.Generators.Decorators;
using CachingGen.Generators.Diagnostics;
using CachingGen.Generators.Formatters;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace CachingGen.Generators.Analyzers
{
    /// <summary>
    /// Reports every CachingGen rule on repository interfaces, by running the generator's own parser, flags
    /// caching attributes that sit where the generator never looks, compares the key spaces of all repositories of the
    /// compilation (CGEN023) and checks write-back registrations for a durable log (CGEN027).
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
            context.RegisterCompilationStartAction(start =>
            {
                var keySpaces = new KeySpaceConflicts();
                start.RegisterSymbolAction(symbol => AnalyzeType(symbol, keySpaces), SymbolKind.NamedType);
                start.RegisterSymbolAction(AnalyzeMethod, SymbolKind.Method);
                start.RegisterOperationAction(WriteBackLogRegistration.Analyze, OperationKind.Invocation);
                start.RegisterCompilationEndAction(keySpaces.Report);
            });
        }

        private static void AnalyzeType(SymbolAnalysisContext context, KeySpaceConflicts keySpaces)
        {
            var type = (INamedTypeSymbol)context.Symbol;
            if (type.TypeKind != TypeKind.Interface || RepositoryParser.FindAttribute(type, KnownNames.CachedRepository) is null)
            {
                return;
            }

            var reported = new HashSet<DiagnosticInfo>();
            var result = RepositoryParser.Parse(type, context.CancellationToken);
            if (result.Model is { } model)
            {
                keySpaces.Add(type, model);
            }

            foreach (var diagnostic in result.Diagnostics)
            {
                if (reported.Add(diagnostic))
                {
                    context.ReportDiagnostic(InSource(diagnostic, context.Compilation));
                }
            }

            // The serialization rules come from the formatter generator's own parser.
            var formatters = FormatterParser.Parse(type, context.Compilation, context.CancellationToken);
            foreach (var diagnostic in formatters.Diagnostics)
            {
                if (reported.Add(diagnostic))
                {
                    context.ReportDiagnostic(InSource(diagnostic, context.Compilation));
                }
            }

            foreach (var formatted in formatters.Types)
            {
                foreach (var diagnostic in formatted.Diagnostics)
                {
                    if (reported.Add(diagnostic))
                    {
                        context.ReportDiagnostic(InSource(diagnostic, context.Compilation));
                    }
                }
            }
        }

        /// <summary>
        /// Rebuilds the diagnostic at a location inside its syntax tree, so that <c>#pragma warning disable</c>,
        /// <c>[SuppressMessage]</c> and per-file <c>.editorconfig</c> severities apply to it.
        /// </summary>
        private static Diagnostic InSource(DiagnosticInfo info, Compilation compilation)
        {
            if (info.Location is { } location)
            {
                foreach (var tree in compilation.SyntaxTrees)
                {
                    if (tree.FilePath == location.FilePath)
                    {
                        return Diagnostic.Create(info.Descriptor, Location.Create(tree, location.Span), ToArguments(info));
                    }
                }
            }

            return info.ToDiagnostic();
        }

        private static object[] ToArguments(DiagnosticInfo info)
        {
            var arguments = new object[info.MessageArgs.Count];
            for (var i = 0; i < arguments.Length; i++)
            {
                arguments[i] = info.MessageArgs[i];
            }

            return arguments;
        }

        private static void AnalyzeMethod(SymbolAnalysisContext context)
        {
            var method = (IMethodSymbol)context.Symbol;
            var containing = method.ContainingType;

            // Any interface may be the base of a [CachedRepository] interface, whose decorator honours the attributes
            // of inherited methods; only classes and structs can never be decorated.
            if (containing is null || containing.TypeKind == TypeKind.Interface)
            {
                return;
            }

            foreach (var attribute in method.GetAttributes())
            {
                if (attribute.AttributeClass is { } attributeClass
                    && RepositoryParser.IsOurs(attributeClass)
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
