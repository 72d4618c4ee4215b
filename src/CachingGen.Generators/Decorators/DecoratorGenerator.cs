using System.Collections.Immutable;
using System.Threading;
using CachingGen.Generators.Common;
using Microsoft.CodeAnalysis;

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
            var repositories = context.CompilationProvider
                .Select(static (compilation, cancellationToken) => DeclarationSnapshot.Take(compilation, cancellationToken))
                .WithTrackingName(DecoratorTrackingNames.Declarations)
                .SelectMany(static (snapshot, cancellationToken) => Parse(snapshot, cancellationToken))
                .WithTrackingName(DecoratorTrackingNames.Models);

            context.RegisterSourceOutput(repositories, static (production, model) =>
            {
                // The emitter formats every number with the invariant culture itself (analyzers may not touch CurrentCulture).
                production.AddSource(model.HintName, DecoratorEmitter.Emit(model));
            });
        }

        private static ImmutableArray<RepositoryModel> Parse(DeclarationSnapshot snapshot, CancellationToken cancellationToken)
        {
            var models = ImmutableArray.CreateBuilder<RepositoryModel>();
            foreach (var repository in snapshot.FindCachedRepositories(cancellationToken))
            {
                if (RepositoryParser.ParseModel(repository, cancellationToken) is { } model)
                {
                    models.Add(model);
                }
            }

            return models.ToImmutable();
        }
    }

    /// <summary>Names of the decorator generator's tracked pipeline steps, for incremental-caching tests.</summary>
    public static class DecoratorTrackingNames
    {
        /// <summary>
        /// The compilation's <see cref="DeclarationSnapshot"/>: Unchanged after an edit inside a body. It holds the
        /// compilation (weakly), so it is not a model and is left out of the model-graph checks.
        /// </summary>
        public const string Declarations = "CachingGen.Decorators.Declarations";

        /// <summary>One model per <c>[CachedRepository]</c> interface: what reaches the emitter.</summary>
        public const string Models = "CachingGen.Decorators.Models";
    }
}
