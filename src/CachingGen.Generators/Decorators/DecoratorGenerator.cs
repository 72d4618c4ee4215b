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
            var repositories = RepositoryGate.Provide(context, DecoratorTrackingNames.Declarations, DecoratorTrackingNames.Repositories)
                .Select(static (gate, cancellationToken) => gate.Parse(static (repository, _, ct) => RepositoryParser.ParseModel(repository, ct), cancellationToken))
                .Where(static model => model is not null)
                .Select(static (model, _) => model!)
                .WithTrackingName(DecoratorTrackingNames.Models);

            context.RegisterSourceOutput(repositories, static (production, model) =>
            {
                // The emitter formats every number with the invariant culture itself (analyzers may not touch CurrentCulture).
                production.AddSource(model.HintName, DecoratorEmitter.Emit(model));
            });
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

        /// <summary>
        /// One <see cref="RepositoryGate"/> per interface declaration with attributes: Cached after an edit inside a body,
        /// Unchanged after an edit of declarations its parse cannot read. Not a model either (it holds the compilation weakly).
        /// </summary>
        public const string Repositories = "CachingGen.Decorators.Repositories";

        /// <summary>One model per <c>[CachedRepository]</c> interface: what reaches the emitter.</summary>
        public const string Models = "CachingGen.Decorators.Models";
    }
}
