using System.Collections.Generic;
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
    /// <summary>CGEN007: keep one of the method's strategy attributes and remove the others, one action per strategy.</summary>
    [ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(KeepOneStrategyCodeFix)), Shared]
    public sealed class KeepOneStrategyCodeFix : CodeFixProvider
    {
        /// <summary>The prefix of every equivalence key of this fix; the kept strategy follows.</summary>
        public const string EquivalenceKeyPrefix = "CGEN007.Keep.";

        /// <inheritdoc/>
        public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create("CGEN007");

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
                if (method is null)
                {
                    continue;
                }

                var strategies = AttributeEdits.StrategyAttributes(method, model, context.CancellationToken);
                if (strategies.Count < 2)
                {
                    continue;
                }

                foreach (var (kept, strategy) in strategies)
                {
                    var removed = new HashSet<AttributeSyntax>(strategies.Where(s => s.Attribute != kept).Select(s => s.Attribute));
                    var name = KnownNames.DisplayName(strategy);
                    context.RegisterCodeFix(
                        CodeAction.Create("Keep only [" + name + "]",
                            cancellationToken => KeepAsync(context.Document, method, removed, cancellationToken),
                            EquivalenceKeyPrefix + name),
                        diagnostic);
                }
            }
        }

        private static async Task<Document> KeepAsync(Document document, MethodDeclarationSyntax method, ICollection<AttributeSyntax> removed, CancellationToken cancellationToken)
        {
            var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
            return document.WithSyntaxRoot(root!.ReplaceNode(method, AttributeEdits.WithoutAttributes(method, removed)));
        }
    }
}
