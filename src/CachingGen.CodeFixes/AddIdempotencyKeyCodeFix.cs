using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using CachingGen.Generators.Decorators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CachingGen.CodeFixes
{
    /// <summary>
    /// CGEN013: sets <c>IdempotencyKey = nameof(Entity.Member)</c> on a <c>[WriteBack]</c> method, one action per
    /// version-like member of the entity (first) and per id-like member. Fix All applies the chosen member name to
    /// every method whose entity has it.
    /// </summary>
    [ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(AddIdempotencyKeyCodeFix)), Shared]
    public sealed class AddIdempotencyKeyCodeFix : CodeFixProvider
    {
        /// <summary>The prefix of every equivalence key of this fix; the member name follows.</summary>
        public const string EquivalenceKeyPrefix = "CGEN013.IdempotencyKey.";

        /// <inheritdoc/>
        public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create("CGEN013");

        /// <inheritdoc/>
        public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

        /// <inheritdoc/>
        public override async Task RegisterCodeFixesAsync(CodeFixContext context)
        {
            var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
            var model = await context.Document.GetSemanticModelAsync(context.CancellationToken).ConfigureAwait(false);
            if (root is null || model is null)
            {
                return;
            }

            foreach (var diagnostic in context.Diagnostics)
            {
                var method = root.FindToken(diagnostic.Location.SourceSpan.Start).Parent?.AncestorsAndSelf().OfType<MethodDeclarationSyntax>().FirstOrDefault();
                if (method is null || model.GetDeclaredSymbol(method, context.CancellationToken) is not IMethodSymbol symbol)
                {
                    continue;
                }

                var writeBack = AttributeEdits.StrategyAttributes(method, model, context.CancellationToken)
                    .FirstOrDefault(a => a.Strategy == Strategy.WriteBack).Attribute;
                if (writeBack is null || EntityOf(symbol) is not { } entity)
                {
                    continue;
                }

                var entityName = entity.ToMinimalDisplayString(model, method.SpanStart);
                foreach (var member in IdempotencyCandidates.For(entity))
                {
                    var value = "nameof(" + entityName + "." + member + ")";
                    context.RegisterCodeFix(
                        CodeAction.Create(
                            "Use '" + member + "' as the idempotency key",
                            cancellationToken => SetIdempotencyKeyAsync(context.Document, writeBack, value, cancellationToken),
                            EquivalenceKeyPrefix + member),
                        diagnostic);
                }
            }
        }

        private static async Task<Document> SetIdempotencyKeyAsync(Document document, AttributeSyntax attribute, string value, CancellationToken cancellationToken)
        {
            var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
            return document.WithSyntaxRoot(root!.ReplaceNode(attribute, AttributeEdits.WithNamedArgument(attribute, "IdempotencyKey", value)));
        }

        /// <summary>The written entity: the first parameter whose type has [CacheKey] members.</summary>
        private static ITypeSymbol? EntityOf(IMethodSymbol method)
        {
            foreach (var parameter in method.Parameters)
            {
                var type = RepositoryParser.StripNullable(parameter.Type);
                if (RepositoryParser.KeyMembers(type).Count > 0)
                {
                    return type;
                }
            }

            return null;
        }
    }
}
