using System.Threading;
using CachingGen.Generators.Common;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CachingGen.Generators.Decorators
{
    /// <summary>
    /// Emits one caching decorator per <c>[CachedRepository]</c> interface. Rule violations are reported by
    /// <see cref="Analyzers.RepositoryAnalyzer"/>, which runs the same parser; an interface with an error gets no
    /// decorator, so the diagnostic is the only thing the user sees about it.
    /// </summary>
    [Generator(LanguageNames.CSharp)]
    public sealed class DecoratorGenerator : IIncrementalGenerator
    {
        /// <inheritdoc/>
        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
            var repositories = context.SyntaxProvider
                .ForAttributeWithMetadataName(
                    KnownNames.CachedRepositoryAttribute,
                    static (node, _) => node is InterfaceDeclarationSyntax,
                    static (syntaxContext, cancellationToken) => Parse(syntaxContext, cancellationToken))
                .WithTrackingName(DecoratorTrackingNames.Parse)
                .Where(static model => model is not null)
                .Select(static (model, _) => model!)
                .WithTrackingName(DecoratorTrackingNames.Models);

            context.RegisterSourceOutput(repositories, static (production, model) =>
            {
                // The emitter formats every number with the invariant culture itself (analyzers may not touch CurrentCulture).
                production.AddSource(model.HintName, DecoratorEmitter.Emit(model));
            });
        }

        private static RepositoryModel? Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
        {
            if (context.TargetSymbol is not INamedTypeSymbol repository)
            {
                return null;
            }

            return RepositoryParser.ParseModel(repository, cancellationToken);
        }
    }

    /// <summary>Names of the decorator generator's tracked pipeline steps, for incremental-caching tests.</summary>
    public static class DecoratorTrackingNames
    {
        /// <summary>The parse step: interface symbol to model.</summary>
        public const string Parse = "CachingGen.Decorators.Parse";

        /// <summary>The models that reach the emitter.</summary>
        public const string Models = "CachingGen.Decorators.Models";
    }
}
